import { expect } from 'chai'
import { mkdtempSync, readFileSync, writeFileSync, existsSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runPlaybook } from '../../../src/engine/run.ts'
import { SelectionError } from '../../../src/engine/selection.ts'
import { playbook, role } from '../../../src/engine/playbook.ts'
import { command } from '../../../src/resources/command.ts'
import type { MusterEvent, Recap } from '../../../src/engine/events.ts'
import type { HostInfo, Inventory } from '../../../src/inventory/types.ts'
import { UnreachableError, type ExecOptions, type ExecResult } from '../../../src/ssh/connection.ts'
import { RecordingConnection } from '../../support/fake-connection.ts'
import { kv, needs, logHandler } from '../../support/kv-resource.ts'

/** A host whose facts script never answers in time (its probes of resources do). */
class StuckFacts extends RecordingConnection {
  override exec(command: string, opts: ExecOptions = {}): Promise<ExecResult> {
    return opts.stdin?.toString().includes('os_pretty=') ? super.exec('sleep 7', opts) : super.exec(command, opts)
  }
}

function inventoryOf(names: string[]): Inventory {
  const hosts = new Map<string, HostInfo>()
  for (const n of names) hosts.set(n, { name: n, address: '127.0.0.1', port: 22, user: 'root', become: false, groups: ['all', 'g'], vars: {}, ssh: {} })
  return { source: 'test', hosts, groups: new Map([['all', { name: 'all', hosts: names, children: [], vars: {} }], ['g', { name: 'g', hosts: names, children: [], vars: {} }]]) }
}

