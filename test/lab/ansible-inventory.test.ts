import { expect } from 'chai'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { ensureLab, onHost, waitFor } from '../support/lab.ts'
import { muster, explain, touched } from '../support/cli.ts'
import { snapshot, snapshotDiff } from '../support/drift.ts'
import { request } from '../support/lab-http.ts'
import { labReset } from '../../src/lab/reset.ts'
import { labFiles } from '../../src/lab/layout.ts'
import { writeVault } from '../../src/vault/vault.ts'
import type { LabState } from '../../src/lab/state.ts'

/**
 * Issue 18: the reference stack from what a team already has, an Ansible INI
 * inventory and a vault file, outside this repository: the passwords are
 * `!vault` references, the vault's password comes from a file.
 */
const MINUTE = 60_000

describe('playbooks/site.ts from an Ansible INI inventory with its own group names plus a vault (issue 18)', function () {
  let state: LabState
  let dir: string
  let env: Record<string, string>
  const appPassword = randomBytes(12).toString('hex')

  before(async function () {
    state = await ensureLab(this)
    this.timeout(5 * MINUTE)
    await labReset() // bare Debian
    dir = mkdtempSync(join(tmpdir(), 'muster-ansible-inv-'))
    writeFileSync(join(dir, 'hosts.ini'), hostsIni())
    writeFileSync(join(dir, 'vault-password'), 'a vault password for the test\n', { mode: 0o600 })
    writeVault(join(dir, 'secrets.vault'), { 'db-app-password': appPassword, 'db-repl-password': randomBytes(12).toString('hex') }, 'a vault password for the test')
    env = { MUSTER_VAULT_PASSWORD_FILE: join(dir, 'vault-password') }
  })
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  const addr = (n: string) => state.hosts.find((h) => h.name === n)!.address
  /** The team's inventory; `change` edits its lines (a var mistake for the refusal tests). */
  const hostsIni = (change: (lines: string[]) => string[] = (l) => l): string =>
    change([
      '# as a team has it: hosts by its own group names, connection vars, secrets in the vault',
      '[webservers]',
      `web-01 ansible_host=${addr('web-01')} mysqlServerId=1`,
      `web-02 ansible_host=${addr('web-02')} mysqlServerId=2`,
      '[loadbalancers]',
      `lb-01 ansible_host=${addr('lb-01')}`,
      '[dbmain]',
      'web-01',
      '[db_replica]',
      'web-02',
      `db-03 ansible_host=${addr('db-03')} mysqlServerId=3`,
      '[databases:children]',
      'dbmain',
      'db_replica',
      '[all:vars]',
      '# site.ts runs on these groups unchanged: its plays and roles read their names from these vars',
      'webGroup=webservers',
      'lbGroup=loadbalancers',
      'mysqlPrimaryGroup=dbmain',
      'mysqlReplicaGroup=db_replica',
      'ansible_user=root',
      `ansible_ssh_private_key_file=${labFiles.clientKey()}`,
      `muster_known_hosts=${labFiles.knownHosts()}`,
      'muster_vault=secrets.vault',
      'appDbName=app',
      'appDbUser=app',
      'appPort=3000',
      'dbAppPassword = !vault db-app-password',
      'dbReplPassword = !vault db-repl-password',
      '',
    ]).join('\n')
  const site = (cmd: 'apply' | 'check', inventory = join(dir, 'hosts.ini')) => muster([cmd, 'playbooks/site.ts', '-i', inventory, '--json'], env, 20 * MINUTE)
  const hosts = ['web-01', 'web-02', 'lb-01', 'db-03']

  it('refuses every kind of var mistake with exit 64 before any host changes (the bare hosts byte for byte as before)', async function () {
    this.timeout(5 * MINUTE)
    const before = await snapshot(hosts)
    const mistakes: [string, (l: string[]) => string[], RegExp][] = [
      ['a required var missing', (l) => l.map((x) => x.replace(/^(db-03 .*) mysqlServerId=3$/, '$1')), /mistakes\.ini: host db-03: role mysql-server: var "mysqlServerId" is required but not set/],
      // hstsMaxAge is read by the last play only (haproxy): the plays before it must not run either
      ['a wrong type', (l) => l.map((x) => (x.startsWith('lb-01 ') ? `${x} hstsMaxAge=soon` : x)), /mistakes\.ini: host lb-01: role haproxy: var "hstsMaxAge" must be integer, got the string "soon"/],
      ['a plain string for a secret', (l) => l.map((x) => x.replace('dbReplPassword = !vault db-repl-password', 'dbReplPassword = hunter2')), /mistakes\.ini: host web-01: role mysql-primary: var "dbReplPassword" is a plain string where a Secret is required/],
      ['a misspelled var', (l) => l.map((x) => x.replace('mysqlServerId=3', 'mysqlServerID=3')), /mistakes\.ini: host db-03: role mysql-server: unknown var "mysqlServerID" \(did you mean mysqlServerId\?\)/],
      ['a misspelled group var', (l) => l.map((x) => x.replace('webGroup=webservers', 'webGrup=webservers')), /mistakes\.ini: unknown var "webGrup" \(did you mean webGroup\? it decides the hosts of play "app and web"\)/],
    ]
    for (const [what, change, message] of mistakes) {
      writeFileSync(join(dir, 'mistakes.ini'), hostsIni(change))
      const r = await site('apply', join(dir, 'mistakes.ini'))
      expect(r.code, `${what}: ${explain(r)}`).to.equal(64)
      expect(r.stderr, what).to.match(message)
      expect(r.events.filter((e) => e.type === 'resource:result'), what).to.deep.equal([])
    }
    expect(snapshotDiff(before, await snapshot(hosts))).to.deep.equal([])
  })

  it('converges bare hosts: the site answers through lb-01 from both web hosts, with the vault\'s password', async function () {
    this.timeout(25 * MINUTE)
    const r = await site('apply')
    expect(r.code, explain(r)).to.equal(0)
    const lb = state.hosts.find((h) => h.name === 'lb-01')!.address
    const seen = await waitFor('both web hosts behind lb-01', 30_000, async () => {
      const hosts = new Set<string>()
      for (let i = 0; i < 6; i++) {
        const res = await request(`http://${lb}/`)
        if (res.status === 200) hosts.add((JSON.parse(res.body) as { host: string }).host)
      }
      return hosts.size === 2 ? hosts : undefined
    })
    expect([...seen].sort()).to.deep.equal(['web-01', 'web-02'])
    // the app's account has the vault's password: the app's database login works with it, not with another
    const ok = await onHost('web-01', `mariadb -uapp -p'${appPassword}' -NB -e 'SELECT 1' app`)
    expect(ok).to.equal('1')
    expect(r.stdout + r.stderr).to.not.contain(appPassword)
  })

  it('is idempotent: a second apply changes nothing, check finds no drift', async function () {
    this.timeout(5 * MINUTE)
    const again = await site('apply')
    expect(again.code, explain(again)).to.equal(0)
    expect(touched(again)).to.deep.equal([])
    const c = await site('check')
    expect(c.code, explain(c)).to.equal(0)
  })

  it('`lab status` prints the INI lines (address, key, known_hosts) an inventory needs, and they alone reach every host', async function () {
    this.timeout(2 * MINUTE)
    const st = await muster(['lab', 'status'], {}, MINUTE)
    expect(st.code, explain(st)).to.equal(0)
    expect(st.stdout).to.include(`key ${labFiles.clientKey()}, known_hosts ${labFiles.knownHosts()}; in an INI inventory:`)
    const lines = st.stdout.split('\n')
    const ini = lines.slice(lines.findIndex((l) => l.includes('in an INI inventory:')) + 1).filter((l) => l.startsWith('  ')).map((l) => l.trim())
    for (const h of hosts) expect(ini).to.include(`${h} ansible_host=${addr(h)}`)
    expect(ini).to.include.members(['[all:vars]', 'ansible_user=root', `ansible_ssh_private_key_file=${labFiles.clientKey()}`, `muster_known_hosts=${labFiles.knownHosts()}`])
    writeFileSync(join(dir, 'status.ini'), `${ini.join('\n')}\n`)
    const ping = await muster(['ping', '-i', join(dir, 'status.ini')], {}, MINUTE)
    expect(ping.code, explain(ping)).to.equal(0)
  })
})
