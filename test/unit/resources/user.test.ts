import { expect } from 'chai'
import { user, type UserOptions } from '../../../src/resources/user.ts'
import { userFact, type UserState } from '../../../src/facts/user.ts'
import { groupFact, type GroupState } from '../../../src/facts/group.ts'
import { createApplyContext, localHostInfo } from '../../../src/engine/apply-context.ts'
import { LocalConnection } from '../../../src/ssh/local-connection.ts'
import type { Plan } from '../../../src/contract/resource.ts'
import { fixtureValue, planOf, commandsOf } from '../../support/system-probe-fixture.ts'
import { forEachRelease } from '../../support/fixture-release.ts'

const u = (fixture: string, name: string): UserState => fixtureValue(userFact, fixture, name)
const g = (fixture: string, name: string): GroupState => fixtureValue(groupFact, fixture, name)

forEachRelease('user resource', () => {
  // recorded: user/mix + group/mix (controller), user/web-01-bare + group/web-01-bare (bare lab host)
  const table: [string, string, UserOptions, 'ok' | 'change', string, string?][] = [
    ['mix', 'root', {}, 'ok', 'user root (uid 0)'],
    ['mix', 'root', { shell: '/bin/bash', home: '/root' }, 'ok', 'user root (uid 0)'],
    ['mix', 'postgres', { groups: ['ssl-cert'] }, 'ok', `user postgres (uid ${(u('mix', 'postgres') as { uid: number }).uid})`],
    ['mix', 'postgres', { groups: [] }, 'change', 'user postgres: groups [ssl-cert] -> []', 'usermod --groups \'\' postgres'],
    ['mix', 'www-data', { shell: '/bin/bash', groups: ['ssl-cert', 'adm'] }, 'change', 'user www-data: shell /usr/sbin/nologin -> /bin/bash, groups [] -> [adm, ssl-cert]', 'usermod --shell /bin/bash --groups adm,ssl-cert www-data'],
    ['mix', 'www-data', { home: '/srv/www' }, 'change', 'user www-data: home /var/www -> /srv/www', 'usermod --home /srv/www www-data'],
    ['mix', 'nosuch-muster', { state: 'absent' }, 'ok', 'user nosuch-muster absent'],
    ['mix', 'www-data', { state: 'absent' }, 'change', 'remove user www-data', 'userdel www-data'],
    ['mix', 'nosuch-muster', {}, 'change', 'create user nosuch-muster', 'useradd --create-home --user-group nosuch-muster'],
    ['web-01-bare', 'mysql', { system: true, home: '/nonexistent', shell: '/bin/false' }, 'change', 'create system user mysql', 'useradd --system --home-dir /nonexistent --no-create-home --shell /bin/false --user-group mysql'],
    ['web-01-bare', 'haproxy', { system: true, groups: ['www-data'] }, 'change', 'create system user haproxy', 'useradd --system --no-create-home --user-group --groups www-data haproxy'],
    // a group of the user's own name exists already: useradd would refuse --user-group
    ['web-01-bare', 'www-data', { state: 'present' }, 'ok', 'user www-data (uid 33)'],
    ['mix', 'root', { group: 'www-data' }, 'change', 'user root: group root -> www-data', 'usermod --gid www-data root'],
  ]
  for (const [fixture, name, opts, kind, text, cmd] of table) {
    it(`${fixture}: user(${name}, ${JSON.stringify(opts)}) -> ${kind} "${text}"`, async () => {
      const p: Plan = planOf(user(name, opts), { user: u(fixture, name), ownGroup: g(fixture, name) })
      expect(p.kind).to.equal(kind)
      expect(p.kind === 'change' ? p.summary : p.kind === 'ok' ? p.detail : '').to.equal(text)
      if (cmd) expect((await commandsOf(p)).map((c) => c.command)).to.deep.equal([cmd])
    })
  }

  it('joins an existing group of its own name instead of asking useradd to make one', async () => {
    const p = planOf(user('postgres2', {}), { user: { exists: false }, ownGroup: g('mix', 'postgres') })
    expect((await commandsOf(p)).map((c) => c.command)).to.deep.equal(['useradd --create-home --gid postgres2 postgres2'])
  })

  it('predicts the account it creates, uid left to the system', () => {
    const p = planOf(user('mysql', { system: true, home: '/nonexistent', shell: '/bin/false' }), { user: u('web-01-bare', 'mysql'), ownGroup: g('web-01-bare', 'mysql') })
    if (p.kind !== 'change') throw new Error('expected a change')
    const values = (p.predicts ?? []).map((x) => ('value' in x ? x.value : null))
    expect(values[0]).to.deep.equal({ exists: true, uid: null, gid: null, group: 'mysql', gecos: '', home: '/nonexistent', shell: '/bin/false', groups: [] })
    expect(values[1]).to.deep.equal({ exists: true, gid: null, members: [] })
  })

  it('refuses names and paths useradd would refuse', () => {
    expect(() => user('bad name')).to.throw(/not a valid user name/)
    expect(() => user('ok', { groups: ['-x'] })).to.throw(/not a valid group name/)
    expect(() => user('ok', { home: 'relative' })).to.throw(/absolute path/)
  })
})

describe('user resource, applied for real on this machine', function () {
  if (process.getuid?.() !== 0) return
  const name = `mstr-u${process.pid}`
  const grp = `mstr-g${process.pid}`
  const conn = new LocalConnection()
  const ctx = createApplyContext(localHostInfo(), conn, { resource: `user:${name}` })
  const probe = async (): Promise<{ user: UserState; ownGroup: GroupState }> => {
    const us = await conn.exec(userFact.script([name]))
    const gs = await conn.exec(groupFact.script([name]))
    return { user: userFact.parse(us.stdout, [name], us.code).get(name)!, ownGroup: groupFact.parse(gs.stdout, [name], gs.code).get(name)! }
  }
  after(async () => {
    await conn.exec(`userdel ${name} 2>/dev/null; groupdel ${name} 2>/dev/null; groupdel ${grp} 2>/dev/null; true`)
  })

  it('creates, converges, changes and removes a user; the second plan is ok', async () => {
    await conn.exec(`groupadd ${grp}`)
    const want = user(name, { system: true, shell: '/bin/bash', home: `/nonexistent/${name}`, groups: [grp] })
    const first = want.plan(await probe())
    expect(first.kind === 'change' && first.summary).to.equal(`create system user ${name}`)
    if (first.kind === 'change') await first.apply(ctx)

    const now = await probe()
    expect(now.user).to.deep.include({ exists: true, shell: '/bin/bash', home: `/nonexistent/${name}`, group: name, groups: [grp] })
    expect(want.plan(now).kind).to.equal('ok')

    const edit = user(name, { shell: '/bin/sh', groups: [] }).plan(now)
    expect(edit.kind === 'change' && edit.summary).to.equal(`user ${name}: shell /bin/bash -> /bin/sh, groups [${grp}] -> []`)
    if (edit.kind === 'change') await edit.apply(ctx)
    expect((await probe()).user).to.deep.include({ shell: '/bin/sh', groups: [] })

    const gone = user(name, { state: 'absent' }).plan(await probe())
    if (gone.kind === 'change') await gone.apply(ctx)
    const after = await probe()
    expect(after.user).to.deep.equal({ exists: false })
    // userdel took the user's own group with it, as predicted
    expect(after.ownGroup).to.deep.equal({ exists: false })
    expect(user(name, { state: 'absent' }).plan(after).kind).to.equal('ok')
  })
})
