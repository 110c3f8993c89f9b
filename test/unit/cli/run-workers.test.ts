import { expect } from 'chai'
import type { MusterEvent, Recap, HostRecap } from '../../../src/engine/events.ts'
import { StreamMerger, mergeRecaps } from '../../../src/cli/run-workers.ts'

const res = (play: string, host: string, status: 'ok' | 'would-change' = 'ok'): MusterEvent => ({ type: 'resource:result', play, host, resource: 'file:/x', resourceType: 'file', status, durationMs: 1 })
const start = (hosts: string[]): MusterEvent => ({ type: 'run:start', mode: 'check', playbook: 'pb.ts', hosts, shard: { index: 0, count: 2, selected: hosts } })
const playStart = (play: string, index: number, hosts: string[]): MusterEvent => ({ type: 'play:start', play, index, hosts })
const playEnd = (play: string, stopped?: string): MusterEvent => ({ type: 'play:end', play, ...(stopped ? { stopped } : {}) })

function hostRecap(over: Partial<HostRecap>): HostRecap {
  return { ok: 0, changed: 0, failed: 0, skipped: 0, unknown: 0, unreachable: false, stats: { execs: 1, sftpOps: 0, bytesSent: 0, bytesReceived: 0 }, probeBatches: 1, ...over }
}

describe('--workers: merging the threads\' streams and recaps', () => {
  it('one run:start with every host in the run order, one play:start/end per play, a thread ahead held at the next play', () => {
    const out: MusterEvent[] = []
    const m = new StreamMerger(2, ['a', 'b', 'c', 'd'], (e) => out.push(e), { mode: 'check', playbook: 'pb.ts' })
    // worker 1 runs ahead into play 2 before worker 0 has even started
    m.push(1, [start(['b', 'd']), playStart('one', 0, ['b', 'd']), res('one', 'b'), res('one', 'd'), playEnd('one'), playStart('two', 1, ['d']), res('two', 'd')])
    expect(out).to.deep.equal([]) // nothing until every thread has said run:start
    m.push(0, [start(['a', 'c']), playStart('one', 0, ['a', 'c']), res('one', 'a')])
    expect(out.map((e) => e.type)).to.deep.equal(['run:start', 'play:start', 'resource:result', 'resource:result', 'resource:result'])
    expect(out[0]).to.deep.equal({ type: 'run:start', mode: 'check', playbook: 'pb.ts', hosts: ['a', 'b', 'c', 'd'] })
    expect(out[1]).to.deep.equal(playStart('one', 0, ['a', 'b', 'c', 'd']))
    // worker 1's play-2 result waits for play one to end everywhere
    expect(out.filter((e) => e.type === 'resource:result' && e.play === 'two')).to.have.length(0)
    m.push(0, [res('one', 'c', 'would-change'), playEnd('one'), playStart('two', 1, ['a'])])
    m.push(1, [playEnd('two')])
    m.finish(1) // worker 1 may finish before worker 0 ends play two
    m.push(0, [res('two', 'a'), playEnd('two')])
    m.finish(0)
    expect(out.map((e) => (e.type === 'resource:result' ? `${e.play}/${e.host}` : e.type))).to.deep.equal([
      'run:start',
      'play:start',
      'one/a',
      'one/b',
      'one/d',
      'one/c',
      'play:end',
      'play:start',
      'two/d',
      'two/a',
      'play:end',
    ])
    expect(out.filter((e) => e.type === 'play:start').map((e) => (e as { hosts: string[] }).hosts)).to.deep.equal([['a', 'b', 'c', 'd'], ['a', 'd']])
  })

  it('a play only some threads reach is started and ended by those; stopped reasons are kept; warnings said once', () => {
    const out: MusterEvent[] = []
    const m = new StreamMerger(2, ['a', 'b'], (e) => out.push(e), { mode: 'apply', playbook: 'pb.ts' })
    m.push(0, [start(['a']), { type: 'warning', message: 'w' }, playStart('one', 0, ['a']), playEnd('one', 'interrupted; not started: a'), playStart('last', 1, ['a']), playEnd('last')])
    m.push(1, [start(['b']), { type: 'warning', message: 'w' }, playStart('last', 1, ['b']), playEnd('last')])
    m.finish(0)
    m.finish(1)
    expect(out.filter((e) => e.type === 'warning')).to.have.length(1)
    expect(out.filter((e) => e.type === 'play:start' || e.type === 'play:end')).to.deep.equal([
      playStart('one', 0, ['a']),
      playEnd('one', 'interrupted; not started: a'),
      playStart('last', 1, ['a', 'b']),
      playEnd('last'),
    ])
  })

  it('recaps: each host\'s own, in the run order; the worst exit code; a check that checked nothing anywhere is 64', () => {
    const r = (hosts: Record<string, HostRecap>, exitCode: number): Recap => ({ mode: 'check', hosts, durationMs: 1, exitCode })
    const merged = mergeRecaps('check', ['a', 'b', 'c'], [r({ c: hostRecap({ ok: 1 }), a: hostRecap({ changed: 1 }) }, 2), r({ b: hostRecap({ unreachable: true }) }, 3)], 5)
    expect(Object.keys(merged.hosts)).to.deep.equal(['a', 'b', 'c'])
    expect(merged.exitCode).to.equal(3)
    expect(merged.durationMs).to.equal(5)
    const nothing = [r({ a: hostRecap({ skipped: 2 }) }, 0), r({ b: hostRecap({ skipped: 2 }) }, 0)]
    expect(mergeRecaps('check', ['a', 'b'], nothing, 1).exitCode).to.equal(64)
    // one of several --shard processes that checked nothing is no verdict: `muster merge` judges the whole
    expect(mergeRecaps('check', ['a', 'b'], nothing, 1, { index: 0, count: 2, selected: ['a', 'b', 'x'] }).exitCode).to.equal(0)
    expect(mergeRecaps('apply', ['a', 'b'], nothing.map((x) => ({ ...x, mode: 'apply' as const })), 1).exitCode).to.equal(0)
  })
})
