// The baseline and the reference stack in one run: every host probed once for both.
//   npx muster check playbooks/fleet.ts -i inventory/lab.ts
import { playbook } from 'muster'
import baseline from './baseline.ts'
import site from './site.ts'

export default playbook(...baseline.plays, ...site.plays)
