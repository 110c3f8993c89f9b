import { expect } from 'chai'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { muster, results } from '../support/cli.ts'
import { startSshd, type SshdHandle } from '../support/sshd.ts'

// The e2e host is this machine (Debian 12) through a real sshd: check only
// reads, and the plan of a package apt does not know fails before apt-get runs.
describe('e2e: apt against a real host: a package apt does not know fails at check', function () {
  this.timeout(60_000)
  let sshd: SshdHandle
  let state: string
  let env: Record<string, string>

  before(async () => {
    sshd = await startSshd()
    state = mkdtempSync(join(tmpdir(), 'muster-apt-state-'))
    env = { E2E_PORT: String(sshd.port), E2E_KEY: sshd.clientKeyFile, E2E_KNOWN_HOSTS: sshd.knownHostsFile, MUSTER_STATE_DIR: state }
  })
  after(async () => {
    await sshd?.stop()
    rmSync(state, { recursive: true, force: true })
  })

  it('check: curl ok, ngnix failed "no such package" (exit 1), in one probe script; apply fails the same way without running apt-get', async () => {
    const r = await muster(['check', 'test/fixtures/e2e/apt-typo.ts', '-i', 'test/fixtures/e2e/inventory.ts', '--json'], env)
    expect(r.code, r.stdout + r.stderr).to.equal(1)
    const byId = Object.fromEntries(results(r).map((e) => [e.resource, e]))
    expect(byId['apt:curl']).to.include({ status: 'ok' })
    expect(byId['apt:ngnix']).to.include({ status: 'failed' })
    expect(byId['apt:ngnix']!.error).to.equal('no such package: apt has no installation candidate for ngnix (a misspelt name, or the package lists need an update)')
    expect(r.recap!.hosts.box!.probeBatches).to.equal(1)
    expect(r.recap!.hosts.box!.changed, 'no install planned').to.equal(0)
    const a = await muster(['apply', 'test/fixtures/e2e/apt-typo.ts', '-i', 'test/fixtures/e2e/inventory.ts', '--json', '-v'], env)
    expect(a.code, a.stdout + a.stderr).to.equal(1)
    expect(results(a).find((e) => e.resource === 'apt:ngnix')).to.include({ status: 'failed' })
    expect(a.recap!.hosts.box!.stats.execs, 'the probe only: apt-get never ran').to.equal(1)
  })
})
