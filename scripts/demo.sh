#!/usr/bin/env bash
# The main job on the local lab, from a fresh machine (Debian 12, root):
# install muster's dependencies, boot four bare Debian hosts, provision the
# reference stack on them, and show requests answered through the load balancer.
set -euo pipefail
cd "$(dirname "$0")/.."
npm ci --no-audit --no-fund --loglevel=error
node bin/muster.js lab up
node bin/muster.js apply playbooks/site.ts -i inventory/lab.ts
echo
echo "Through the load balancer (lb-01):"
for i in 1 2 3 4; do node bin/muster.js lab ssh lb-01 -- curl -s http://localhost/; echo; done
echo
echo "Converged: a second run changes nothing, and the drift check is clean:"
node bin/muster.js check playbooks/site.ts -i inventory/lab.ts | tail -6
