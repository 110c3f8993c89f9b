import { expect } from 'chai'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadInventory } from '../../../src/inventory/load.ts'
import { bindPlaybook } from '../../../src/engine/play-hosts.ts'
import { checkPlaybookVars, VarsError } from '../../../src/engine/check-vars.ts'
import { PatternError } from '../../../src/inventory/patterns.ts'
import site from '../../../playbooks/site.ts'

/**
 * playbooks/site.ts on a team's own INI inventory, whose groups are not
 * named web/lb/db_primary/db_replicas: the inventory names them in its
 * [all:vars] (or -e), neither the groups nor the playbook are renamed.
 */
const dir = mkdtempSync(join(tmpdir(), 'muster-play-hosts-'))
function ini(text: string): string {
  const file = join(dir, `hosts-${Math.random().toString(36).slice(2)}.ini`)
  writeFileSync(file, text)
  return file
}
const teamIni = (allVars: string) => `
[webservers]
app1 ansible_host=10.0.0.11 mysqlServerId=1
app2 ansible_host=10.0.0.12 mysqlServerId=2

[loadbalancers]
edge1 ansible_host=10.0.0.21

[dbmain]
app1

[db_replica]
app2

[all:vars]
dbAppPassword=!env TEST_DB_APP
dbReplPassword=!env TEST_DB_REPL
${allVars}
`
const teamVars = 'webGroup=webservers\nlbGroup=loadbalancers\nmysqlPrimaryGroup=dbmain\nmysqlReplicaGroup=db_replica'
const hostsByPlay = (pb: typeof site) => Object.fromEntries(pb.plays.map((p) => [p.name, p.hosts]))

describe('play hosts from the inventory\'s group vars (site.ts on a team\'s INI groups)', () => {
  before(() => {
    process.env.TEST_DB_APP = 'a'
    process.env.TEST_DB_REPL = 'b'
  })
  after(() => {
    delete process.env.TEST_DB_APP
    delete process.env.TEST_DB_REPL
  })

  it('site.ts keeps today\'s group names as defaults', () => {
    expect(hostsByPlay(site)).to.include({ 'app and web': 'web', 'load balancer': 'lb', 'database primary': 'db_primary', 'database replicas': 'db_replicas', 'database servers': 'db_primary:db_replicas' })
  })

  it('runs each play on the groups the INI inventory names in [all:vars], and its vars pass the pre-flight check', async () => {
    const inv = await loadInventory(ini(teamIni(teamVars)))
    const bound = bindPlaybook(site, inv)
    expect(hostsByPlay(bound)).to.include({ 'app and web': 'webservers', 'load balancer': 'loadbalancers', 'database primary': 'dbmain', 'database replicas': 'db_replica', 'database servers': 'dbmain:db_replica' })
    checkPlaybookVars(bound, inv) // no VarsError: the roles find the same groups through the same vars
  })

  it('-e sets them too, over the inventory', async () => {
    const file = ini(teamIni(teamVars).replace('[loadbalancers]\nedge1', '[loadbalancers]\nedge1\n\n[edge]\nedge1'))
    const inv = await loadInventory(file, { extraVars: { lbGroup: 'edge' } })
    expect(hostsByPlay(bindPlaybook(site, inv))['load balancer']).to.equal('edge')
  })

  it('a misspelled group var is exit 64 with "did you mean", before any host', async () => {
    const inv = await loadInventory(ini(teamIni(teamVars.replace('webGroup=', 'webGrup='))))
    expect(() => bindPlaybook(site, inv)).to.throw(VarsError, /unknown var "webGrup" \(did you mean webGroup\? it decides the hosts of play "app and web"\)/)
  })

  it('a group var naming no group says which var, its value, and how to set it', async () => {
    const inv = await loadInventory(ini(teamIni(teamVars.replace('webGroup=webservers', 'webGroup=webserver'))))
    expect(() => bindPlaybook(site, inv)).to.throw(PatternError, /play "app and web": hosts 'webserver' made from webGroup="webserver" \(from the inventory\).*did you mean 'webservers'\?.*-e webGroup=GROUP/)
  })

  it('an unset group var whose default names no group says so', async () => {
    const inv = await loadInventory(ini(teamIni(teamVars.replace('webGroup=webservers', ''))))
    expect(() => bindPlaybook(site, inv)).to.throw(PatternError, /webGroup="web" \(its default: the inventory does not set webGroup\)/)
  })

  it('a group var set per group, not for the whole inventory, is refused', async () => {
    const inv = await loadInventory(ini(teamIni(teamVars.replace('webGroup=webservers', '')) + '\n[webservers:vars]\nwebGroup=webservers\n'))
    expect(() => bindPlaybook(site, inv)).to.throw(VarsError, /var "webGroup" decides the hosts of play "app and web" and must be set for the whole inventory/)
  })
})
