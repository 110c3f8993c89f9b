import { expect } from 'chai'
import { execFile } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { ensureLab, onHost } from '../support/lab.ts'
import { muster } from '../support/cli.ts'
import { npm, packMuster } from '../support/pack.ts'
import { labFiles } from '../../src/lab/layout.ts'
import type { LabState } from '../../src/lab/state.ts'

const run = promisify(execFile)

/**
 * Issue 18: a team's own repository, outside this one. `muster init --from`
 * their Ansible inventory scaffolds it, muster is installed into it from a
 * packed tarball (as from the registry), and the scaffolded playbook is
 * checked and applied on lab hosts by that installed muster.
 */
describe('muster init: a new infrastructure repository, muster installed from its tarball (issue 18)', function () {
  let state: LabState
  let work: string
  let project: string

  before(async function () {
    state = await ensureLab(this)
    this.timeout(10 * 60_000)
    work = mkdtempSync(join(tmpdir(), 'muster-init-'))
    const addr = (n: string) => state.hosts.find((h) => h.name === n)!.address
    writeFileSync(join(work, 'hosts'), [
      '[web]',
      `web-01 ansible_host=${addr('web-01')}`,
      '[db]',
      `db-03 ansible_host=${addr('db-03')}`,
      '[all:vars]',
      'ansible_user=root',
      `ansible_ssh_private_key_file=${labFiles.clientKey()}`,
      `muster_known_hosts=${labFiles.knownHosts()}`,
      '',
    ].join('\n'))
    project = join(work, 'infra')
    const init = await muster(['init', project, '--from', join(work, 'hosts')])
    expect(init.code, init.stderr).to.equal(0)
    await npm(['install', '--save-dev', await packMuster()], project)
  })
  after(() => {
    if (work) rmSync(work, { recursive: true, force: true })
  })

  const inProject = async (args: string[]): Promise<{ code: number; out: string }> => {
    try {
      const { stdout, stderr } = await run(join(project, 'node_modules', '.bin', 'muster'), args, { cwd: project, env: { ...process.env, CI: '1' }, timeout: 5 * 60_000 })
      return { code: 0, out: stdout + stderr }
    } catch (err) {
      const e = err as { code?: number; stdout?: string; stderr?: string }
      return { code: typeof e.code === 'number' ? e.code : -1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` }
    }
  }

  it('scaffolds what it says, with the imported inventory', () => {
    expect(readFileSync(join(project, 'inventory', 'hosts.ini'), 'utf8')).to.equal(readFileSync(join(work, 'hosts'), 'utf8'))
    expect(readFileSync(join(project, 'README.md'), 'utf8')).to.contain('npx muster apply playbooks/site.ts -i inventory/hosts.ini')
    expect(readFileSync(join(project, '.gitignore'), 'utf8')).to.contain('node_modules/')
    const pkg = JSON.parse(readFileSync(join(project, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> }
    expect(pkg.devDependencies.muster).to.match(/^file:.*muster-0\.1\.0\.tgz$/)
  })

  it('the installed muster checks (drift), applies, and checks again (in sync) on lab hosts', async function () {
    this.timeout(5 * 60_000)
    const args = (cmd: string) => [cmd, 'playbooks/site.ts', '-i', 'inventory/hosts.ini']
    const before = await inProject(args('check'))
    expect(before.code, before.out).to.equal(2)
    expect(before.out).to.match(/web-01 .*file:\/etc\/motd/)
    const apply = await inProject(args('apply'))
    expect(apply.code, apply.out).to.equal(0)
    for (const h of ['web-01', 'db-03']) expect(await onHost(h, 'cat /etc/motd')).to.equal('This host is managed by muster: changes made by hand will be undone.')
    const after = await inProject(args('check'))
    expect(after.code, after.out).to.equal(0)
    // the caches are the project's, under node_modules/.cache
    expect(readdirSync(join(project, 'node_modules', '.cache', 'muster'))).to.include.members(['modules', 'typecheck'])
  })
})
