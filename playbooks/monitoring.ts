// Monitoring for the reference stack, applied after playbooks/site.ts:
//   npx muster apply playbooks/monitoring.ts -i inventory/lab.ts
// A playbook of its own: the stack runs without it, and it can be applied,
// checked and changed on its own schedule. The firewall rules that let the
// scrapes through are site.ts's (roles/firewall reads the `monitoring` group).
import { playbook, role, aptUpdate } from 'muster'
import { nodeExporter, replicationMetrics, prometheus, alertmanager } from '../roles/monitoring/index.ts'

const packages = role('packages', () => [aptUpdate({ maxAgeSeconds: 86400 })])

export default playbook(
  { name: 'exporters', hosts: 'all', roles: [packages, nodeExporter] },
  { name: 'replication metrics', hosts: 'db', roles: [replicationMetrics] },
  // alerts go out only when alertWebhooks says where (Alertmanager beside Prometheus)
  { name: 'prometheus', hosts: 'monitoring', roles: [packages, prometheus, alertmanager] },
)
