import { expect } from 'chai'
import { appendFileSync, cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { scratchDirs } from '../support/scratch.ts'
import { startSshd, type SshdHandle } from '../support/sshd.ts'
import { muster, repoRoot, results, type CliResult } from '../support/cli.ts'

/**
 * A run connects to the last identical run's hosts before its playbook loads
 * (src/cli/preconnect.ts). What it reports must not depend on that: the same
 * results with it off, nothing early once a file changed, an early connection
 * to a host that moved is closed unused, and a run that fails before it
 * connects still exits at once.
 */
describe('e2e: connections opened before the playbook loads (preconnect)', function () {
  this.timeout(120_000)
  const tmp = scratchDirs()
  let sshd: SshdHandle
  let moved: SshdHandle
  let project: string
  let env: Record<string, string>

  before(async () => {
    sshd = await startSshd()
    moved = await startSshd()
    // the playbook and inventory in a directory of their own: the test edits them
    project = tmp.make('muster-e2e-preconnect-')
    cpSync(join(repoRoot, 'test/fixtures/e2e'), project, { recursive: true })
    writeFileSync(join(project, 'package.json'), '{ "type": "module" }\n')
    const root = tmp.make('muster-e2e-preconnect-root-')
    env = { E2E_PORT: String(sshd.port), E2E_KEY: sshd.clientKeyFile, E2E_KNOWN_HOSTS: sshd.knownHostsFile, MUSTER_STATE_DIR: tmp.make('muster-e2e-preconnect-state-'), MUSTER_TRACE: '1', ROOT: root }
    const first = await runMuster('apply')
    expect(first.code, first.stderr).to.equal(0)
  })
  after(async () => {
    await sshd?.stop()
    await moved?.stop()
    tmp.removeAll()
  })

  const runMuster = (mode: 'apply' | 'check', more: Record<string, string> = {}, extra: string[] = []): Promise<CliResult> =>
    muster([mode, join(project, 'playbook.ts'), '-i', join(project, 'inventory.ts'), '--limit', 'box', '-e', `root=${env.ROOT}`, '--json', ...extra], { ...env, ...more }, 60_000)
  const early = (r: CliResult): string | undefined => /preconnect: (\d+ of \d+) early connections used/.exec(r.stderr)?.[1]
  const outcome = (r: CliResult) => results(r).map((e) => [e.host, e.resource, e.status])

  it('the next identical run takes over its early connection and reports exactly what a run without it does', async () => {
    const withIt = await runMuster('check')
    const without = await runMuster('check', { MUSTER_PRECONNECT: '0' })
    expect(withIt.code, withIt.stderr).to.equal(0)
    expect(early(withIt)).to.equal('1 of 1')
    expect(withIt.stderr, 'begun by bin/muster.js before the CLI loaded (src/cli/early.ts)').to.contain('early start: 1 handshakes begun before the CLI loaded')
    expect(withIt.stderr).not.to.contain('its connections are closed unused')
    expect(withIt.stderr, 'its first probe ran on the channel opened ahead').to.contain('box: the channel opened ahead runs sh -s')
    expect(early(without)).to.equal(undefined)
    expect(without.stderr).not.to.contain('early start')
    expect(without.code).to.equal(0)
    expect(outcome(withIt)).to.deep.equal(outcome(without)).and.to.have.length(7)
    expect(withIt.recap!.hosts.box!.probeBatches).to.equal(1)
    // the recap counts from the process's start, as `time` does, so what happened before the run began is in it
    const runDone = Number(/\[trace\s+([\d.]+) ms, cpu\s+\d+ ms\] run done/.exec(withIt.stderr)?.[1])
    expect(runDone, withIt.stderr).to.be.greaterThan(0)
    expect(withIt.recap!.durationMs).to.be.within(runDone - 50, runDone + 5)
  })

  const hintFile = (): string => join(env.MUSTER_STATE_DIR!, 'preconnect.json')
  const SENT = 'box: the channel opened ahead runs sh -s, its script sent ahead'

  it('the next identical run sends its first probe ahead, sealed, and takes the answer the host already gave: one exec, the same results', async () => {
    const hint = JSON.parse(readFileSync(hintFile(), 'utf8')) as { entries: { probes?: Record<string, { script: string; seal: string }> }[] }
    const probe = hint.entries[0]!.probes!.box!
    expect(probe.script.startsWith('#!/bin/sh\n# muster: read-only probe\n'), 'a read-only probe').to.equal(true)
    expect(probe.seal).to.match(/^[0-9a-f]{64}$/)
    const ahead = await runMuster('check')
    const without = await runMuster('check', { MUSTER_PRECONNECT: '0' })
    expect(ahead.code, ahead.stderr).to.equal(0)
    expect(ahead.stderr).to.contain("box: the last run's first probe is sent ahead")
    expect(ahead.stderr).to.contain(SENT)
    // the CLI loads once the handshake is done (early.ts), unless that takes longer than its bound on a loaded machine
    const waited = ahead.stderr.includes('early start: the handshakes are done; the CLI loads while the hosts answer')
    expect(waited || ahead.stderr.includes('early start: the handshakes are not done after 150 ms'), ahead.stderr).to.equal(true)
    if (waited) expect(ahead.stderr.indexOf("box: the last run's first probe is sent ahead"), 'sent before the CLI loaded').to.be.below(ahead.stderr.indexOf('cli loaded'))
    expect(outcome(ahead)).to.deep.equal(outcome(without)).and.to.have.length(7)
    expect(ahead.recap!.hosts.box!.stats.execs, 'the probe sent ahead is the run\'s one exec').to.equal(1)
    expect(ahead.recap!.hosts.box!.probeBatches).to.equal(1)
  })

  it('a first probe that differs from the one sent ahead (other -e vars, same files) is sent anew: the answer given ahead is never read', async () => {
    const other = tmp.make('muster-e2e-preconnect-other-')
    const args = ['-e', `root=${other}`]
    const r = await runMuster('check', {}, args)
    const without = await runMuster('check', { MUSTER_PRECONNECT: '0' }, args)
    expect(r.stderr).to.contain('box: the script sent ahead is not this run\'s first: its answer is not read')
    expect(r.stderr).not.to.contain(SENT)
    expect(r.code, 'nothing under the other root: drift').to.equal(without.code).and.to.equal(2)
    expect(outcome(r)).to.deep.equal(outcome(without)).and.to.have.length(7)
    expect(r.recap!.hosts.box!.stats.execs, 'the unread one is counted too').to.equal(2)
  })

  it('a probe in the hint that was edited, or sealed by another key, is never sent: nothing of it runs on the host', async () => {
    await runMuster('check') // records the -e root=ROOT probe again
    const witness = join(env.ROOT!, 'tampered')
    const original = readFileSync(hintFile(), 'utf8')
    const edit = (change: (p: { script: string; seal: string }) => void): void => {
      const hint = JSON.parse(original) as { entries: { probes: Record<string, { script: string; seal: string }> }[] }
      change(hint.entries[0]!.probes.box!)
      writeFileSync(hintFile(), JSON.stringify(hint))
    }
    edit((p) => (p.script = p.script.replace('export LC_ALL=C', `export LC_ALL=C\ntouch ${witness}`)))
    const edited = await runMuster('check')
    edit((p) => (p.seal = 'ab'.repeat(32)))
    const resealed = await runMuster('check')
    for (const r of [edited, resealed]) {
      expect(r.code, r.stderr).to.equal(0)
      expect(r.stderr).not.to.contain('first probe is sent ahead')
      expect(r.stderr, 'the channel opened ahead still serves the probe the run planned').to.contain('box: the channel opened ahead runs sh -s\n')
      expect(r.recap!.hosts.box!.stats.execs).to.equal(1)
    }
    expect(existsSync(witness), 'the edited script never ran').to.equal(false)
  })

  it('a changed inventory or playbook file means no early connection', async () => {
    appendFileSync(join(project, 'inventory.ts'), '// edited\n')
    const r = await runMuster('check')
    expect(r.code, r.stderr).to.equal(0)
    expect(early(r)).to.equal(undefined)
    appendFileSync(join(project, 'playbook.ts'), '// edited\n')
    expect(early(await runMuster('check'))).to.equal(undefined)
    expect(early(await runMuster('check')), 'recorded again by the run before').to.equal('1 of 1')
  })

  it('a host that moved (same files, another port from the environment): the early connection is closed unused and the run reaches the new one', async () => {
    const r = await runMuster('check', { E2E_PORT: String(moved.port), E2E_KEY: moved.clientKeyFile, E2E_KNOWN_HOSTS: moved.knownHostsFile })
    expect(early(r)).to.equal('0 of 1')
    expect(r.code, r.stdout + r.stderr).to.equal(0) // the same machine behind another sshd: still converged
    expect(results(r)).to.have.length(7)
    expect(r.recap!.hosts.box!.unreachable).to.equal(false)
  })

  it('a run that fails before it connects still exits at once, closing its early connections', async () => {
    expect(early(await runMuster('check')), 'recorded for the original host again').to.equal('0 of 1')
    const r = await runMuster('check', {}, ['-e', '{not json'])
    expect(r.code, r.stderr).to.equal(64)
    expect(r.stderr).to.contain('not valid JSON')
    expect(early(r)).to.equal('0 of 1')
  })
})
