import { expect } from 'chai'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startSshd, type SshdHandle } from '../support/sshd.ts'
import { muster } from '../support/cli.ts'

/**
 * Issue 17: a scenario against a delegated inventory (the e2e sshd on
 * loopback), with no lab-specific code in it: the whole sequence holds, the
 * side effects are found by check and fixed by apply, and nothing is reset.
 */
describe('muster test against a delegated inventory (issue 17)', function () {
  this.timeout(120_000)
  let sshd: SshdHandle
  let root: string
  before(async () => {
    sshd = await startSshd()
    root = mkdtempSync(join(tmpdir(), 'muster-test-delegated-'))
  })
  after(async () => {
    await sshd?.stop()
    rmSync(root, { recursive: true, force: true })
  })

  it('runs every step on the inventory\'s host and exits 0', async () => {
    const env = { E2E_PORT: String(sshd.port), E2E_KEY: sshd.clientKeyFile, E2E_KNOWN_HOSTS: sshd.knownHostsFile, E2E_ROOT: root }
    const r = await muster(['test', 'test/fixtures/muster-test/delegated', '--json'], env)
    const steps = r.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { type: string; step?: string; ok: boolean; failures?: string[] })
    expect(steps.filter((s) => !s.ok), r.stdout + r.stderr).to.deep.equal([])
    expect(r.code, r.stderr).to.equal(0)
    const names = steps.filter((s) => s.type === 'step').map((s) => s.step)
    expect(names).to.deep.equal([
      'create', 'check on bare', 'converge', 'prediction equals changes', 'idempotence', 'converged check', 'verify',
      `side effect box: edit ${root}/etc/motd`, `check finds side effect box: edit ${root}/etc/motd`, `apply fixes side effect box: edit ${root}/etc/motd`, `verify after side effect box: edit ${root}/etc/motd`,
      `side effect box: chmod 0600 ${root}/etc/motd`, `check finds side effect box: chmod 0600 ${root}/etc/motd`, `apply fixes side effect box: chmod 0600 ${root}/etc/motd`, `verify after side effect box: chmod 0600 ${root}/etc/motd`,
    ])
  })

  it('--suite and --parallel: a release it does not know, or more labs than --lab-ids name, is a usage error (exit 64)', async () => {
    const sid = await muster(['test', 'test/fixtures/muster-test/delegated', '--suite', 'trixie,sid'])
    expect(sid.code, sid.stderr).to.equal(64)
    expect(sid.stderr).to.include('--suite must be one of trixie, bookworm, not "sid"')
    const ids = await muster(['test', 'test/fixtures/muster-test/delegated', '--parallel', '3', '--lab-ids', '2,4'])
    expect(ids.code, ids.stderr).to.equal(64)
    expect(ids.stderr).to.include('--parallel 3 needs as many --lab-ids, not 2')
  })
})
