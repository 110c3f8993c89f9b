import { expect } from 'chai'
import { fileURLToPath } from 'node:url'
import { dirname, join } from 'node:path'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { loadInventory, inventoryFormat } from '../../../src/inventory/load.ts'
import { InventoryError } from '../../../src/inventory/types.ts'
import { isSecret } from '../../../src/core/secret.ts'

const fixtures = join(dirname(fileURLToPath(import.meta.url)), '../../fixtures/inventory')
const fixture = (name: string) => join(fixtures, name)

/** What every format of the reference inventory must load to, apart from `source`. */
function reference(): { hosts: Map<string, object>; groups: Map<string, object> } {
  const base = { port: 22, user: 'deploy', become: true }
  const ssh = { user: 'deploy', port: 22, become: true, connectTimeoutMs: 5000 }
  const all = { ntp_server: 'pool.ntp.org', app_name: 'shop' }
  const host = (name: string, h: object) => [name, { name, ...base, ...h }] as const
  const group = (name: string, hosts: string[], children: string[], vars: object) => [name, { name, hosts, children, vars }] as const
  return {
    hosts: new Map([
      host('web-01', {
        address: '10.0.0.11', groups: ['all', 'db', 'web', 'primary'], ssh,
        vars: { ...all, mysql_port: 3306, role: 'primary', http_port: 80 },
      }),
      host('web-02', {
        address: '10.0.0.12', groups: ['all', 'db', 'web', 'replicas'], ssh,
        vars: { ...all, mysql_port: 3306, role: 'replica', http_port: 80 },
      }),
      host('lb-01', {
        address: '10.0.0.10', user: 'root', become: false, groups: ['all', 'lb'],
        ssh: { ...ssh, user: 'root', become: false },
        vars: { ...all, ansible_connection: 'ssh' },
      }),
      host('db-03', {
        address: '10.0.0.13', port: 2222, groups: ['all', 'db', 'replicas'],
        ssh: { ...ssh, port: 2222, identityFile: join(fixtures, 'keys/db.key') },
        vars: { ...all, app_name: 'shop-db', mysql_port: 3306, role: 'replica', backup: true },
      }),
    ]),
    groups: new Map([
      group('all', ['web-01', 'web-02', 'lb-01', 'db-03'], ['ungrouped', 'web', 'lb', 'db'], all),
      group('ungrouped', [], [], {}),
      group('web', ['web-01', 'web-02'], [], { http_port: 80 }),
      group('lb', ['lb-01'], [], {}),
      group('db', [], ['primary', 'replicas'], { mysql_port: 3306, role: 'db' }),
      group('primary', ['web-01'], [], { role: 'primary' }),
      group('replicas', ['web-02', 'db-03'], [], { role: 'replica' }),
    ]),
  }
}

describe('loadInventory: every format says the same', () => {
  for (const file of ['reference.ts', 'reference.yml', 'reference.json', 'reference.ini', 'hosts']) {
    it(`loads ${file} to the reference inventory`, async () => {
      const { source, ...inv } = await loadInventory(fixture(file))
      expect(source).to.equal(fixture(file))
      expect(inv).to.deep.equal(reference())
      // Map equality in chai ignores order; declaration order is part of the contract
      expect([...inv.hosts.keys()]).to.deep.equal(['web-01', 'web-02', 'lb-01', 'db-03'])
      expect([...inv.groups.keys()]).to.deep.equal(['all', 'ungrouped', 'web', 'lb', 'db', 'primary', 'replicas'])
    })
  }

  it('reads the default export of a module compiled as CommonJS', async () => {
    // outside the project, where no package.json says "module"; written here so tsc does not check it as ESM
    const dir = mkdtempSync(join(tmpdir(), 'muster-inv-'))
    try {
      writeFileSync(join(dir, 'package.json'), '{ "type": "commonjs" }')
      writeFileSync(join(dir, 'inventory.ts'), "export default { hosts: { 'cjs-01': { address: '10.9.0.1' } } }\n")
      const inv = await loadInventory(join(dir, 'inventory.ts'))
      expect(inv.hosts.get('cjs-01')!.address).to.equal('10.9.0.1')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('applies extra vars above everything, connection vars included', async () => {
    const inv = await loadInventory(fixture('reference.yml'), { extraVars: { role: 'cli', ansible_user: 'ops' } })
    const web = inv.hosts.get('web-01')!
    expect(web.vars.role).to.equal('cli')
    expect(web.user).to.equal('ops')
    expect(web.vars).not.to.have.property('ansible_user')
  })
})

describe('inventoryFormat', () => {
  const table: [string, string][] = [
    ['inv.ts', 'typescript'], ['inv.mts', 'typescript'], ['inv.js', 'typescript'], ['inv.mjs', 'typescript'],
    ['inv.yml', 'yaml'], ['inv.YAML', 'yaml'], ['inv.json', 'yaml'],
    ['inv.ini', 'ini'], ['inv.cfg', 'ini'], ['prod.hosts', 'ini'], ['inventory/hosts', 'ini'],
  ]
  for (const [file, format] of table) it(`reads ${file} as ${format}`, () => expect(inventoryFormat(file)).to.equal(format))
  it('refuses an unknown extension', () => {
    expect(() => inventoryFormat('inv.toml')).to.throw(InventoryError, "inv.toml: unknown inventory format '.toml'")
  })
})

describe('loadInventory: files that cannot be used', () => {
  const cases: { file: string; says: string[] }[] = [
    { file: 'missing.yml', says: ['missing.yml: no such inventory file'] },
    { file: 'missing.ts', says: ['missing.ts: no such inventory file'] },
    { file: 'throws.ts', says: ['throws.ts: cannot load inventory module', 'vault password not set'] },
    { file: 'no-default.ts', says: ['no-default.ts: the module has no default export'] },
    { file: 'undefined-host.ts', says: ['undefined-host.ts: host web-09: group web lists host', 'not defined'] },
    { file: 'bad-port.ts', says: ['bad-port.ts: host db-03: invalid port 70000'] },
  ]
  for (const { file, says } of cases) {
    it(`${file}: ${says.at(-1)}`, async () => {
      const error = await loadInventory(fixture(file)).then(() => undefined, (e: unknown) => e)
      expect(error).to.be.instanceOf(InventoryError)
      const message = (error as InventoryError).message
      for (const s of says) expect(message).to.contain(s)
      // the user's file, not our stack
      expect(message).not.to.match(/\n\s+at /)
    })
  }

  it('reports a syntax error in a TypeScript inventory with its line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'muster-inv-'))
    try {
      writeFileSync(join(dir, 'broken.ts'), 'export default {\n  hosts: { a: {} \n')
      const error = await loadInventory(join(dir, 'broken.ts')).then(() => undefined, (e: unknown) => e)
      expect(error).to.be.instanceOf(InventoryError)
      expect((error as Error).message).to.match(/broken\.ts: cannot load inventory module: .*broken\.ts:3:\d+: Expected "}"/)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('loads a secret from an Ansible password var as a Secret', async () => {
    const inv = await loadInventory(fixture('secret.yml'))
    const password = inv.hosts.get('app-01')!.ssh.password
    expect(isSecret(password)).to.equal(true)
    expect(password!.reveal()).to.equal('s3cr3t-pw')
    expect(JSON.stringify(inv.hosts.get('app-01'))).not.to.contain('s3cr3t-pw')
  })
})
