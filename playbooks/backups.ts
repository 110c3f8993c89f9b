// Database backups for the reference stack, applied after playbooks/site.ts:
//   npx muster apply playbooks/backups.ts -i inventory/lab.ts
// Dumps run on the `db_backup` hosts (a replica: the primary does not pay for
// them); playbooks/monitoring.ts alerts when the newest backup is too old.
import { playbook } from 'muster'
import { mysqlBackup } from '../roles/mysql/backup.ts'

export default playbook({ name: 'database backups', hosts: 'db_backup', roles: [mysqlBackup] })
