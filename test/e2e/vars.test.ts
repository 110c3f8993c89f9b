import { expect } from 'chai'
import { muster } from '../support/cli.ts'

describe('e2e: muster vars, from the roles\' own declarations', function () {
  this.timeout(60_000)

  it('lists one role of a playbook: type, required/default/secret, what for', async () => {
    const r = await muster(['vars', 'playbooks/site.ts', 'mysql-primary'])
    expect(r.code, r.stderr).to.equal(0)
    const lines = r.stdout.trim().split('\n')
    expect(lines[0]).to.equal("mysql-primary: the app's database and account, and the replication account")
    expect(lines).to.include.members([
      '  appDbName          string  default "app"         the application\'s database',
      '  dbAppPassword      Secret  required, secret      password of appDbUser',
      '  mysqlPrimaryGroup  string  default "db_primary"  the inventory group holding the one primary database server',
    ])
  })

  it('--json: every role of a role module, with defaults as values', async () => {
    const r = await muster(['vars', 'roles/haproxy/index.ts', '--json'])
    expect(r.code, r.stderr).to.equal(0)
    const [haproxy] = r.events as { role: string; vars: Record<string, { type: string; required: boolean; secret: boolean; default?: unknown }> }[]
    expect(haproxy!.role).to.equal('haproxy')
    expect(haproxy!.vars.hstsMaxAge).to.deep.include({ type: 'integer', required: false, default: 31536000 })
    expect(haproxy!.vars.tlsKey).to.deep.include({ type: 'Secret', secret: true, required: false })
  })

  it('an unknown role is exit 64 naming the roles there are', async () => {
    const r = await muster(['vars', 'playbooks/site.ts', 'mysql-servr'])
    expect(r.code).to.equal(64)
    expect(r.stderr).to.contain('has no role "mysql-servr" (it has packages, firewall, mysql-server,')
  })
})
