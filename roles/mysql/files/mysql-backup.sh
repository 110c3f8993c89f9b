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
stamp=$(date -u +%Y%m%dT%H%M%SZ)
work="$dir/.partial-$stamp"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work"
dbs=$(mariadb -N -B -e "SELECT schema_name FROM information_schema.schemata WHERE schema_name NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys') ORDER BY schema_name")
for db in $dbs; do
  # --single-transaction: a consistent InnoDB snapshot without locking writers out
  mariadb-dump --single-transaction --routines --events --triggers --hex-blob "$db" | gzip -c > "$work/$db.sql.gz"
done
mv "$work" "$dir/$stamp"
trap - EXIT
# the newest $keep runs stay
ls -1d "$dir"/2*/ 2>/dev/null | sort | head -n "-$keep" | xargs -r rm -rf --
if [ -d "$metrics" ]; then
  bytes=$(du -sb "$dir/$stamp" | cut -f1)
  tmp="$metrics/mysql_backup.prom.$$"
  {
    echo '# HELP mysql_backup_last_success_timestamp_seconds When the newest whole backup finished.'
    echo '# TYPE mysql_backup_last_success_timestamp_seconds gauge'
    echo "mysql_backup_last_success_timestamp_seconds $(date +%s)"
    echo '# HELP mysql_backup_last_bytes Size of the newest backup.'
    echo '# TYPE mysql_backup_last_bytes gauge'
    echo "mysql_backup_last_bytes $bytes"
  } > "$tmp" && chmod 0644 "$tmp" && mv -f "$tmp" "$metrics/mysql_backup.prom"
fi
echo "backup $dir/$stamp: $(echo $dbs | wc -w) databases"
