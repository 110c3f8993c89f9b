#!/bin/bash
# Managed by muster (roles/mysql/backup.ts): one compressed logical dump per
# database, in a directory per run named by its UTC time, the newest KEEP kept.
# A run is written under .partial-* and renamed only when every dump finished,
# so a directory that exists is a whole backup. Root reads the server over its
# unix socket: no password anywhere. Restore one database with
#   zcat /var/backups/mysql/<run>/<db>.sql.gz | mariadb <db>
set -euo pipefail
dir=${MUSTER_BACKUP_DIR:-/var/backups/mysql}
keep=${MUSTER_BACKUP_KEEP:-7}
metrics=${MUSTER_BACKUP_METRICS:-/var/lib/prometheus/node-exporter}
umask 077

# what the monitoring alerts read: when the last run ended and how, and when the newest whole backup did
metric() {
  [ -d "$metrics" ] || return 0
  local ok=$1 out="$metrics/mysql_backup.prom" last bytes=${2:-}
  last=$(sed -n 's/^mysql_backup_last_success_timestamp_seconds //p' "$out" 2>/dev/null || true)
  [ "$ok" = 1 ] && last=$(date +%s)
  {
    echo '# HELP mysql_backup_last_run_success Whether the last backup run finished whole (1) or failed (0).'
    echo '# TYPE mysql_backup_last_run_success gauge'
    echo "mysql_backup_last_run_success $ok"
    echo '# HELP mysql_backup_last_run_timestamp_seconds When the last backup run ended.'
    echo '# TYPE mysql_backup_last_run_timestamp_seconds gauge'
    echo "mysql_backup_last_run_timestamp_seconds $(date +%s)"
    if [ -n "$last" ]; then
      echo '# HELP mysql_backup_last_success_timestamp_seconds When the newest whole backup finished.'
      echo '# TYPE mysql_backup_last_success_timestamp_seconds gauge'
      echo "mysql_backup_last_success_timestamp_seconds $last"
    fi
    if [ -n "$bytes" ]; then
      echo '# HELP mysql_backup_last_bytes Size of the newest backup.'
      echo '# TYPE mysql_backup_last_bytes gauge'
      echo "mysql_backup_last_bytes $bytes"
    fi
  } > "$out.$$" && chmod 0644 "$out.$$" && mv -f "$out.$$" "$out"
}

mkdir -p "$dir"
# one run at a time: a second one waits for the first rather than sharing its directory
exec 9> "$dir/.lock"
flock 9
# anything partial now is from a run that was killed: it holds no whole backup
find "$dir" -mindepth 1 -maxdepth 1 -name '.partial-*' -exec rm -rf -- {} +

stamp=$(date -u +%Y%m%dT%H%M%SZ)
while [ -e "$dir/$stamp" ]; do sleep 1; stamp=$(date -u +%Y%m%dT%H%M%SZ); done
work="$dir/.partial-$stamp"
trap 'rc=$?; rm -rf -- "$work"; [ "$rc" = 0 ] || metric 0' EXIT
mkdir "$work"
# read first: a server that does not answer fails the run here (set -e), not as a backup of nothing
dbs=$(mariadb -N -B -r -e "SELECT schema_name FROM information_schema.schemata WHERE schema_name NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys') ORDER BY schema_name")
count=0
while IFS= read -r db; do
  [ -n "$db" ] || continue
  # --single-transaction: a consistent InnoDB snapshot of the database, without locking writers out
  mariadb-dump --single-transaction --routines --events --triggers --hex-blob -- "$db" | gzip -c > "$work/$db.sql.gz"
  count=$((count + 1))
done <<< "$dbs"
mv -- "$work" "$dir/$stamp"
# the newest $keep runs stay; only directories named like a run are ever removed
find "$dir" -mindepth 1 -maxdepth 1 -type d -name '2???????T??????Z' -print0 | sort -z | head -z -n "-$keep" | xargs -0r rm -rf --
metric 1 "$(du -sb -- "$dir/$stamp" | cut -f1)"
echo "backup $dir/$stamp: $count databases"
