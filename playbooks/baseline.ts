// What every server gets (roles/baseline), on every host of the inventory:
//   npx muster apply playbooks/baseline.ts -i inventory/lab.ts
// Run it before playbooks/site.ts, or both in one run with playbooks/fleet.ts.
import { playbook } from 'muster'
import { baseline } from '../roles/baseline/index.ts'

export default playbook({ name: 'baseline', hosts: 'all', roles: [baseline] })
