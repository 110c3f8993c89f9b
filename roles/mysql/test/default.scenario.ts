// `muster test roles/mysql`: one MariaDB primary on one lab host, with the
// app's database and account (replication needs a second host: the lab's
// replication tests cover it).
import { defineScenario, sideEffects } from 'muster/testing'
import { labSecret } from 'muster/lab'
import { mysql } from '../index.ts'

const host = 'db-03'

export default defineScenario({
  name: 'mysql primary',
  hosts: {
    lab: [host],
    groups: { db_primary: [host] },
    vars: { dbAppPassword: labSecret('db-app-password', 'MUSTER_DB_APP_PASSWORD'), dbReplPassword: labSecret('db-repl-password', 'MUSTER_DB_REPL_PASSWORD') },
    hostVars: { [host]: { mysqlServerId: 3 } },
  },
  roles: [mysql],
  sideEffects: [sideEffects.stopService(host, 'mariadb'), sideEffects.shell(host, 'drop the app database', `mariadb -e 'DROP DATABASE app'`)],
  verify: (h) => [
    h(host).package('mariadb-server').installed,
    h(host).service('mariadb').running,
    h(host).service('mariadb').enabled,
    h(host).port(3306).listening,
    h(host).command(`mariadb -N -e "SHOW DATABASES LIKE 'app'"`).stdoutContains('app'),
    h(host).command(`mariadb -N -e "SELECT user FROM mysql.user WHERE user='app'"`).stdoutContains('app'),
  ],
})
