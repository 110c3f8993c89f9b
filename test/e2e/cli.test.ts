import { expect } from 'chai'
import { readFileSync, statSync, writeFileSync, readlinkSync } from 'node:fs'
import { scratchDirs } from '../support/scratch.ts'
import { join } from 'node:path'
import { startSshd, type SshdHandle } from '../support/sshd.ts'
import { muster, repoRoot } from '../support/cli.ts'
import { spawn } from 'node:child_process'

const PB = 'test/fixtures/e2e/playbook.ts'
const INV = 'test/fixtures/e2e/inventory.ts'

describe('e2e: the CLI against a real sshd on loopback', function () {
  this.timeout(120_000)
  const tmp = scratchDirs()
  let sshd: SshdHandle
  let root: string
  let env: Record<string, string>
  let state: string

  before(async () => {
    sshd = await startSshd()
    root = tmp.make('muster-e2e-root-')
    state = tmp.make('muster-e2e-state-')
    env = { E2E_PORT: String(sshd.port), E2E_KEY: sshd.clientKeyFile, E2E_KNOWN_HOSTS: sshd.knownHostsFile, MUSTER_STATE_DIR: state }
  })
  after(async () => {
    await sshd?.stop()
    tmp.removeAll()
  })

  const apply = (...extra: string[]) => muster(['apply', PB, '-i', INV, '--limit', 'box', '-e', `root=${root}`, '--json', ...extra], env)
  const check = (...extra: string[]) => muster(['check', PB, '-i', INV, '--limit', 'box', '-e', `root=${root}`, ...extra], env)

  it('first apply changes everything and the files are really there', async () => {
    const r = await apply()
    expect(r.code, r.stderr + r.stdout).to.equal(0)
    expect(r.recap!.hosts.box!.changed).to.equal(7)
    expect(readFileSync(join(root, 'etc/motd'), 'utf8')).to.equal('managed by muster\n')
    expect(statSync(join(root, 'etc/secret.conf')).mode & 0o777).to.equal(0o600)
    expect(readFileSync(join(root, 'etc/app.conf'), 'utf8')).to.contain('greeting = hello\nworkers = 4')
    expect(readlinkSync(join(root, 'current'))).to.equal(join(root, 'etc'))
    expect(readFileSync(join(root, 'etc/hosts.extra'), 'utf8')).to.equal('10.0.0.1 db\n')
  })

  it('second apply reports changed=0 in one probe batch, and check exits 0', async () => {
    const stamp = readFileSync(join(root, 'stamp'), 'utf8')
    const r = await apply('-v')
    expect(r.code, r.stderr).to.equal(0)
    expect(r.recap!.hosts.box!.changed).to.equal(0)
    expect(r.recap!.hosts.box!.ok).to.equal(7)
    expect(r.recap!.hosts.box!.probeBatches).to.equal(1)
    expect(readFileSync(join(root, 'stamp'), 'utf8')).to.equal(stamp)
    const c = await check()
    expect(c.code, c.stdout + c.stderr).to.equal(0)
    expect(c.stdout).to.match(/box\s+: ok=7 changed=0 unreachable=0 failed=0/)
  })

  it('a file edited by hand is drift: check exits 2 with the diff, apply fixes exactly it', async () => {
    writeFileSync(join(root, 'etc/app.conf'), '# rendered by muster\ngreeting = hi there\nworkers = 4\n')
    const c = await check()
    expect(c.code, c.stdout + c.stderr).to.equal(2)
    expect(c.stdout).to.contain(`template:${root}/etc/app.conf`)
    expect(c.stdout).to.contain('-greeting = hi there')
    expect(c.stdout).to.contain('+greeting = hello')
    expect(readFileSync(join(root, 'etc/app.conf'), 'utf8')).to.contain('hi there') // check changed nothing
    const r = await apply()
    expect(r.code).to.equal(0)
    const changed = r.events.filter((e) => e.type === 'resource:result' && e.status === 'changed').map((e) => e.resource)
    expect(changed).to.deep.equal([`template:${root}/etc/app.conf`])
    expect((await check()).code).to.equal(0)
  })

  it('check --watch prints a drift when it appears and when it is fixed, over the same connections', async () => {
    const file = join(root, 'etc/motd')
    const child = spawn(process.execPath, ['bin/muster.js', 'check', PB, '-i', INV, '--limit', 'box', '-e', `root=${root}`, '--watch', '0.5', '--watch-count', '12'], {
      cwd: repoRoot,
      env: { ...process.env, ...env, CI: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    const waitFor = async (re: RegExp) => {
      for (let i = 0; i < 200 && !re.test(out); i++) await new Promise((r) => setTimeout(r, 50))
      expect(out).to.match(re)
    }
    await waitFor(/in sync/)
    writeFileSync(file, 'edited by hand\n')
    await waitFor(/DRIFT\s+box\s+file:\S+\/etc\/motd: content/)
    writeFileSync(file, 'managed by muster\n')
    await waitFor(/FIXED\s+box\s+file:\S+\/etc\/motd/)
    const code = await new Promise<number | null>((r) => child.on('close', r))
    expect(code).to.equal(0)
    expect(out.match(/DRIFT/g)).to.have.length(1)
  })
})
