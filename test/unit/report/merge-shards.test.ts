import { expect } from 'chai'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runPlaybook } from '../../../src/engine/run.ts'
import { playbook, role, type Playbook } from '../../../src/engine/playbook.ts'
import type { Mode, MusterEvent } from '../../../src/engine/events.ts'
import type { HostInfo, Inventory } from '../../../src/inventory/types.ts'
import { planShard } from '../../../src/engine/shard.ts'
import { jsonReporter } from '../../../src/report/json.ts'
import { mergeShards, worstExitCode } from '../../../src/report/merge-shards.ts'
import { UnreachableError } from '../../../src/ssh/connection.ts'
import { RecordingConnection } from '../../support/fake-connection.ts'
import { kv, needs } from '../../support/kv-resource.ts'

const HOSTS = Array.from({ length: 16 }, (_, i) => `h${String(i + 1).padStart(2, '0')}`)

function inventoryOf(names: string[]): Inventory {
  const hosts = new Map<string, HostInfo>()
  for (const n of names) hosts.set(n, { name: n, address: '127.0.0.1', port: 22, user: 'root', become: false, groups: ['all'], vars: {}, ssh: {} })
  return { source: 'test', hosts, groups: new Map([['all', { name: 'all', hosts: names, children: [], vars: {} }]]) }
}

/** Each host owns dir/<host>/: three keys, one of which needs a key that h07 lacks (a failure), and h11 cannot be reached. */
function fleetPlaybook(dir: string): Playbook {
  const r = role('app', (ctx) => {
    const d = join(dir, ctx.name)
    return [kv(join(d, 'a'), 'A'), kv(join(d, 'b'), 'B'), ctx.name === 'h07' ? needs(join(d, 'c'), join(d, 'missing'), 'C') : kv(join(d, 'c'), 'C')]
  })
  return playbook({ name: 'fleet', hosts: 'all', roles: [r], gatherFacts: false })
}

function fleetDir(drifted: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'muster-merge-'))
  for (const h of HOSTS) {
    mkdirSync(join(dir, h))
    for (const [k, v] of Object.entries({ a: 'A', b: 'B', c: 'C' })) writeFileSync(join(dir, h, k), drifted[`${h}/${k}`] ?? v)
  }
  return dir
}

/** One run's --json output (what `muster check|apply [--shard K/N] --json` prints), and its exit code. */
async function runJson(dir: string, mode: Mode, shard?: { index: number; count: number }): Promise<{ text: string; exitCode: number }> {
  const pb = fleetPlaybook(dir)
  const inventory = inventoryOf(HOSTS)
  const plan = shard ? planShard(pb, inventory, mode, shard, undefined) : undefined
  const lines: string[] = []
  const on = jsonReporter((l) => lines.push(l))
  const recap = await runPlaybook({
    playbook: pb,
    playbookName: 'fleet.ts',
    inventory,
    mode,
    forks: 8,
    diff: false,
    ...(plan ? { limit: plan.mine, shard: { index: shard!.index, count: shard!.count, selected: plan.selected } } : {}),
    connect: async (h) => {
      if (h.name === 'h11') throw new UnreachableError(h.name, 'connection refused')
      return new RecordingConnection(h.name)
    },
    onEvent: on,
  })
  on({ type: 'run:end', recap })
  return { text: lines.join('\n') + '\n', exitCode: recap.exitCode }
}

/** What must be equal between the unsharded run and the merge: per host, each resource's status and summary; the recap's counts; the exit code. */
function outcome(events: MusterEvent[], dir: string) {
  const results = events
    .filter((e): e is Extract<MusterEvent, { type: 'resource:result' }> => e.type === 'resource:result')
    .map((e) => `${e.host} ${e.resource} ${e.status} ${e.summary ?? ''} ${e.error ?? ''}`.split(dir).join('<dir>'))
    .sort()
  const other = events.filter((e) => e.type === 'host:unreachable' || e.type === 'host:failed').map((e) => JSON.stringify(e).split(dir).join('<dir>')).sort()
  const end = events.find((e): e is Extract<MusterEvent, { type: 'run:end' }> => e.type === 'run:end')!
  const recap = Object.fromEntries(Object.entries(end.recap.hosts).map(([h, r]) => [h, { ok: r.ok, changed: r.changed, failed: r.failed, skipped: r.skipped, unknown: r.unknown, unreachable: r.unreachable }]))
  return { results, other, recap, hostOrder: Object.keys(end.recap.hosts), exitCode: end.recap.exitCode }
}

const parseLines = (text: string): MusterEvent[] => text.trim().split('\n').map((l) => JSON.parse(l) as MusterEvent)

