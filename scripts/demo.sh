#!/usr/bin/env bash
# The main job on the local lab, from a fresh machine (Debian 12, root); the lab's hosts run
# Debian 13 (MUSTER_LAB_SUITE=bookworm for Debian 12):
# install muster's dependencies, boot four bare Debian hosts, provision the
# reference stack on them, show requests answered through the load balancer,
# and add monitoring and backups.
set -euo pipefail
cd "$(dirname "$0")/.."
npm ci --no-audit --no-fund --loglevel=error
node bin/muster.js lab up --suite "${MUSTER_LAB_SUITE:-trixie}"
node bin/muster.js apply playbooks/site.ts -i inventory/lab.ts
echo
lab_dir=${MUSTER_LAB_DIR:-/var/lib/muster/lab$([ "${MUSTER_LAB_ID:-0}" = 0 ] || echo "-$MUSTER_LAB_ID")}
lb=$(node -e 'const s = require(process.argv[1]); console.log(s.hosts.find((h) => h.name === "lb-01").address)' "$lab_dir/state.json")
echo "Through the load balancer (lb-01), over HTTPS verified against the lab's CA:"
for i in 1 2 3 4; do curl -s --cacert "$lab_dir/tls/ca.pem" "https://$lb/"; echo; done
echo "Plain HTTP only redirects:"
curl -s -o /dev/null -w '%{http_code} -> %{redirect_url}\n' "http://$lb/"

echo
echo "Monitoring: Prometheus on db-03, asked which targets are up:"
node bin/muster.js apply playbooks/monitoring.ts -i inventory/lab.ts | tail -1
# the first scrapes take a few seconds: wait until every target has answered once
for _ in $(seq 30); do
  n=$(node bin/muster.js lab ssh db-03 -- "promtool query instant http://localhost:9090 up" | grep -c '=> 1' || true)
  [ "$n" -ge 6 ] && break
  sleep 1
done
node bin/muster.js lab ssh db-03 -- "promtool query instant http://localhost:9090 up"
echo
echo "Backups: a daily dump of each database on db-03; one now:"
node bin/muster.js apply playbooks/backups.ts -i inventory/lab.ts | tail -1
node bin/muster.js lab ssh db-03 -- "systemctl start mysql-backup.service && ls -l /var/backups/mysql/*/"
echo
echo "Converged: a second apply changes nothing (changed=0 on every host), and the drift check is clean:"
second=$(node bin/muster.js apply playbooks/site.ts -i inventory/lab.ts)
echo "$second" | tail -6
# the recap lines ("web-01 : ok=24 changed=0 ..."): any other count of changes is a failed demo, not a footnote
if echo "$second" | grep -E '^[^ ]+ +: ok=' | grep -vq ' changed=0 '; then
  echo "demo: the second apply changed something (above): the stack is not idempotent" >&2
  exit 1
fi
echo
node bin/muster.js check playbooks/site.ts -i inventory/lab.ts | tail -6
