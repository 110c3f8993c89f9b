import { expect } from 'chai'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runPlaybook } from '../../../src/engine/run.ts'
import { playbook, role } from '../../../src/engine/playbook.ts'
import type { MusterEvent, Recap } from '../../../src/engine/events.ts'
import type { HostInfo, Inventory } from '../../../src/inventory/types.ts'
import { UnreachableError } from '../../../src/ssh/connection.ts'
import { RecordingConnection } from '../../support/fake-connection.ts'
import { kv, needs } from '../../support/kv-resource.ts'

function inventoryOf(names: string[]): Inventory {
  const hosts = new Map<string, HostInfo>()
  for (const n of names) hosts.set(n, { name: n, address: '127.0.0.1', port: 22, user: 'root', become: false, groups: ['all'], vars: {}, ssh: {} })
  return { source: 'test', hosts, groups: new Map([['all', { name: 'all', hosts: names, children: [], vars: {} }]]) }
}

/**
 * `always` plays (a deploy lock's release) run however the run ended: after a
 * rollout stopped by maxFailPercentage, on the hosts that failed too, and
 * after an interruption (the abort signal), which lets the hosts in flight
 * finish but starts no new batch or play.
 */
describe('engine: always plays and interruption', () => {
  let dir: string
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'muster-always-'))
    writeFileSync(join(dir, 'exists'), '')
  })
  afterEach(() => rmSync(dir, { recursive: true, force: true }))

  async function run(pb: ReturnType<typeof playbook>, hosts: string[], opts: { unreachable?: string[]; signal?: AbortSignal; onEvent?: (e: MusterEvent) => void; mode?: 'apply' | 'check' } = {}) {
    const events: MusterEvent[] = []
    const recap: Recap = await runPlaybook({
      playbook: pb,
      playbookName: 'test',
      inventory: inventoryOf(hosts),
      mode: opts.mode ?? 'apply',
      forks: 10,
      diff: false,
      connect: async (h) => {
        if (opts.unreachable?.includes(h.name)) throw new UnreachableError(h.name, 'connection refused')
        return new RecordingConnection(h.name)
      },
      onEvent: (e) => {
        events.push(e)
        opts.onEvent?.(e)
      },
      ...(opts.signal ? { signal: opts.signal } : {}),
    })
    const ran = (play: string) => events.filter((e) => e.type === 'resource:result' && e.play === play).map((e) => (e as { host: string }).host)
    return { recap, events, ran }
  }

  const lock = role('lock', (ctx) => [kv(join(dir, `${ctx.name}.lock`), 'held')])
  const unlock = role('unlock', (ctx) => [kv(join(dir, `${ctx.name}.lock`), 'free')])
  // b cannot plan: it needs a file that is not there
  const work = role('work', (ctx) => [needs(join(dir, `${ctx.name}.done`), ctx.name === 'b' ? join(dir, 'missing') : join(dir, 'exists'), 'v')])

  it('runs after a rollout stopped by maxFailPercentage, on the failed host too; the plays between are skipped', async () => {
    const pb = playbook(
      { name: 'lock', hosts: 'all', roles: [lock], gatherFacts: false },
      { name: 'work', hosts: 'all', roles: [work], serial: 1, maxFailPercentage: 0, gatherFacts: false },
      { name: 'after work', hosts: 'all', roles: [role('more', (ctx) => [kv(join(dir, `${ctx.name}.more`), 'x')])], gatherFacts: false },
      { name: 'unlock', hosts: 'all', roles: [unlock], always: true, gatherFacts: false },
    )
    const { recap, ran, events } = await run(pb, ['a', 'b', 'c'])
    expect(ran('work')).to.deep.equal(['a', 'b'])
    expect(ran('after work')).to.deep.equal([])
    expect(ran('unlock').sort()).to.deep.equal(['a', 'b', 'c'])
    for (const h of ['a', 'b', 'c']) expect(readFileSync(join(dir, `${h}.lock`), 'utf8'), h).to.equal('free')
    expect(existsSync(join(dir, 'c.done'))).to.equal(false)
    expect(events.filter((e) => e.type === 'play:start').map((e) => (e as { play: string }).play)).to.deep.equal(['lock', 'work', 'unlock'])
    expect(recap.exitCode).to.equal(1)
  })

  it('is not run on a host that was unreachable', async () => {
    const pb = playbook(
      { name: 'lock', hosts: 'all', roles: [lock], maxFailPercentage: 0, gatherFacts: false },
      { name: 'unlock', hosts: 'all', roles: [unlock], always: true, gatherFacts: false },
    )
    const { ran, events, recap } = await run(pb, ['a', 'b'], { unreachable: ['b'] })
    expect(ran('unlock')).to.deep.equal(['a'])
    expect(events.filter((e) => e.type === 'host:unreachable').map((e) => (e as { host: string }).host)).to.deep.equal(['b'])
    expect(recap.exitCode).to.equal(1) // the stopped run outranks the unreachable host
  })

  it('runs like any play when nothing went wrong', async () => {
    const pb = playbook(
      { name: 'work', hosts: 'all', roles: [work], gatherFacts: false },
      { name: 'unlock', hosts: 'all', roles: [unlock], always: true, gatherFacts: false },
    )
    const { ran, recap } = await run(pb, ['a', 'c'])
    expect(ran('unlock').sort()).to.deep.equal(['a', 'c'])
    expect(recap.exitCode).to.equal(0)
  })

  it('an abort lets the batch in flight finish, starts no other batch or play, and still runs the always plays', async () => {
    const abort = new AbortController()
    const pb = playbook(
      { name: 'lock', hosts: 'all', roles: [lock], gatherFacts: false },
      { name: 'work', hosts: 'all', roles: [work], serial: 1, gatherFacts: false },
      { name: 'after work', hosts: 'all', roles: [role('more', (ctx) => [kv(join(dir, `${ctx.name}.more`), 'x')])], gatherFacts: false },
      { name: 'unlock', hosts: 'all', roles: [unlock], always: true, gatherFacts: false },
    )
    // Ctrl-C while the first host of the rolling play is at work
    const { ran, events, recap } = await run(pb, ['a', 'c'], {
      signal: abort.signal,
      onEvent: (e) => {
        if (e.type === 'batch:start' && e.batch === 1) abort.abort()
      },
    })
    expect(ran('work')).to.deep.equal(['a'])
    expect(existsSync(join(dir, 'a.done')), 'the host in flight finished').to.equal(true)
    expect(existsSync(join(dir, 'c.done'))).to.equal(false)
    expect(ran('after work')).to.deep.equal([])
    expect(ran('unlock').sort()).to.deep.equal(['a', 'c'])
    const stop = events.find((e) => e.type === 'play:end' && e.stopped) as { play: string; stopped: string }
    expect(stop).to.deep.include({ play: 'work' })
    expect(stop.stopped).to.equal('interrupted; not started: c')
    expect(recap.exitCode).to.equal(1)
  })

  describe('onlyIfNoFailures (a rotation\'s last step: retire the old password only when every copy has the new one)', () => {
    const retire = role('retire', (ctx) => [kv(join(dir, `${ctx.name}.retired`), 'yes')])
    const pb = () =>
      playbook(
        { name: 'work', hosts: 'all', roles: [work], gatherFacts: false },
        { name: 'after work', hosts: 'all', roles: [role('more', (ctx) => [kv(join(dir, `${ctx.name}.more`), 'x')])], gatherFacts: false },
        { name: 'retire', hosts: 'a', roles: [retire], onlyIfNoFailures: true, gatherFacts: false },
      )

    it('in apply, is not run after a host failed earlier, and says which; the plays before it still run', async () => {
      const { recap, ran, events } = await run(pb(), ['a', 'b', 'c'])
      expect(ran('after work').sort()).to.deep.equal(['a', 'c'])
      expect(ran('retire')).to.deep.equal([])
      expect(existsSync(join(dir, 'a.retired'))).to.equal(false)
      const end = events.find((e) => e.type === 'play:end' && e.play === 'retire') as { stopped?: string }
      expect(end.stopped).to.equal('not run (onlyIfNoFailures): earlier plays failed on b; not started: a')
      expect(recap.exitCode).to.equal(1)
    })

    it('in apply, is not run after a host was unreachable', async () => {
      const { ran } = await run(pb(), ['a', 'c'], { unreachable: ['c'] })
      expect(ran('retire')).to.deep.equal([])
    })

    it('in apply, runs when every host succeeded', async () => {
      const { ran, recap } = await run(pb(), ['a', 'c'])
      expect(ran('retire')).to.deep.equal(['a'])
      expect(readFileSync(join(dir, 'a.retired'), 'utf8')).to.equal('yes')
      expect(recap.exitCode).to.equal(0)
    })

    it('in check, is planned as usual: a check predicts the run in which every host succeeds', async () => {
      const { ran } = await run(pb(), ['a', 'b', 'c'], { mode: 'check' })
      expect(ran('retire')).to.deep.equal(['a'])
      expect(existsSync(join(dir, 'a.retired'))).to.equal(false)
    })
  })
})
