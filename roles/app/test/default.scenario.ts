// `muster test roles/app`: the sample app on one lab host, its first release
// and its unit. No database runs here: the app starts and answers /health
// without one (its pages that read the database are not asserted).
import { defineScenario, sideEffects } from 'muster/testing'
import { labSecret } from 'muster/lab'
import { app } from '../index.ts'

const host = 'web-02'

export default defineScenario({
  name: 'app default',
  hosts: { lab: [host], groups: { db_primary: [host], lb: [] }, vars: { dbAppPassword: labSecret('db-app-password', 'MUSTER_DB_APP_PASSWORD') } },
  roles: [app],
  sideEffects: [sideEffects.stopService(host, 'app'), sideEffects.chmod(host, '/srv/app/shared/app.env', '0644')],
  verify: (h) => [
    h(host).package('nodejs').installed,
    h(host).user('app').exists,
    h(host).service('app').running,
    h(host).service('app').enabled,
    h(host).file('/srv/app/shared/app.env').mode('0600'),
    h(host).file('/srv/app/shared/app.env').owner('app'),
    h(host).port(3000).listening,
  ],
})
