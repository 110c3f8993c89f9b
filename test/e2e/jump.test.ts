import { expect } from 'chai'
import { readFileSync } from 'node:fs'
import { scratchDirs } from '../support/scratch.ts'
import { join } from 'node:path'
import { createServer } from 'node:net'
import { startSshd, type SshdHandle } from '../support/sshd.ts'
import { muster } from '../support/cli.ts'

const PB = 'test/fixtures/e2e/playbook.ts'
const INV = 'test/fixtures/e2e/jump-inventory.ts'

/** A port nothing listens on: bound, then released. */
async function deadPort(): Promise<number> {
  const s = createServer()
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
  const port = (s.address() as { port: number }).port
  await new Promise((r) => s.close(r))
  return port
}

describe('e2e: hosts behind a bastion (jump)', function () {
  this.timeout(120_000)
  const tmp = scratchDirs()
  let open: SshdHandle
  let closed: SshdHandle
  let env: Record<string, string>
  let root: string
  let state: string

  before(async function () {
    open = await startSshd()
    closed = await startSshd({ extraConfig: ['AllowTcpForwarding no'] })
    root = tmp.make('muster-jump-root-')
    state = tmp.make('muster-jump-state-')
    // both sshd accept the same client key: the closed one's authorized_keys gets the open one's key
    const { copyFileSync } = await import('node:fs')
    copyFileSync(`${open.clientKeyFile}.pub`, join(closed.dir, 'authorized_keys'))
    env = {
      E2E_PORT: String(open.port),
      E2E_KEY: open.clientKeyFile,
      E2E_KNOWN_HOSTS: open.knownHostsFile,
      E2E_CLOSED_PORT: String(closed.port),
      E2E_CLOSED_KNOWN_HOSTS: closed.knownHostsFile,
      E2E_DEAD_PORT: String(await deadPort()),
      MUSTER_STATE_DIR: state,
    }
  })
  after(async function () {
    await open?.stop()
    await closed?.stop()
    tmp.removeAll()
  })

  it('applies to hosts reached through a bastion named in the inventory or written user@host:port, and again changes nothing', async function () {
    for (const h of ['inner', 'by-spec']) {
      const r = await muster(['apply', PB, '-i', INV, '--limit', h, '-e', `root=${join(root, h)}`, '--json'], env)
      expect(r.code, r.stderr + r.stdout).to.equal(0)
      expect(r.recap!.hosts[h]!.changed).to.equal(7)
      expect(readFileSync(join(root, h, 'etc/motd'), 'utf8')).to.equal('managed by muster\n')
      const again = await muster(['apply', PB, '-i', INV, '--limit', h, '-e', `root=${join(root, h)}`, '--json'], env)
      expect(again.recap!.hosts[h]!.changed, again.stderr).to.equal(0)
    }
  })

  it('goes through the bastion for real: one whose sshd forbids forwarding cannot reach the host (exit 3, saying why)', async function () {
    const r = await muster(['ping', 'behind-closed', '-i', INV], env)
    expect(r.code, r.stdout + r.stderr).to.equal(3)
    expect(r.stdout + r.stderr, r.stdout + r.stderr).to.match(/closed-bastion could not open a tunnel to 127\.0\.0\.1:\d+: its sshd refused to forward \(administratively prohibited: is AllowTcpForwarding on/)
  })

  it('a host behind a bastion that is lost mid-run is reported unreachable, and the run ends (its tunnel closed only once)', async function () {
    this.timeout(40_000)
    const started = Date.now()
    const r = await muster(['apply', 'test/fixtures/e2e/lose-connection.ts', '-i', INV, '--limit', 'inner', '--json'], env, 30_000)
    expect(r.code, r.stdout + r.stderr).to.equal(3)
    expect(r.recap!.hosts.inner!.unreachable).to.equal(true)
    expect(Date.now() - started).to.be.below(20_000)
  })

  it('a host whose bastion is down is unreachable, naming the bastion; the others still run', async function () {
    const r = await muster(['ping', 'behind-dead:inner', '-i', INV], env)
    expect(r.code, r.stdout + r.stderr).to.equal(3)
    expect(r.stdout + r.stderr).to.match(/behind-dead.*its bastion dead is unreachable/)
    expect(r.stdout).to.match(/^inner  pong/m)
  })
})
