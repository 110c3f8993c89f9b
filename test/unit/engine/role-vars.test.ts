import { expect } from 'chai'
import { role, playbook } from '../../../src/engine/playbook.ts'
import { roleVar, varKinds, checkVars, closestName } from '../../../src/engine/role-vars.ts'
import { checkPlaybookVars, VarsError } from '../../../src/engine/check-vars.ts'
import { secret } from '../../../src/core/secret.ts'
import { fromIni, text } from '../inventory/helpers.ts'

const db = role('db', {
  vars: {
    mysqlServerId: roleVar.integer({ required: true, description: 'unique id' }),
    dbPassword: roleVar.secret({ required: true, description: 'the password' }),
    dbPort: roleVar.integer({ default: 3306, description: 'port' }),
    dbSettings: roleVar.of(varKinds.record(varKinds.either(varKinds.string, varKinds.number)), { default: {}, description: 'more' }),
  },
}, (ctx) => [ctx.vars.dbPort === 3306 ? null : null])
const web = role('web', { vars: { webPort: roleVar.integer({ default: 80, description: 'port' }) } }, () => [])
const untyped = role('untyped', () => [])
const site = playbook({ hosts: 'db', roles: [db] }, { hosts: 'web', roles: [web, untyped] })

const problems = (inventory: string, limit?: string[]): string[] => {
  try {
    checkPlaybookVars(site, fromIni(text([inventory] as unknown as TemplateStringsArray), {}, 'inventory/hosts.ini'), limit && new Set(limit))
    return []
  } catch (err) {
    expect(err).to.be.instanceOf(VarsError)
    return [...(err as VarsError).problems]
  }
}

describe('typed roles: var declarations checked before a run', function () {
  it('checkVars: missing required, wrong type, plain string for a secret; defaults and nulls', () => {
    expect(checkVars(db.vars, { mysqlServerId: 1, dbPassword: secret('pw-unit-1') })).to.deep.equal([])
    const found = checkVars(db.vars, { mysqlServerId: '1', dbPassword: 'pw', dbPort: 3306.5, dbSettings: { a: 1, b: [] } }).map((p) => p.message)
    expect(found).to.deep.equal([
      'var "mysqlServerId" must be integer, got the string "1"',
      'var "dbPassword" is a plain string where a Secret is required: write `!vault NAME` or `!env NAME` in a YAML/INI inventory, vault(...).get() or secret() in a TypeScript one',
      'var "dbPort" must be integer, got number 3306.5',
      'var "dbSettings" must be { [name]: string | number }, got a mapping',
    ])
    expect(checkVars(db.vars, {}).map((p) => p.varName)).to.deep.equal(['mysqlServerId', 'dbPassword'])
  })

  it('a role sees its declared vars with defaults, however it is called', () => {
    let seen: unknown
    const r = role('r', { vars: { a: roleVar.string({ default: 'x', description: 'a' }), b: roleVar.string({ description: 'b' }) } }, (ctx) => {
      seen = { ...ctx.vars }
      return []
    })
    r.build({ vars: { b: 'given', other: 1 }, name: 'h' } as never)
    expect(seen).to.deep.include({ a: 'x', b: 'given' })
  })

  it('closestName: another case, or one or two edits on a long name; never a far one', () => {
    expect(closestName('mysqlServerID', ['mysqlServerId', 'dbPort'])).to.equal('mysqlServerId')
    expect(closestName('mysqlServerd', ['mysqlServerId'])).to.equal('mysqlServerId')
    expect(closestName('dbPrt', ['dbPort'])).to.equal('dbPort')
    expect(closestName('appName', ['dbPort', 'webPort'])).to.equal(undefined)
    expect(closestName('dbPort', ['dbPort'])).to.equal(undefined)
  })

  it('every mistake on every host, each naming the inventory file, the host and the role', () => {
    const found = problems(`
      [db]
      db-1 mysqlServerId=1 dbPassword=plain
      db-2 mysqlServerID=2
      [web]
      web-1 webPort=http webPrt=8080
      [all:vars]
      unrelated=1
    `)
    expect(found).to.deep.equal([
      'inventory/hosts.ini: host db-1: role db: var "dbPassword" is a plain string where a Secret is required: write `!vault NAME` or `!env NAME` in a YAML/INI inventory, vault(...).get() or secret() in a TypeScript one',
      'inventory/hosts.ini: host db-2: role db: var "mysqlServerId" is required but not set (integer: unique id)',
      'inventory/hosts.ini: host db-2: role db: var "dbPassword" is required but not set (Secret: the password)',
      'inventory/hosts.ini: host db-2: role db: unknown var "mysqlServerID" (did you mean mysqlServerId?)',
      'inventory/hosts.ini: host web-1: role web: var "webPort" must be integer, got the string "http"',
      'inventory/hosts.ini: host web-1: role web: unknown var "webPrt" (did you mean webPort?)',
    ])
  })

  it('only the hosts the run reaches (--limit) are checked; a clean inventory passes', () => {
    expect(problems('[db]\ndb-1\n[web]\nweb-1\n', ['web-1'])).to.deep.equal([])
    expect(problems('[db]\ndb-1\n[web]\nweb-1\n', ['db-1'])).to.have.length(2)
  })
})
