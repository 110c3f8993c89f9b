import { expect } from 'chai'
import { group, type GroupOptions } from '../../../src/resources/group.ts'
import { groupFact, type GroupState } from '../../../src/facts/group.ts'
import { createApplyContext, localHostInfo } from '../../../src/engine/apply-context.ts'
import { LocalConnection } from '../../../src/ssh/local-connection.ts'
import { fixtureValue, planOf, commandsOf } from '../../support/system-probe-fixture.ts'
import { forEachRelease } from '../../support/fixture-release.ts'

const g = (fixture: string, name: string): GroupState => fixtureValue(groupFact, fixture, name)

forEachRelease('group resource', () => {
  // the gid the system gave ssl-cert where it was recorded (103 on the Debian 12 controller)
  const gid = (g('mix', 'ssl-cert') as { gid: number }).gid
  const table: [string, string, GroupOptions, 'ok' | 'change', string, string?][] = [
    ['mix', 'ssl-cert', {}, 'ok', `group ssl-cert (gid ${gid})`],
    ['mix', 'ssl-cert', { gid }, 'ok', `group ssl-cert (gid ${gid})`],
    ['mix', 'ssl-cert', { gid: 2000 }, 'change', `group ssl-cert: gid ${gid} -> 2000`, 'groupmod --gid 2000 ssl-cert'],
    ['mix', 'nosuch-muster', {}, 'change', 'create group nosuch-muster', 'groupadd nosuch-muster'],
    ['web-01-bare', 'mysql', { system: true }, 'change', 'create group mysql', 'groupadd --system mysql'],
    ['web-01-bare', 'haproxy', { system: true, gid: 990 }, 'change', 'create group haproxy (gid 990)', 'groupadd --system --gid 990 haproxy'],
    ['mix', 'ssl-cert', { state: 'absent' }, 'change', 'remove group ssl-cert', 'groupdel ssl-cert'],
    ['web-01-bare', 'mysql', { state: 'absent' }, 'ok', 'group mysql absent'],
  ]
  for (const [fixture, name, opts, kind, text, cmd] of table) {
    it(`${fixture}: group(${name}, ${JSON.stringify(opts)}) -> ${kind} "${text}"`, async () => {
      const p = planOf(group(name, opts), { group: g(fixture, name) })
      expect(p.kind).to.equal(kind)
      expect(p.kind === 'change' ? p.summary : p.kind === 'ok' ? p.detail : '').to.equal(text)
      if (cmd) expect((await commandsOf(p)).map((c) => c.command)).to.deep.equal([cmd])
    })
  }
  it('refuses bad names and gids', () => {
    expect(() => group('a:b')).to.throw(/not a valid group name/)
    expect(() => group('ok', { gid: -1 })).to.throw(/gid/)
  })
})

describe('group resource, applied for real on this machine', function () {
  if (process.getuid?.() !== 0) return
  const name = `mstr-gr${process.pid}`
  const conn = new LocalConnection()
  const ctx = createApplyContext(localHostInfo(), conn, { resource: `group:${name}` })
  const probe = async (): Promise<{ group: GroupState }> => {
    const r = await conn.exec(groupFact.script([name]))
    return { group: groupFact.parse(r.stdout, [name], r.code).get(name)! }
  }
  after(async () => {
    await conn.exec(`groupdel ${name} 2>/dev/null; true`)
  })

  it('creates, renumbers and removes a group; converged plans are ok', async () => {
    const create = group(name, { system: true }).plan(await probe())
    if (create.kind !== 'change') throw new Error(`expected a change, got ${create.kind}`)
    await create.apply(ctx)
    expect((await probe()).group).to.deep.include({ exists: true, members: [] })
    expect(group(name, { system: true }).plan(await probe()).kind).to.equal('ok')

    const renumber = group(name, { gid: 45678 }).plan(await probe())
    if (renumber.kind === 'change') await renumber.apply(ctx)
    expect((await probe()).group).to.deep.equal({ exists: true, gid: 45678, members: [] })

    const remove = group(name, { state: 'absent' }).plan(await probe())
    if (remove.kind === 'change') await remove.apply(ctx)
    expect((await probe()).group).to.deep.equal({ exists: false })
  })
})
