import { expect } from 'chai'
import { writeFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { scratchDirs } from '../support/scratch.ts'
import { startSshd, type SshdHandle } from '../support/sshd.ts'
import { muster, type CliResult } from '../support/cli.ts'
import type { HostRecap } from '../../src/engine/events.ts'
import { shardOf } from '../../src/engine/shard.ts'

const PB = 'test/fixtures/e2e/playbook.ts'
const INV = 'test/fixtures/e2e/workers-inventory.ts'

/** Per host: every resource's status and summary, in the order the host ran them, and its recap counts. */
function perHost(r: CliResult): Record<string, { results: string[]; recap: Omit<HostRecap, 'stats'> & { execs: number } }> {
  const out: Record<string, { results: string[]; recap: Omit<HostRecap, 'stats'> & { execs: number } }> = {}
  for (const [host, h] of Object.entries(r.recap!.hosts)) {
    const { stats, ...counts } = h
    out[host] = { results: [], recap: { ...counts, execs: stats.execs } }
  }
  for (const e of r.events) {
    if (e.type === 'resource:result') out[e.host as string]!.results.push(`${e.resource as string}: ${e.status as string} ${(e.summary as string | undefined) ?? ''}`)
    if (e.type === 'host:unreachable') out[e.host as string]!.results.push('unreachable')
  }
  return out
}

describe('e2e: --workers splits a run over threads and gives the one-thread result', function () {
  this.timeout(180_000)
  const tmp = scratchDirs()
  let sshd: SshdHandle
  let env: Record<string, string>
  let root: string

  before(async () => {
    sshd = await startSshd({ extraConfig: ['MaxStartups 100', 'MaxSessions 50'] })
    root = tmp.make('muster-workers-root-')
    env = { E2E_PORT: String(sshd.port), E2E_KEY: sshd.clientKeyFile, E2E_KNOWN_HOSTS: sshd.knownHostsFile, E2E_ROOT: root, MUSTER_STATE_DIR: tmp.make('muster-workers-state-') }
  })
  after(async () => {
    await sshd?.stop()
    tmp.removeAll()
  })

  const runWith = (mode: 'apply' | 'check', workers: number, ...extra: string[]) => muster([mode, PB, '-i', INV, '--json', '--workers', String(workers), ...extra], env)

  it('apply on 3 workers converges the same hosts as one thread would, with one run:start naming every host in the run order', async () => {
    const r = await runWith('apply', 3, '--limit', '!gone')
    expect(r.code, r.stderr + r.stdout.slice(0, 2000)).to.equal(0)
    const starts = r.events.filter((e) => e.type === 'run:start')
    expect(starts).to.have.length(1)
    expect(starts[0]!.hosts).to.deep.equal(['w1', 'w2', 'w3', 'w4', 'w5', 'w6', 'w7', 'w8', 'w9'])
    expect(starts[0]).to.not.have.property('shard')
    for (let i = 1; i <= 9; i++) expect(r.recap!.hosts[`w${i}`]!.changed, `w${i}`).to.equal(7)
  })

  it('check with drift on some hosts and one host unreachable: 1, 2, 3 and 4 workers give the same per-host results and exit code', async () => {
    // drifts in different partitions: a changed file, a removed file, a changed mode
    writeFileSync(join(root, 'w2/etc/app.conf'), '# rendered by muster\ngreeting = hi there\nworkers = 4\n')
    rmSync(join(root, 'w5/etc/motd'))
    writeFileSync(join(root, 'w9/etc/secret.conf'), 'token=abc\n', { mode: 0o644 })
    const one = await runWith('check', 1)
    expect(one.code, one.stderr).to.equal(3) // unreachable outranks drift
    const base = perHost(one)
    expect(base.gone!.results).to.deep.equal(['unreachable'])
    expect(base.w2!.recap.changed).to.equal(1)
    expect(base.w5!.recap.changed).to.be.greaterThan(0)
    expect(base.w1!.recap).to.include({ ok: 7, changed: 0 })
    for (const workers of [2, 3, 4]) {
      const r = await muster(['check', PB, '-i', INV, '--json', '--workers', String(workers)], { ...env, MUSTER_TRACE: '1' })
      expect(r.stderr, 'the hosts were really split over threads').to.match(new RegExp(`--workers ${workers}: ${workers} threads over \\d+( \\+ \\d+){${workers - 1}} hosts`))
      expect(r.code, `${workers} workers: ${r.stderr}`).to.equal(one.code)
      expect(perHost(r), `${workers} workers`).to.deep.equal(base)
      expect(Object.keys(r.recap!.hosts), 'hosts in the run order').to.deep.equal(Object.keys(one.recap!.hosts))
      expect(r.events.filter((e) => e.type === 'run:start')).to.have.length(1)
    }
  })

  it('a converged check exits 0 on several workers; a --shard process split over threads gives the shard result (an empty one too); --workers with --watch is refused (exit 64)', async () => {
    const fix = await runWith('apply', 2, '--limit', '!gone')
    expect(fix.code, fix.stderr).to.equal(0)
    const c = await runWith('check', 4, '--limit', '!gone')
    expect(c.code, c.stderr).to.equal(0)
    expect(Object.values(c.recap!.hosts).every((h) => h.ok === 7 && h.changed === 0)).to.equal(true)
    // one --shard process of several, split again over threads: the shard's own result; an empty shard stays no verdict
    const hosts = ['w1', 'w2', 'w3', 'w4', 'w5', 'w6', 'w7', 'w8', 'w9', 'gone']
    const alone = await runWith('check', 1, '--limit', '!gone', '--shard', '0/2')
    const split = await runWith('check', 2, '--limit', '!gone', '--shard', '0/2')
    expect(split.code, split.stderr).to.equal(alone.code)
    expect(perHost(split)).to.deep.equal(perHost(alone))
    const empty = Array.from({ length: 12 }, (_, k) => k).find((k) => hosts.every((h) => shardOf(h, 12) !== k))!
    const none = await runWith('check', 2, '--shard', `${empty}/12`)
    const noneAlone = await runWith('check', 1, '--shard', `${empty}/12`)
    expect(none.code, none.stderr).to.equal(noneAlone.code)
    expect(none.stderr).to.equal(noneAlone.stderr)
    // --workers with --watch is refused (exit 64)
    const w = await runWith('check', 2, '--watch', '1', '--watch-count', '1')
    expect(w.code).to.equal(64)
    expect(w.stderr).to.contain('--workers and --watch')
  })
})
