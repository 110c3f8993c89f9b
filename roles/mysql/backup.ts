// Backups of the stack's data: a replica is not a backup (a DROP TABLE on the
// primary reaches every replica in a second). A systemd timer dumps each
// database on the hosts this role is given (a replica, so the primary does not
// pay for it), keeps the newest few, and leaves a metric the monitoring role
// alerts on when backups stop. Written with muster's public API only.
import { readFileSync } from 'node:fs'
import { role, roleVar, directory, file, systemdUnitFile, service, restart } from 'muster'

export const BACKUP_SCRIPT = '/usr/local/lib/muster/mysql-backup'

export const mysqlBackupVars = {
  mysqlBackupDir: roleVar.string({ default: '/var/backups/mysql', description: 'where each run leaves <UTC time>/<db>.sql.gz (root only)' }),
  mysqlBackupKeep: roleVar.integer({ default: 7, description: 'how many runs are kept' }),
  mysqlBackupSchedule: roleVar.string({ default: 'daily', description: 'when a run starts (systemd OnCalendar)' }),
  mysqlBackupJitter: roleVar.string({ default: '30min', description: 'random delay before a run (systemd RandomizedDelaySec)' }),
  mysqlBackupTimeout: roleVar.string({ default: '6h', description: 'a run that takes longer fails' }),
}

export const mysqlBackup = role('mysql-backup', { vars: mysqlBackupVars, description: 'a daily dump of each database, the newest few kept, with metrics for alerts' }, (ctx) => {
  const dir = ctx.vars.mysqlBackupDir
  const keep = ctx.vars.mysqlBackupKeep
  if (!Number.isInteger(keep) || keep < 1) throw new Error(`mysqlBackupKeep must be a whole number of runs >= 1, got ${JSON.stringify(keep)}`)
  // it is handed to a script that deletes old runs in it: nothing a shell or systemd could split
  if (!/^\/[A-Za-z0-9._/-]+$/.test(dir) || dir.split('/').includes('..')) throw new Error(`mysqlBackupDir must be an absolute path of letters, digits, '.', '_', '-' and '/', got ${JSON.stringify(dir)}`)
  const restartTimer = restart('mysql-backup.timer')
  return [
    directory('/usr/local/lib/muster', { mode: '0755', owner: 'root', group: 'root' }),
    file(BACKUP_SCRIPT, { content: readFileSync(new URL('./files/mysql-backup.sh', import.meta.url)), mode: '0755', owner: 'root', group: 'root' }),
    // dumps hold every row of the application: root's only
    directory(dir, { mode: '0700', owner: 'root', group: 'root' }),
    systemdUnitFile('mysql-backup.service', {
      source: new URL('./templates/mysql-backup.service.ejs', import.meta.url),
      vars: { host: ctx.name, dir, keep, script: BACKUP_SCRIPT, timeout: ctx.vars.mysqlBackupTimeout },
    }),
    systemdUnitFile('mysql-backup.timer', {
      source: new URL('./templates/mysql-backup.timer.ejs', import.meta.url),
      vars: {
        host: ctx.name,
        schedule: ctx.vars.mysqlBackupSchedule,
        jitter: ctx.vars.mysqlBackupJitter,
      },
      notify: restartTimer,
    }),
    service('mysql-backup.timer', { running: true, enabled: true }),
  ]
})
