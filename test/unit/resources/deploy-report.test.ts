import { expect } from 'chai'
import { DeployReporter, type DeployEnd, type DeployStep } from '../../../src/cli/commands/deploy-report.ts'
import type { MusterEvent, Recap } from '../../../src/engine/events.ts'
import type { ReleaseState } from '../../../src/resources/deploy/release-state.ts'
import { emptyStats } from '../../../src/ssh/connection.ts'

const A = '20260101T000000Z-aaaaaaaaaaaa'
const B = '20260102T000000Z-bbbbbbbbbbbb'
const P = 'rolling deploy'

const st = (current: string): ReleaseState => ({ current, currentTarget: null, previous: null, running: { pid: 1, release: current }, releases: [] })
const recapOf = (failed: Record<string, number>): Recap => ({
  mode: 'apply',
  durationMs: 12_345,
  exitCode: Object.values(failed).some((n) => n > 0) ? 1 : 0,
  hosts: Object.fromEntries(Object.entries(failed).map(([h, f]) => [h, { ok: 0, changed: 0, failed: f, skipped: 0, unknown: 0, unreachable: false, stats: emptyStats(), probeBatches: 0 }])),
})
const res = (host: string, resource: string, resourceType: string, status: 'ok' | 'changed' | 'failed', summary: string, durationMs = 0, error?: string): MusterEvent => ({
  type: 'resource:result',
  play: P,
  host,
  resource,
  resourceType,
  status,
  summary,
  durationMs,
  ...(error ? { error } : {}),
})

/** A rollout stopped after web-01 failed (rolled back), web-02 never started. */
function stoppedRollout(r: DeployReporter, clock: { t: number }): void {
  r.on({ type: 'run:start', mode: 'apply', playbook: 'playbooks/deploy.ts', hosts: ['web-01', 'web-02'] })
  r.on({ type: 'play:start', play: P, index: 1, hosts: ['web-01', 'web-02'] })
  r.on({ type: 'batch:start', play: P, batch: 1, batches: 2, hosts: ['web-01'] })
  r.on(res('web-01', `release:/srv/app/releases/${B}`, 'release', 'changed', `upload release ${B}`))
  clock.t = 10_000
  r.on(res('web-01', 'drain:web/web-01', 'drain', 'changed', `drain lb-01 web/web-01 for release ${B} (from ${A})`, 500))
  r.on(res('web-01', 'switch-release:/srv/app', 'switch-release', 'failed', `release ${B}: switch current ${A} -> ${B}`, 0, `release ${B} failed its health check (HTTP 503); rolled back to ${A}, healthy again`))
  clock.t = 14_000
  r.on({ type: 'handler:result', play: P, host: 'web-01', handler: 'return web/web-01 to rotation', status: 'changed' })
  r.on({ type: 'host:start', play: P, host: 'web-02', resources: 0 })
  r.on({ type: 'play:end', play: P, stopped: '1 of 2 hosts failed; not started: web-02' })
  // the lock's release still runs on web-02: it was not started for all that
  r.on({ type: 'play:start', play: 'release the deploy lock', index: 2, hosts: ['web-01', 'web-02'] })
  r.on({ ...(res('web-02', 'deploy-unlock:/srv/app/.deploy-lock', 'deploy-unlock', 'changed', 'release the deploy lock') as object), play: 'release the deploy lock' } as MusterEvent)
}

describe('deploy: progress and the final report', () => {
  it('--json: a deploy:step per step with batch, host, step and release; deploy:end says who is on what and for how long each was out', () => {
    const lines: string[] = []
    const clock = { t: 0 }
    const r = new DeployReporter({ json: true, verbose: false, action: 'deploy', write: (l) => lines.push(l), now: () => clock.t })
    stoppedRollout(r, clock)
    const recap = recapOf({ 'web-01': 1, 'web-02': 0 })
    const end = r.outcome(recap, new Map([['web-01', st(A)], ['web-02', st(A)]]), new Map([['web-01', st(A)], ['web-02', st(A)]]), false)
    r.end(recap, end)
    const events = lines.map((l) => JSON.parse(l) as { type: string })
    const steps = events.filter((e) => e.type === 'deploy:step') as DeployStep[]
    expect(steps.map((s) => [s.batch, s.host, s.step, s.kind, s.release, s.status])).to.deep.equal([
      [1, 'web-01', `release:/srv/app/releases/${B}`, 'release', B, 'changed'],
      [1, 'web-01', 'drain:web/web-01', 'drain', B, 'changed'],
      [1, 'web-01', 'switch-release:/srv/app', 'switch-release', B, 'failed'],
      [1, 'web-01', 'handler return web/web-01 to rotation', 'handler', B, 'changed'],
      [undefined, 'web-02', 'deploy-unlock:/srv/app/.deploy-lock', 'deploy-unlock', undefined, 'changed'],
    ])
    expect(events.map((e) => e.type)).to.include.members(['run:start', 'resource:result', 'handler:result', 'play:end', 'run:end'])
    const last = events.at(-1) as DeployEnd
    expect(last.type).to.equal('deploy:end')
    expect(last.hosts['web-01']).to.deep.include({ result: 'failed', outOfRotationMs: 4500 })
    expect(last.hosts['web-01']!.error).to.include(`rolled back to ${A}`)
    expect(last.hosts['web-01']!.after).to.deep.equal({ current: A, previous: null, running: A })
    expect(last.hosts['web-02']).to.deep.include({ result: 'not started' })
    expect(last.hosts['web-02']!.outOfRotationMs).to.equal(undefined)
    expect(last.exitCode).to.equal(1)
  })

  it('plain: a line per step with its batch, then the recap and which host is on which release', () => {
    const lines: string[] = []
    const clock = { t: 0 }
    const r = new DeployReporter({ json: false, verbose: false, action: 'deploy', write: (l) => lines.push(l), now: () => clock.t })
    stoppedRollout(r, clock)
    const recap = recapOf({ 'web-01': 1, 'web-02': 0 })
    r.end(recap, r.outcome(recap, new Map([['web-01', st(A)], ['web-02', st(A)]]), new Map([['web-01', st(A)], ['web-02', st(A)]]), true))
    const text = lines.join('\n')
    expect(text).to.include('BATCH 1/2 web-01')
    expect(text).to.include(`  [1/2] web-01  changed  drain            drain lb-01 web/web-01 for release ${B} (from ${A}) (0.5 s)`)
    expect(text).to.include('  [1/2] web-01  changed  handler          return web/web-01 to rotation')
    expect(text).to.include('STOPPED [rolling deploy] 1 of 2 hosts failed; not started: web-02')
    expect(text).to.include(`web-01 : FAILED ${A}, out of rotation 4.5 s`)
    expect(text).to.include(`web-02 : NOT STARTED ${A}`)
    expect(text).to.include('interrupted (Ctrl-C)')
  })
})