describe('muster merge: shards of a run made one', function () {
  this.timeout(60_000) // each case runs the fleet's shell probes for real, twice over (local shells, no SSH)
  const dirs: string[] = []
  afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })))
  // drifts on hosts that land in different shards at N = 3 and 7
  const drift = { 'h02/a': 'x', 'h05/b': 'y', 'h09/c': 'z', 'h13/a': 'w', 'h15/b': 'v' }

  for (const mode of ['check', 'apply'] as const) {
    for (const n of [1, 3, 7]) {
      it(`${mode}, ${n} shard(s): merged equals the unsharded run, host by host, with the same exit code`, async () => {
        const whole = fleetDir(drift)
        const split = fleetDir(drift)
        dirs.push(whole, split)
        const single = await runJson(whole, mode)
        const shards = await Promise.all(Array.from({ length: n }, (_, k) => runJson(split, mode, { index: k, count: n })))
        const merged = mergeShards(shards.map((s, k) => ({ file: `shard-${k}.jsonl`, text: s.text })))
        expect(merged.incomplete).to.deep.equal([])
        expect(outcome(merged.events, split)).to.deep.equal(outcome(parseLines(single.text), whole))
        expect(merged.exitCode).to.equal(single.exitCode)
        // failed (h07) outranks unreachable (h11) outranks drift
        expect(merged.exitCode).to.equal(1)
        if (n > 1) {
          const shardOf = (h: string) => shards.findIndex((s) => (parseLines(s.text)[0] as { hosts: string[] }).hosts.includes(h))
          expect(new Set(['h02', 'h05', 'h09', 'h13', 'h15'].map(shardOf)).size, 'drifts in more than one shard').to.be.greaterThan(1)
        }
      })
    }
  }

  it('a converged fleet (but for h07 failing and h11 unreachable): the merge gives the single run\'s results and exit code', async () => {
    const dir = fleetDir({})
    dirs.push(dir)
    const single = await runJson(dir, 'check')
    const shards = await Promise.all([0, 1, 2].map((k) => runJson(dir, 'check', { index: k, count: 3 })))
    const merged = mergeShards(shards.map((s, k) => ({ file: `s${k}`, text: s.text })))
    expect(outcome(merged.events, dir)).to.deep.equal(outcome(parseLines(single.text), dir))
    expect(merged.exitCode).to.equal(single.exitCode)
  })

  it('names missing shards and shards that ended early, and never exits 0 for them', async () => {
    const dir = fleetDir({})
    dirs.push(dir)
    const shards = await Promise.all([0, 1, 2].map((k) => runJson(dir, 'check', { index: k, count: 3 })))
    const cut = shards[2]!.text.trim().split('\n').slice(0, -1).join('\n') // no run:end
    const m = mergeShards([{ file: 's0', text: shards[0]!.text }, { file: 's2', text: cut }, { file: 'empty', text: '' }])
    expect(m.incomplete).to.deep.equal(['empty: empty (the shard ended before its run began; see its stderr)', 'shard 1/3: no output given', 'shard 2/3 (s2): ended early, without its recap'])
    expect(m.exitCode).to.not.equal(0)
  })

  it('refuses a host in two shards, outputs of different runs, and lines that are not JSON (exit 64)', async () => {
    const dir = fleetDir({})
    dirs.push(dir)
    const [s0, s1] = await Promise.all([0, 1].map((k) => runJson(dir, 'check', { index: k, count: 2 })))
    expect(() => mergeShards([{ file: 'a', text: s0!.text }, { file: 'b', text: s0!.text }])).to.throw(/b and a are both shard 0\/2/)
    const start1 = JSON.parse(s1!.text.split('\n')[0]!) as { hosts: string[] }
    const stolen = s1!.text.replace(JSON.stringify(start1.hosts), JSON.stringify([...start1.hosts, (JSON.parse(s0!.text.split('\n')[0]!) as { hosts: string[] }).hosts[0]]))
    expect(() => mergeShards([{ file: 'a', text: s0!.text }, { file: 'b', text: stolen }])).to.throw(/host h\d+ is in shard 0 \(a\) and shard 1 \(b\)/)
    const three = await runJson(dir, 'check', { index: 1, count: 3 })
    expect(() => mergeShards([{ file: 'a', text: s0!.text }, { file: 'c', text: three.text }])).to.throw(/not a shard of the same run as a: 3 shards, not 2/)
    const unsharded = await runJson(dir, 'check')
    expect(() => mergeShards([{ file: 'u', text: unsharded.text }])).to.throw(/a run without --shard/)
    expect(() => mergeShards([{ file: 'x', text: 'muster: oops\n' }])).to.throw(/x:1: not a JSON line/)
    // a shard's hosts dropped from its run:start: that host is then in no shard
    const dropped = s1!.text.replace(JSON.stringify(start1.hosts), JSON.stringify(start1.hosts.slice(1)))
    expect(() => mergeShards([{ file: 'a', text: s0!.text }, { file: 'b', text: dropped }])).to.throw(new RegExp(`host\\(s\\) ${start1.hosts[0]} selected by the run but in no shard`))
  })

  it('exit codes combine with the single run\'s precedence: 130, 64, 1, 3, 2, 0', () => {
    expect(worstExitCode([0, 2, 3])).to.equal(3)
    expect(worstExitCode([2, 0])).to.equal(2)
    expect(worstExitCode([3, 1, 2])).to.equal(1)
    expect(worstExitCode([1, 64])).to.equal(64)
    expect(worstExitCode([64, 130])).to.equal(130)
    expect(worstExitCode([])).to.equal(0)
  })
})
