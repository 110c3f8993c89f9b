import { expect } from 'chai'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inspect } from 'node:util'
import { encryptVault } from '../../../src/vault/format.ts'
import { forgetTakenPassword } from '../../../src/vault/vault.ts'
import { isSecret, type Secret } from '../../../src/core/secret.ts'
import { InventoryError } from '../../../src/inventory/types.ts'
import { fromIni, fromYaml, text } from './helpers.ts'

const PW = 'correct horse battery'
/** A multi-line value (a PEM certificate) as a vault keeps it: an INI line cannot hold it, a reference can. */
const CERT = '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ2Vy\ndGlmaWNhdGUgbGluZXM=\n-----END CERTIFICATE-----\n'
const revealed = (v: unknown): string => {
  expect(isSecret(v), `expected a Secret, got ${typeof v}`).to.equal(true)
  return (v as Secret).reveal()
}

describe('inventory: secrets referenced from YAML, INI and -e (!vault, !env)', function () {
  let dir: string
  let env: NodeJS.ProcessEnv
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'muster-refs-'))
    writeFileSync(join(dir, 'secrets.vault'), encryptVault({ 'db-app-password': 'app pw', 'db-repl-password': 'repl pw', 'ssh-password': 'ssh pw', 'sudo-password': 'sudo pw', 'key-passphrase': 'key pp', 'site-cert': CERT }, PW, { N: 1024, r: 8, p: 1 }))
    writeFileSync(join(dir, 'pw'), `${PW}\n`)
  })
  after(() => rmSync(dir, { recursive: true, force: true }))
  beforeEach(() => {
    env = { ...process.env }
    process.env.MUSTER_VAULT_PASSWORD_FILE = join(dir, 'pw')
    process.env.MUSTER_TEST_TOKEN = 'token from env'
    forgetTakenPassword()
  })
  afterEach(() => {
    process.env = env
  })
  const ini = (body: string, opts = {}) => fromIni(body, opts, join(dir, 'hosts.ini'))
  const yml = (body: string, opts = {}) => fromYaml(body, opts, join(dir, 'hosts.yml'))

  it('INI: [all:vars] names the vault (relative to the inventory); vars and host lines reference it', function () {
    const inv = ini(text`
      [web]
      web-01 dbReplPassword="!vault db-repl-password" token='!env MUSTER_TEST_TOKEN'
      [all:vars]
      muster_vault=secrets.vault
      dbAppPassword = !vault db-app-password
    `)
    const vars = inv.hosts.get('web-01')!.vars
    expect(revealed(vars.dbAppPassword)).to.equal('app pw')
    expect(revealed(vars.dbReplPassword)).to.equal('repl pw')
    expect(revealed(vars.token)).to.equal('token from env')
    expect(vars).to.not.have.property('muster_vault')
    expect(revealed(inv.groups.get('all')!.vars.dbAppPassword)).to.equal('app pw')
  })

  it('YAML: !vault and !env tags, nested in lists and mappings too', function () {
    const inv = yml(text`
      all:
        vars:
          muster_vault: ./secrets.vault
          dbAppPassword: !vault db-app-password
          webhooks: [https://example.test/hook, !env MUSTER_TEST_TOKEN]
        hosts:
          web-01:
            creds: { repl: !vault db-repl-password, user: repl }
    `)
    const vars = inv.hosts.get('web-01')!.vars
    expect(revealed(vars.dbAppPassword)).to.equal('app pw')
    expect((vars.webhooks as unknown[])[0]).to.equal('https://example.test/hook')
    expect(revealed((vars.webhooks as unknown[])[1])).to.equal('token from env')
    expect(revealed((vars.creds as Record<string, unknown>).repl)).to.equal('repl pw')
    expect((vars.creds as Record<string, unknown>).user).to.equal('repl')
  })

  it('INI: connection secrets (ansible_password, ansible_become_password, muster_become_password, muster_ssh_passphrase) from the vault or the environment, never shown', function () {
    process.env.MUSTER_TEST_PASSPHRASE = 'pp from env'
    const inv = ini(text`
      [web]
      web-01 ansible_user=deploy ansible_password='!vault ssh-password' muster_ssh_passphrase='!env MUSTER_TEST_PASSPHRASE'
      web-02 ansible_user=deploy muster_become_password='!vault sudo-password'
      [all:vars]
      muster_vault=secrets.vault
      ansible_become_password = !vault sudo-password
    `)
    const one = inv.hosts.get('web-01')!
    expect(revealed(one.ssh.password)).to.equal('ssh pw')
    expect(revealed(one.ssh.passphrase)).to.equal('pp from env')
    expect(revealed(one.ssh.becomePassword)).to.equal('sudo pw')
    expect(revealed(inv.hosts.get('web-02')!.ssh.becomePassword)).to.equal('sudo pw')
    // connection settings are not vars, and what a report or a log could print of them shows no secret
    expect(one.vars).to.not.have.any.keys('ansible_password', 'ansible_become_password', 'muster_ssh_passphrase')
    const shown = `${JSON.stringify(one)} ${inspect(one, { depth: 5 })}`
    for (const s of ['ssh pw', 'sudo pw', 'pp from env']) expect(shown).to.not.include(s)
  })

  it('YAML and -e: connection secrets by reference too', function () {
    const inv = yml(text`
      all:
        vars:
          muster_vault: secrets.vault
          ansible_password: !vault ssh-password
        hosts:
          web-01: { ansible_user: deploy }
    `, { extraVars: { ansible_become_password: '!vault sudo-password' } })
    const ssh = inv.hosts.get('web-01')!.ssh
    expect(revealed(ssh.password)).to.equal('ssh pw')
    expect(revealed(ssh.becomePassword)).to.equal('sudo pw')
  })

  it('INI: a multi-line value (a PEM certificate) by vault reference, newlines intact', function () {
    const inv = ini('[lb]\nlb-01\n[lb:vars]\ntlsCertificate = !vault site-cert\n[all:vars]\nmuster_vault=secrets.vault\n')
    expect(revealed(inv.hosts.get('lb-01')!.vars.tlsCertificate)).to.equal(CERT)
  })

  it('-e: a reference, and muster_vault relative to the working directory', function () {
    const inv = ini('web-01\n', { extraVars: { muster_vault: 'secrets.vault', dbAppPassword: '!vault db-app-password' }, cwd: dir })
    expect(revealed(inv.hosts.get('web-01')!.vars.dbAppPassword)).to.equal('app pw')
  })

  it('a name the vault lacks is an error at its line, naming the vault and what it has', function () {
    expect(() => ini('[all:vars]\nmuster_vault=secrets.vault\n\ndbPassword=!vault db-pasword\n[web]\nweb-01\n'))
      .to.throw(InventoryError, /hosts\.ini:4: host web-01: !vault db-pasword: .*secrets\.vault: no secret "db-pasword" \(it has db-app-password, db-repl-password, key-passphrase, site-cert, ssh-password, sudo-password\)/)
  })

  it('a reference without a vault, an unset variable, a reference without a name: errors at their line', function () {
    expect(() => yml('all:\n  hosts:\n    web-01:\n      pw: !vault db-app-password\n')).to.throw(InventoryError, /hosts\.yml:4:\d+: host web-01: !vault db-app-password: no vault to read it from; name one with muster_vault=FILE/)
    delete process.env.MUSTER_TEST_TOKEN
    expect(() => ini('web-01 token="!env MUSTER_TEST_TOKEN"\n')).to.throw(InventoryError, /hosts\.ini:1: host web-01: !env MUSTER_TEST_TOKEN: the environment variable MUSTER_TEST_TOKEN is not set/)
    expect(() => ini('[all:vars]\npw = !vault\n')).to.throw(InventoryError, /hosts\.ini:2: !vault needs a name/)
  })

  it('a wrong password is an error naming the vault, and a quoted-away value stays text', function () {
    writeFileSync(join(dir, 'pw'), 'wrong\n')
    expect(() => ini('[all:vars]\nmuster_vault=secrets.vault\npw=!vault db-app-password\n[web]\nweb-01\n')).to.throw(InventoryError, /secrets\.vault/)
    const inv = ini('[all:vars]\nnote = "vault is where secrets live"\n[web]\nweb-01\n')
    expect(inv.hosts.get('web-01')!.vars.note).to.equal('vault is where secrets live')
  })
})
