import { expect } from 'chai'
import { spawnSync } from 'node:child_process'
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startSshd, type Sshd } from '../support/sshd.ts'
import { npm, packMuster, snapshotTree } from '../support/pack.ts'

/**
 * muster as a user installs it: packed, installed globally into a prefix by
 * root, and run by an unprivileged user (uid 65534) from a directory with no
 * package.json and no node_modules: help, the type-check of a playbook (which
 * needs nothing but muster) and a check against a real sshd. The install
 * directory must come out byte for byte as it went in (no build, no cache).
 */
const NOBODY = 65534
const canRun = process.getuid?.() === 0 && spawnSync('setpriv', ['--version']).status === 0

describe('e2e: a packed muster, installed globally, run by a non-root user', function () {
  this.timeout(400_000)
  let sshd: Sshd
  let work: string
  let prefix: string
  let project: string
  let home: string
  let installed: string

  before(async function () {
    if (!canRun) this.skip() // needs root to install and setpriv to drop to another user
    sshd = await startSshd()
    work = mkdtempSync(join(tmpdir(), 'muster-install-'))
    chmodSync(work, 0o755)
    prefix = join(work, 'prefix')
    await npm(['install', '--global', '--prefix', prefix, await packMuster()], work)
    installed = join(prefix, 'lib', 'node_modules', 'muster')
    project = join(work, 'infra')
    home = join(work, 'home')
    for (const d of [project, home]) mkdirSync(d)
    writeFileSync(join(project, 'site.ts'), [
      "import { playbook, role, directory, file } from 'muster'",
      "const motd = role('motd', (ctx) => {",
      "  const root = ctx.need<string>('root')",
      "  return [directory(root), file(`${root}/motd`, { content: 'hello\\n', mode: '0644' })]",
      '})',
      "export default playbook({ hosts: 'app', roles: [motd] })",
      '',
    ].join('\n'))
    writeFileSync(join(project, 'ill-typed.ts'), [
      "import { playbook, role, file } from 'muster'",
      "const motd = role('motd', () => [file('/tmp/motd', { content: 'hello\\n', mood: '0644' })])",
      "export default playbook({ hosts: 'app', roles: [motd] })",
      '',
    ].join('\n'))
    writeFileSync(join(project, 'hosts.ini'), [
      '[app]',
      `box ansible_host=127.0.0.1 ansible_port=${sshd.port} ansible_user=root ansible_ssh_private_key_file=./id_box muster_known_hosts=./known_hosts`,
      '',
    ].join('\n'))
    copyFileSync(sshd.clientKeyFile, join(project, 'id_box'))
    copyFileSync(sshd.knownHostsFile, join(project, 'known_hosts'))
    for (const d of [project, home]) {
      for (const f of [d, ...readdirSync(d).map((n) => join(d, n))]) chownSync(f, NOBODY, NOBODY)
    }
  })
  after(async () => {
    await sshd?.stop()
    if (work) rmSync(work, { recursive: true, force: true })
  })

  const asNobody = (args: string[]) => {
    const r = spawnSync('setpriv', ['--reuid', String(NOBODY), '--regid', String(NOBODY), '--clear-groups', join(prefix, 'bin', 'muster'), ...args], {
      cwd: project,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, CI: '1' },
      encoding: 'utf8',
      timeout: 120_000,
    })
    return { code: r.status, out: `${r.stdout}${r.stderr}` }
  }

  it('ships compiled code and declarations only: no sources, tests or build script', () => {
    expect(existsSync(join(installed, 'dist', 'cli.js'))).to.equal(true)
    expect(existsSync(join(installed, 'dist', 'types', 'index.d.ts'))).to.equal(true)
    for (const absent of ['src', 'test', 'scripts', 'roles', 'bench', 'tsconfig.json']) expect(existsSync(join(installed, absent)), absent).to.equal(false)
  })

  it('helps, type-checks and checks as uid 65534, without writing into the install directory', () => {
    const before = snapshotTree(prefix)
    const help = asNobody(['--help'])
    expect(help.code, help.out).to.equal(0)
    expect(help.out).to.contain('muster <command>')

    const bad = asNobody(['check', 'ill-typed.ts', '-i', 'hosts.ini'])
    expect(bad.code, bad.out).to.equal(64)
    expect(bad.out).to.match(/ill-typed\.ts\(2,\d+\): error TS2353: .*'mood' does not exist in type 'FileOptions'/)
    expect(bad.out).not.to.match(/TS2688|TS7016|TS2307/)

    const root = join(work, 'box') // the "host" is this machine, over the test's sshd as root
    const check = asNobody(['check', 'site.ts', '-i', 'hosts.ini', '-e', `root=${root}`])
    expect(check.code, check.out).to.equal(2) // drift: the motd is not there yet
    expect(existsSync(root)).to.equal(false)
    const apply = asNobody(['apply', 'site.ts', '-i', 'hosts.ini', '-e', `root=${root}`])
    expect(apply.code, apply.out).to.equal(0)
    expect(readFileSync(join(root, 'motd'), 'utf8')).to.equal('hello\n')
    const again = asNobody(['check', 'site.ts', '-i', 'hosts.ini', '-e', `root=${root}`])
    expect(again.code, again.out).to.equal(0)

    expect(snapshotTree(prefix)).to.deep.equal(before)
    // the caches went to the user's cache directory, not beside the playbook
    expect(existsSync(join(home, '.cache', 'muster', 'modules'))).to.equal(true)
    expect(existsSync(join(home, '.cache', 'muster', 'typecheck'))).to.equal(true)
    expect(readdirSync(project).sort()).to.deep.equal(['.muster', 'hosts.ini', 'id_box', 'ill-typed.ts', 'known_hosts', 'site.ts'])
  })

  it('runs a scenario the project writes for its own role (`muster test`, issue 17), as uid 65534', () => {
    const root = join(work, 'scenario-box')
    const file = join(project, 'motd.scenario.ts')
    writeFileSync(file, [
      "import { defineInventory, role, directory, file } from 'muster'",
      "import { defineScenario, sideEffects } from 'muster/testing'",
      `const root = ${JSON.stringify(root)}`,
      "const motd = role('motd', () => [directory(root), file(`${root}/motd`, { content: 'hello\\n', mode: '0644' })])",
      'export default defineScenario({',
      "  name: 'motd',",
      `  hosts: { inventory: defineInventory({ hosts: { box: { address: '127.0.0.1', port: ${sshd.port}, user: 'root', identityFile: ${JSON.stringify(join(project, 'id_box'))}, knownHosts: ${JSON.stringify(join(project, 'known_hosts'))} } } }) },`,
      '  roles: [motd],',
      "  sideEffects: [sideEffects.deleteFile('box', `${root}/motd`)],",
      "  verify: (h) => [h('box').file(`${root}/motd`).contains('hello'), h('box').file(`${root}/motd`).mode('0644')],",
      '})',
      '',
    ].join('\n'))
    chownSync(file, NOBODY, NOBODY)
    const r = asNobody(['test', 'motd.scenario.ts'])
    expect(r.code, r.out).to.equal(0)
    expect(r.out).to.include('ok   motd: check finds side effect box: delete').and.include('muster test: 1 of 1 scenarios held')
  })
})
