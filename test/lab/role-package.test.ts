import { expect } from 'chai'
import { execFile } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { ensureLab, onHost } from '../support/lab.ts'
import { npm, packMuster } from '../support/pack.ts'
import { repoRoot } from '../support/cli.ts'
import { labFiles } from '../../src/lab/layout.ts'
import type { LabState } from '../../src/lab/state.ts'

const run = promisify(execFile)

/**
 * Issue 18: a role as its own npm package. roles/mysql is packed by
 * scripts/pack-role.mjs (@muster-roles/mysql: TypeScript, templates and files
 * inside, muster as a peer dependency), installed with a packed muster into a fresh project, and
 * its mysql-backup role applied to a lab host from there.
 */
describe('a reference role packed as its own npm package, applied from a fresh project (issue 18)', function () {
  let state: LabState
  let work: string
  let project: string

  before(async function () {
    state = await ensureLab(this)
    this.timeout(10 * 60_000)
    work = mkdtempSync(join(tmpdir(), 'muster-role-pkg-'))
    const { stdout } = await run(process.execPath, [join(repoRoot, 'scripts', 'pack-role.mjs'), join(repoRoot, 'roles', 'mysql'), work])
    const rolePkg = stdout.trim()
    project = join(work, 'infra')
    mkdirSync(join(project, 'playbooks'), { recursive: true })
    writeFileSync(join(project, 'package.json'), '{ "name": "infra", "private": true, "type": "module" }\n')
    await npm(['install', '--save-dev', '--ignore-scripts', await packMuster(), rolePkg], project)
    writeFileSync(join(project, 'playbooks', 'backups.ts'), [
      "import { playbook } from 'muster'",
      "import { mysqlBackup } from '@muster-roles/mysql/backup'",
      "export default playbook({ hosts: 'db_backup', roles: [mysqlBackup] })",
      '',
    ].join('\n'))
    writeFileSync(join(project, 'hosts.ini'), [
      '[db_backup]',
      `db-03 ansible_host=${state.hosts.find((h) => h.name === 'db-03')!.address} mysqlBackupKeep=3 mysqlBackupDir=/var/backups/role-package`,
      '[all:vars]',
      `ansible_ssh_private_key_file=${labFiles.clientKey()}`,
      `muster_known_hosts=${labFiles.knownHosts()}`,
      '',
    ].join('\n'))
  })
  after(async () => {
    if (work) rmSync(work, { recursive: true, force: true })
    if (state) await onHost('db-03', 'systemctl disable --now mysql-backup.timer 2>/dev/null; rm -rf /var/backups/role-package; true').catch(() => undefined)
  })

  const muster = async (args: string[]): Promise<{ code: number; out: string }> => {
    try {
      const { stdout, stderr } = await run(join(project, 'node_modules', '.bin', 'muster'), args, { cwd: project, env: { ...process.env, CI: '1' }, timeout: 5 * 60_000 })
      return { code: 0, out: stdout + stderr }
    } catch (err) {
      const e = err as { code?: number; stdout?: string; stderr?: string }
      return { code: typeof e.code === 'number' ? e.code : -1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` }
    }
  }

  it('its vars are listed from the package, and a wrong one is refused before the host is touched', async function () {
    this.timeout(2 * 60_000)
    const vars = await muster(['vars', 'node_modules/@muster-roles/mysql/backup.ts'])
    expect(vars.code, vars.out).to.equal(0)
    expect(vars.out).to.match(/mysqlBackupKeep +integer +default 7/)
    const bad = await muster(['apply', 'playbooks/backups.ts', '-i', 'hosts.ini', '-e', 'mysqlBackupKeep=three'])
    expect(bad.code, bad.out).to.equal(64)
    expect(bad.out).to.contain('host db-03: role mysql-backup: var "mysqlBackupKeep" must be integer, got the string "three"')
    expect(await onHost('db-03', 'test -e /var/backups/role-package && echo there || echo absent')).to.equal('absent')
  })

  it('applies the packaged role (its templates and files from inside the package), then checks in sync', async function () {
    this.timeout(5 * 60_000)
    const apply = await muster(['apply', 'playbooks/backups.ts', '-i', 'hosts.ini'])
    expect(apply.code, apply.out).to.equal(0)
    expect(await onHost('db-03', 'stat -c %a /var/backups/role-package')).to.equal('700')
    expect(await onHost('db-03', 'systemctl is-active mysql-backup.timer')).to.equal('active')
    expect(await onHost('db-03', 'cat /etc/systemd/system/mysql-backup.service')).to.contain('"MUSTER_BACKUP_DIR=/var/backups/role-package" "MUSTER_BACKUP_KEEP=3"')
    const check = await muster(['check', 'playbooks/backups.ts', '-i', 'hosts.ini'])
    expect(check.code, check.out).to.equal(0)
  })
})