describe('engine: runPlaybook', () => {
  let dir: string
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'muster-engine-'))
  })
  afterEach(() => rmSync(dir, { recursive: true, force: true }))

  async function run(pb: ReturnType<typeof playbook>, opts: { hosts?: string[]; mode?: 'apply' | 'check'; unreachable?: string[]; loseAt?: Record<string, number>; tags?: string[]; skipTags?: string[]; limit?: string[]; allowUnmatched?: boolean; forks?: number; probeTimeoutMs?: number; stuckFacts?: string[] } = {}) {
    const names = opts.hosts ?? ['h1']
    const conns = new Map<string, RecordingConnection>()
    const events: MusterEvent[] = []
    const recap: Recap = await runPlaybook({
      playbook: pb,
      playbookName: 'test',
      inventory: inventoryOf(names),
      mode: opts.mode ?? 'apply',
      forks: opts.forks ?? 10,
      diff: false,
      ...(opts.tags ? { tags: opts.tags } : {}),
      ...(opts.skipTags ? { skipTags: opts.skipTags } : {}),
      ...(opts.limit ? { limit: new Set(opts.limit), limitLabel: `--limit '${opts.limit.join(':')}'` } : {}),
      ...(opts.allowUnmatched ? { allowUnmatched: true } : {}),
      ...(opts.probeTimeoutMs !== undefined ? { probeTimeoutMs: opts.probeTimeoutMs } : {}),
      connect: async (h) => {
        if (opts.unreachable?.includes(h.name)) throw new UnreachableError(h.name, 'connection refused')
        let c = conns.get(h.name)
        if (!c) {
          c = opts.stuckFacts?.includes(h.name) ? new StuckFacts(h.name) : new RecordingConnection(h.name)
          if (opts.loseAt?.[h.name]) c.loseAt = opts.loseAt[h.name]
          conns.set(h.name, c)
        }
        return c
      },
      onEvent: (e) => events.push(e),
    })
    const results = events.filter((e): e is Extract<MusterEvent, { type: 'resource:result' }> => e.type === 'resource:result')
    return { recap, events, results, conns }
  }

  it('applies changes, re-probes after each change, and a second run changes nothing in one probe batch', async () => {
    const a = join(dir, 'a')
    const b = join(dir, 'b')
    const pb = playbook({ hosts: 'all', roles: [role('r', () => [kv(a, '1'), kv(b, '2'), kv(join(dir, 'c'), '3')])], gatherFacts: false })
    writeFileSync(join(dir, 'c'), '3')
    const first = await run(pb)
    expect(first.results.map((r) => r.status)).to.deep.equal(['changed', 'changed', 'ok'])
    expect(first.recap.hosts.h1!.changed).to.equal(2)
    expect(first.recap.exitCode).to.equal(0)
    expect(readFileSync(a, 'utf8')).to.equal('1')
    // initial batch, then one re-probe after each of the two changes
    expect(first.conns.get('h1')!.probeBatches).to.equal(3)

    const second = await run(pb)
    expect(second.results.every((r) => r.status === 'ok')).to.equal(true)
    expect(second.recap.hosts.h1!.changed).to.equal(0)
    expect(second.conns.get('h1')!.commands).to.have.length(1)
    expect(second.conns.get('h1')!.probeBatches).to.equal(1)
  })

  it('a probe stuck on the host fails that host once it is out of time, without probing it again; the others finish', async () => {
    // a guard that never answers in time, as a stat under a hung mount would not
    const stuck = role('stuck', (ctx) => (ctx.name === 'h1' ? [command('true', { unless: 'sleep 7' }), kv(join(dir, 'x'), '1')] : [kv(join(dir, 'y'), '1')]))
    const { recap, events, conns } = await run(playbook({ hosts: 'all', roles: [stuck], gatherFacts: false }), { hosts: ['h1', 'h2'], mode: 'check', probeTimeoutMs: 300 })
    const failed = events.filter((e) => e.type === 'host:failed')
    expect(failed).to.have.length(1)
    expect(failed[0]).to.include({ host: 'h1', resource: 'probe' })
    expect((failed[0] as { message: string }).message).to.contain('the probe did not finish in 0.3 s (--probe-timeout)')
    // the run's first probe ran out of time: the play reports it instead of waiting as long again
    expect(conns.get('h1')!.probeBatches).to.equal(1)
    expect(recap.hosts.h1!.stats.execs, 'the probe sent is in its round trips').to.equal(1)
    expect(recap.hosts.h1!.probeBatches).to.equal(1)
    expect(recap.hosts.h1!.failed).to.equal(1)
    expect(recap.hosts.h2!.failed).to.equal(0)
    expect(recap.exitCode).to.equal(1)
  })

  it('a stuck host is said once per play: an always play after the failure tries it again, under the same bound', async () => {
    const stuck = role('stuck', () => [command('true', { unless: 'sleep 7' })])
    const pb = playbook({ hosts: 'all', roles: [stuck], gatherFacts: false }, { hosts: 'all', roles: [stuck], gatherFacts: false, always: true })
    const { recap, events, conns } = await run(pb, { mode: 'check', probeTimeoutMs: 300 })
    expect(events.filter((e) => e.type === 'host:failed').map((e) => (e as { play: string }).play)).to.have.length(2)
    expect(conns.get('h1')!.probeBatches, 'one probe per play, each a real try').to.equal(2)
    expect(recap.hosts.h1!.probeBatches).to.equal(2)
    expect(recap.hosts.h1!.failed, 'one host, failed').to.equal(1)
    expect(recap.exitCode).to.equal(1)
  })

  it('facts that cannot be read in time fail the host once, counted in the exit code, without reading them again', async () => {
    const reads = role('reads', (ctx) => [kv(join(dir, ctx.facts.hostname ? 'x' : 'y'), '1')])
    const { recap, events, conns } = await run(playbook({ hosts: 'all', roles: [reads] }), { hosts: ['h1', 'h2'], mode: 'check', probeTimeoutMs: 300, stuckFacts: ['h1'] })
    const failed = events.filter((e) => e.type === 'host:failed')
    expect(failed.map((e) => [e.host, (e as { resource: string }).resource])).to.deep.equal([['h1', 'probe']])
    expect(conns.get('h1')!.commands.filter((c) => c.stdin.includes('os_pretty='))).to.have.length(1)
    expect(recap.hosts.h1!.failed).to.equal(1)
    expect(recap.exitCode).to.equal(1)
  })

  it('check mode never applies, predicts later state, and exits 2 on drift', async () => {
    const base = join(dir, 'base')
    const dep = join(dir, 'dep')
    const pb = playbook({ hosts: 'all', roles: [role('r', () => [kv(base, 'x'), needs(dep, base, 'y')])], gatherFacts: false })
    const { results, recap, conns } = await run(pb, { mode: 'check' })
    // without the prediction of kv(base), needs() would fail: base does not exist yet
    expect(results.map((r) => r.status)).to.deep.equal(['would-change', 'would-change'])
    expect(conns.get('h1')!.applies).to.deep.equal([])
    expect(existsSync(base)).to.equal(false)
    expect(recap.exitCode).to.equal(2)
  })

  it('says "unknown until applied" instead of guessing when a change predicts nothing', async () => {
    const base = join(dir, 'base')
    const pb = playbook({ hosts: 'all', roles: [role('r', () => [kv(base, 'x', { predictNothing: true }), needs(join(dir, 'dep'), base, 'y')])], gatherFacts: false })
    const { results, recap } = await run(pb, { mode: 'check' })
    expect(results.map((r) => r.status)).to.deep.equal(['would-change', 'unknown'])
    expect(results[1]!.summary).to.match(/unknown until applied: changed by kv:/)
    expect(recap.exitCode).to.equal(2)
  })

  it('runs a notified handler once at the end of the play, and not when nothing changed', async () => {
    const log = join(dir, 'handler.log')
    const h = logHandler('reload thing', log)
    const pb = playbook({ hosts: 'all', roles: [role('r', () => [kv(join(dir, 'a'), '1', { notify: h }), kv(join(dir, 'b'), '2', { notify: h })])], gatherFacts: false })
    const first = await run(pb)
    expect(readFileSync(log, 'utf8')).to.equal('reload thing\n')
    expect(first.events.filter((e) => e.type === 'handler:result')).to.have.length(1)
    const second = await run(pb)
    expect(readFileSync(log, 'utf8')).to.equal('reload thing\n')
    expect(second.events.filter((e) => e.type === 'handler:result')).to.have.length(0)
    const check = await run(playbook({ hosts: 'all', roles: [role('r', () => [kv(join(dir, 'z'), '1', { notify: h })])], gatherFacts: false }), { mode: 'check' })
    expect(check.events.find((e) => e.type === 'handler:result')).to.include({ status: 'would-change' })
    expect(readFileSync(log, 'utf8')).to.equal('reload thing\n')
  })

  it('a failure stops only its host: later resources skipped, other hosts finish, exit 1', async () => {
    const pb = playbook({
      hosts: 'all',
      roles: [role('r', (ctx) => [needs(join(dir, `${ctx.name}-x`), ctx.name === 'bad' ? join(dir, 'missing') : join(dir, 'exists'), 'v'), kv(join(dir, `${ctx.name}-y`), 'w')])],
      gatherFacts: false,
    })
    writeFileSync(join(dir, 'exists'), '')
    const { recap, results } = await run(pb, { hosts: ['good', 'bad'] })
    const bad = results.filter((r) => r.host === 'bad').map((r) => r.status)
    expect(bad).to.deep.equal(['failed', 'skipped'])
    expect(recap.hosts.good!.failed).to.equal(0)
    expect(readFileSync(join(dir, 'good-y'), 'utf8')).to.equal('w')
    expect(existsSync(join(dir, 'bad-y'))).to.equal(false)
    expect(recap.exitCode).to.equal(1)
  })

  it('an unreachable host is reported, sits out later plays, and the others finish: exit 3', async () => {
    const pb = playbook(
      { hosts: 'all', roles: [role('one', (ctx) => [kv(join(dir, `${ctx.name}-1`), '1')])], gatherFacts: false },
      { hosts: 'all', roles: [role('two', (ctx) => [kv(join(dir, `${ctx.name}-2`), '2')])], gatherFacts: false },
    )
    const { recap, events } = await run(pb, { hosts: ['up', 'down'], unreachable: ['down'] })
    expect(recap.hosts.down!.unreachable).to.equal(true)
    expect(readFileSync(join(dir, 'up-2'), 'utf8')).to.equal('2')
    expect(events.filter((e) => e.type === 'host:unreachable')).to.have.length(1)
    expect(recap.exitCode).to.equal(3)
  })

  it('a host lost mid-run is unreachable, not failed', async () => {
    const pb = playbook({ hosts: 'all', roles: [role('r', (ctx) => [kv(join(dir, `${ctx.name}-a`), '1'), kv(join(dir, `${ctx.name}-b`), '2')])], gatherFacts: false })
    const { recap } = await run(pb, { hosts: ['h1', 'h2'], loseAt: { h2: 3 } })
    expect(recap.hosts.h2!.unreachable).to.equal(true)
    expect(recap.hosts.h1!.changed).to.equal(2)
    expect(recap.exitCode).to.equal(3)
  })

  it('serial batches run one after another, and maxFailPercentage stops the rollout', async () => {
    const order: string[] = []
    const pb = playbook({
      hosts: 'all',
      serial: 1,
      maxFailPercentage: 0,
      roles: [
        role('r', (ctx) => {
          order.push(ctx.name)
          return [needs(join(dir, `${ctx.name}-x`), ctx.name === 'b' ? join(dir, 'missing') : join(dir, 'exists'), 'v')]
        }),
      ],
      gatherFacts: false,
    })
    writeFileSync(join(dir, 'exists'), '')
    const { events, recap } = await run(pb, { hosts: ['a', 'b', 'c'] })
    const ran = events.filter((e) => e.type === 'resource:result').map((e) => (e as { host: string }).host)
    expect(ran).to.deep.equal(['a', 'b'])
    expect(order).to.include.members(['a', 'b'])
    expect(events.filter((e) => e.type === 'batch:start').map((e) => (e as { hosts: string[] }).hosts)).to.deep.equal([['a'], ['b']])
    const stop = events.find((e) => e.type === 'play:end' && e.stopped) as { stopped: string }
    expect(stop.stopped).to.match(/not started: c/)
    expect(existsSync(join(dir, 'c-x'))).to.equal(false)
    expect(recap.exitCode).to.equal(1)
  })

  it('--tags runs only the selected resources and reports the rest skipped', async () => {
    const pb = playbook({ hosts: 'all', roles: [role('web', () => [kv(join(dir, 'w'), '1')]), role('db', () => [kv(join(dir, 'd'), '1')])], gatherFacts: false })
    const { results } = await run(pb, { tags: ['db'] })
    expect(results.map((r) => `${r.resource.split('/').pop()}:${r.status}`)).to.deep.equal(['w:skipped', 'd:changed'])
  })

  describe('a selection that selects nothing is an input error, before anything runs', () => {
    const twoRoles = () =>
      playbook({ hosts: 'all', roles: [role('nginx', () => [kv(join(dir, 'w'), '1', { tags: ['config'] })]), role('db', () => [kv(join(dir, 'd'), '1')])], gatherFacts: false })
    const cases: [string, () => ReturnType<typeof playbook>, Parameters<typeof run>[1], RegExp][] = [
      ['a misspelled role tag', twoRoles, { tags: ['ngnix'] }, /^--tags ngnix: no resource of this run has the tag 'ngnix'; did you mean 'nginx'\?$/],
      ['a misspelled resource tag', twoRoles, { tags: ['db', 'confg'] }, /^--tags confg: .*did you mean 'config'\?$/],
      ['a --skip-tags nothing has', twoRoles, { skipTags: ['nothing-has-this'] }, /^--skip-tags nothing-has-this: no resource of this run has the tag 'nothing-has-this'$/],
      ['a tag only a play outside --limit has', () => playbook({ hosts: 'h1', roles: [role('web', () => [kv(join(dir, 'w'), '1')])], gatherFacts: false }, { hosts: 'h2', roles: [role('db', () => [kv(join(dir, 'd'), '1')])], gatherFacts: false }), { hosts: ['h1', 'h2'], limit: ['h1'], tags: ['db'] }, /^--tags db: no resource/],
      ['a play whose pattern matches no host', () => playbook({ name: 'empty', hosts: 'h1:!h1', roles: [role('web', () => [])], gatherFacts: false }), { hosts: ['h1', 'h2'] }, /^play "empty": hosts 'h1:!h1' match no host of the inventory$/],
      ['a --limit outside every play', () => playbook({ hosts: 'h1', roles: [role('web', () => [kv(join(dir, 'w'), '1')])], gatherFacts: false }), { hosts: ['h1', 'h2'], limit: ['h2'] }, /^--limit 'h2' selects none of the playbook's hosts \(h1\)$/],
    ]
    for (const [name, pb, opts, message] of cases) {
      it(name, async () => {
        const err = await run(pb(), opts).then(() => undefined, (e: unknown) => e as Error)
        expect(err, 'the run was refused').to.be.instanceOf(SelectionError)
        expect(err!.message).to.match(message)
        expect(existsSync(join(dir, 'w')) || existsSync(join(dir, 'd')), 'nothing ran').to.equal(false)
      })
    }

    it('a play pattern naming an unknown group names the play and what was meant', async () => {
      const err = await run(playbook({ name: 'web servers', hosts: 'gg', roles: [role('web', () => [])], gatherFacts: false })).then(() => undefined, (e: unknown) => e as Error)
      expect(err!.message).to.equal(`play "web servers": unknown host or group 'gg' in pattern 'gg'; did you mean 'g'?`)
    })

    it('--allow-unmatched runs anyway with a warning; a check that then checks nothing never exits 0', async () => {
      const applied = await run(twoRoles(), { tags: ['db', 'ngnix'], allowUnmatched: true })
      expect(applied.events.filter((e) => e.type === 'warning').map((e) => (e as { message: string }).message)).to.deep.equal([
        "--tags ngnix: no resource of this run has the tag 'ngnix'; did you mean 'nginx'? (--allow-unmatched: running anyway)",
      ])
      expect(applied.results.map((r) => r.status)).to.deep.equal(['skipped', 'changed'])
      const nothing = await run(twoRoles(), { tags: ['ngnix'], allowUnmatched: true, mode: 'check' })
      expect(nothing.results.map((r) => r.status)).to.deep.equal(['skipped', 'skipped'])
      expect(nothing.recap.exitCode).to.equal(64)
      const some = await run(twoRoles(), { tags: ['db'], mode: 'check' })
      expect(some.recap.exitCode, 'd was applied above: a check that checked it is in sync').to.equal(0)
    })
  })

  it('an error in a role is an input error (exit 64) naming host and role', async () => {
    const pb = playbook({
      hosts: 'all',
      roles: [
        role('broken', (ctx) => {
          ctx.need('serverName')
          return []
        }),
      ],
      gatherFacts: false,
    })
    const { recap, events } = await run(pb)
    const failed = events.find((e) => e.type === 'host:failed') as { message: string }
    expect(failed).to.include({ host: 'h1' })
    // the host is the event's: the message does not say it again
    expect(failed.message).to.match(/^role broken: test\/unit\/engine\/run\.test\.ts:\d+:\d+: var "serverName" is required but not set/)
    expect(recap.exitCode).to.equal(64)
  })

  it('a converged host is probed once for the whole run, all its plays in one batch', async () => {
    const pb = playbook(
      { hosts: 'all', roles: [role('one', (ctx) => [kv(join(dir, `${ctx.name}-1`), '1')])], gatherFacts: false },
      { hosts: 'all', roles: [role('two', (ctx) => [kv(join(dir, `${ctx.name}-2`), '2')])], gatherFacts: false },
      { hosts: 'all', roles: [role('three', (ctx) => [kv(join(dir, `${ctx.name}-3`), '3')])], gatherFacts: false },
    )
    await run(pb, { hosts: ['h1', 'h2'] })
    const again = await run(pb, { hosts: ['h1', 'h2'] })
    expect(again.recap.hosts.h1!.changed).to.equal(0)
    expect(again.conns.get('h1')!.probeBatches).to.equal(1)
    expect(again.conns.get('h2')!.probeBatches).to.equal(1)
    expect(again.conns.get('h1')!.commands[0]!.stdin).to.contain('h1-3')
  })

  it('a change anywhere makes every host re-probe at the next play: facts read before it may be stale', async () => {
    // play two on h2 reads a file that play one on h1 writes: a stale picture would miss it
    // (one fork, h2 first: h2's first probe, which prefetches play two, runs before h1 writes)
    const shared = join(dir, 'shared')
    const pb = playbook(
      { hosts: 'all', roles: [role('writer', (ctx) => [kv(ctx.name === 'h1' ? shared : join(dir, 'h2-noop'), 'v1')])], gatherFacts: false },
      { hosts: 'h2', roles: [role('reader', () => [needs(join(dir, 'h2-out'), shared, 'ok')])], gatherFacts: false },
    )
    writeFileSync(join(dir, 'h2-noop'), 'v1') // h2 itself changes nothing in play one
    const { recap } = await run(pb, { hosts: ['h2', 'h1'], forks: 1 })
    expect(recap.exitCode).to.equal(0)
    expect(readFileSync(join(dir, 'h2-out'), 'utf8')).to.equal('ok')
  })

  it('after a change, re-probes carry only the rest of the play: later plays re-probe at their start anyway', async () => {
    const pb = playbook(
      { hosts: 'all', roles: [role('one', () => [kv(join(dir, 'p1-a'), '1'), kv(join(dir, 'p1-b'), '1')])], gatherFacts: false },
      { hosts: 'all', roles: [role('two', () => [kv(join(dir, 'p2-a'), '2')])], gatherFacts: false },
    )
    const { conns, recap } = await run(pb)
    expect(recap.exitCode).to.equal(0)
    const probes = conns.get('h1')!.commands.filter((c) => c.stdin.includes('read-only probe')).map((c) => c.stdin)
    // the warm probe reads all plays; the re-probe after p1-a's change reads p1-b only; play two reads its own at its start
    expect(probes.map((p) => ['p1-a', 'p1-b', 'p2-a'].filter((k) => p.includes(join(dir, k))))).to.deep.equal([
      ['p1-a', 'p1-b', 'p2-a'],
      ['p1-b'],
      ['p2-a'],
    ])
  })

  it('gathers host facts only when a role reads them', async () => {
    const quiet = playbook({ hosts: 'all', roles: [role('r', (ctx) => [kv(join(dir, `${ctx.name}-q`), '1')])] })
    const a = await run(quiet)
    expect(a.conns.get('h1')!.commands.some((c) => c.stdin.includes('os_pretty='))).to.equal(false)
    let seen = ''
    const curious = playbook({ hosts: 'all', roles: [role('r', (ctx) => ((seen = ctx.facts.os.id), [kv(join(dir, `${ctx.name}-c`), '1')]))] })
    const b = await run(curious)
    expect(b.conns.get('h1')!.commands.some((c) => c.stdin.includes('os_pretty='))).to.equal(true)
    expect(seen).to.equal('debian')
  })
})
