#!/bin/sh
# Managed by muster (roles/monitoring): MariaDB's replication state as Prometheus
# metrics, for node-exporter's textfile collector. Run by mysql-replication-metrics.timer.
# Root reads the server over its unix socket: no password anywhere.
set -u
dir=/var/lib/prometheus/node-exporter
out=$dir/mysql_replication.prom
tmp=$out.$$.tmp
trap 'rm -f "$tmp"' EXIT
{
  echo '# HELP mysql_up Whether the local server answered.'
  echo '# TYPE mysql_up gauge'
  if status=$(mariadb --connect-timeout=3 -e 'SHOW SLAVE STATUS\G' 2>/dev/null); then
    echo 'mysql_up 1'
    printf '%s\n' "$status" | awk -F': ' '
      { gsub(/^ +/, "", $1) }
      $1 == "Slave_IO_Running" { io = ($2 == "Yes") }
      $1 == "Slave_SQL_Running" { sql = ($2 == "Yes") }
      $1 == "Seconds_Behind_Master" { lag = $2 }
      $1 == "Master_Host" { configured = 1 }
      END {
        print "# HELP mysql_replica_configured Whether this server replicates from a primary."
        print "# TYPE mysql_replica_configured gauge"
        print "mysql_replica_configured " (configured ? 1 : 0)
        if (!configured) exit
        print "# HELP mysql_replica_io_running Whether the IO thread runs."
        print "# TYPE mysql_replica_io_running gauge"
        print "mysql_replica_io_running " (io ? 1 : 0)
        print "# HELP mysql_replica_sql_running Whether the SQL thread runs."
        print "# TYPE mysql_replica_sql_running gauge"
        print "mysql_replica_sql_running " (sql ? 1 : 0)
        if (lag != "" && lag != "NULL") {
          print "# HELP mysql_replica_lag_seconds Seconds_Behind_Master."
          print "# TYPE mysql_replica_lag_seconds gauge"
          print "mysql_replica_lag_seconds " lag
        }
      }'
  else
    echo 'mysql_up 0'
  fi
} > "$tmp" && chmod 0644 "$tmp" && mv -f "$tmp" "$out"
