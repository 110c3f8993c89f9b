// A rolling deploy of the app to the web hosts, one at a time, through HAProxy:
//   npx muster deploy playbooks/deploy.ts -i inventory/lab.ts [--release DIR|GIT-REF]
//   npx muster rollback playbooks/deploy.ts -i inventory/lab.ts
// Vars (-e): keepReleases (5), healthTimeout / drainTimeout (30 s),
// preSwitchCheck (true), appCheckPort (appPort + 1).
import { playbook } from 'muster'
import { appDeploy, takeDeployLock, releaseDeployLock } from '../roles/app/deploy.ts'

export default playbook(
  // every host at once, and any refusal stops the run: two deploys never interleave
  { name: 'take the deploy lock', hosts: 'web', roles: [takeDeployLock], maxFailPercentage: 0, gatherFacts: false },
  // one host at a time; the first failure (already rolled back on its host) stops the rollout
  { name: 'rolling deploy', hosts: 'web', roles: [appDeploy], serial: 1, maxFailPercentage: 0, gatherFacts: false },
  // however the run ended: stopped, failed or interrupted (Ctrl-C)
  { name: 'release the deploy lock', hosts: 'web', roles: [releaseDeployLock], always: true, gatherFacts: false },
)
