import { expect } from 'chai'
import { fromIni, fromTs, fromYaml, text } from './helpers.ts'
import { InventoryError, type InventorySpec } from '../../../src/inventory/types.ts'

/**
 * Each row: an inventory that cannot be used, and what its error must say:
 * file:line where the format has lines, and the host or group concerned.
 */
const cases: { name: string; load: () => unknown; says: string[] }[] = [
  // YAML
  {
    name: 'YAML syntax error',
    load: () => fromYaml(text`
      all:
        hosts:
          web-01: { ansible_port: 22
        vars: {}`),
    says: ['inv.yml:4', 'YAML syntax error'],
  },
  {
    name: 'YAML invalid port',
    load: () => fromYaml(text`
      all:
        hosts:
          web-01:
            ansible_port: 99999`),
    says: ['inv.yml:4:', 'host web-01', 'ansible_port: invalid port 99999'],
  },
  {
    name: 'YAML non-string address',
    load: () => fromYaml(text`
      web:
        hosts:
          web-01:
            ansible_host: [10.0.0.1]`),
    says: ['inv.yml:4:', 'host web-01', 'ansible_host: address must be a non-empty string'],
  },
  {
    name: 'YAML misspelt Ansible setting (ansible_hots) is not silently a var',
    load: () => fromYaml('all:\n  hosts:\n    web-01:\n      ansible_hots: 10.0.0.1'),
    says: ['inv.yml:4:', 'host web-01', "ansible_hots is not a setting muster knows; did you mean 'ansible_host'?"],
  },
  {
    name: 'INI misspelt Ansible and muster settings',
    load: () => fromIni('web-01 ansible_prot=2222'),
    says: ['inv.ini:1', 'host web-01', "ansible_prot is not a setting muster knows; did you mean 'ansible_port'?"],
  },
  {
    name: 'INI misspelt muster_jump in group vars',
    load: () => fromIni('[web]\nh\n[web:vars]\nmuster_jmp=bastion'),
    says: ['inv.ini:4', "muster_jmp is not a setting muster knows; did you mean 'muster_jump'?"],
  },
  {
    name: 'YAML malformed become',
    load: () => fromYaml('all:\n  hosts:\n    h:\n      ansible_become: maybe'),
    says: ['inv.yml:4:', 'host h', 'become must be true or false, got "maybe"'],
  },
  {
    name: 'YAML duplicate host with conflicting settings',
    load: () => fromYaml(text`
      web:
        hosts:
          web-01: { ansible_port: 22 }
      db:
        hosts:
          web-01: { ansible_port: 2222 }`),
    says: ['inv.yml:6:', 'host web-01', 'different port (2222, earlier 22 at inv.yml:3)'],
  },
  {
    name: 'YAML duplicate host with conflicting vars',
    load: () => fromYaml('web: { hosts: { h: { role: a } } }\ndb:\n  hosts:\n    h: { role: b }'),
    says: ['inv.yml:4:', 'host h', "different var 'role'"],
  },
  {
    name: 'YAML unknown key in a group',
    load: () => fromYaml('all:\n  children:\n    web:\n      host:\n        web-01:'),
    says: ['inv.yml:4:', 'group web', "unknown key 'host'"],
  },
  {
    name: 'YAML cycle in children',
    load: () => fromYaml(text`
      a:
        children:
          b:
            children:
              a:`),
    says: ['inv.yml:', 'cycle in group children', 'a -> b -> a'],
  },
  {
    name: 'YAML host range that runs backwards',
    load: () => fromYaml('web:\n  hosts:\n    web-[03:01]:'),
    says: ['inv.yml:3:', "host range 'web-[03:01]' runs backwards"],
  },
  {
    name: 'YAML hosts that are a list',
    load: () => fromYaml('web:\n  hosts:\n    - web-01'),
    says: ['inv.yml:3:', 'group web: hosts must be a mapping'],
  },
  {
    name: 'YAML duplicate key',
    load: () => fromYaml('web:\n  hosts:\n    h:\n    h:'),
    says: ['inv.yml:4:', 'YAML syntax error', 'unique'],
  },
  // INI
  {
    name: 'INI unknown section suffix',
    load: () => fromIni('[web]\nweb-01\n\n[web:kids]\nweb-02'),
    says: ['inv.ini:4', 'group web', "unknown section suffix ':kids'"],
  },
  {
    name: 'INI malformed key=value',
    load: () => fromIni('# comment\n[web]\nweb-01 ansible_port 22'),
    says: ['inv.ini:3', 'host web-01', "malformed key=value 'ansible_port'"],
  },
  {
    name: 'INI malformed line in a vars section',
    load: () => fromIni('[web]\nh\n[web:vars]\nhttp_port'),
    says: ['inv.ini:4', "malformed key=value 'http_port'"],
  },
  {
    name: 'INI child group that does not exist',
    load: () => fromIni('[primary]\nh\n[db:children]\nprimary\nreplicas'),
    says: ['inv.ini:5', 'group db', "child group 'replicas' is not defined"],
  },
  {
    name: 'INI vars for a group that does not exist',
    load: () => fromIni('h\n[web:vars]\nx=1'),
    says: ['inv.ini:2', "vars for group 'web', which is not defined"],
  },
  {
    name: 'INI cycle in children',
    load: () => fromIni('[a:children]\nb\n[b:children]\nc\n[c:children]\na'),
    says: ['inv.ini:', 'cycle in group children: a -> b -> c -> a'],
  },
  {
    name: 'INI invalid port',
    load: () => fromIni('[web]\nweb-01\nweb-02 ansible_port=ssh'),
    says: ['inv.ini:3', 'host web-02', 'invalid port "ssh"'],
  },
  {
    name: 'INI invalid port in host:port',
    load: () => fromIni('[web]\nweb-01:0'),
    says: ['inv.ini:2', 'host web-01', 'invalid port "0"'],
  },
  {
    name: 'INI duplicate host with conflicting settings',
    load: () => fromIni('[web]\nh ansible_host=10.0.0.1\n[db]\nh ansible_host=10.0.0.2'),
    says: ['inv.ini:4', 'host h', 'different address ("10.0.0.2", earlier "10.0.0.1" at inv.ini:2)'],
  },
  {
    name: 'INI unterminated quote',
    load: () => fromIni('h motd="hello'),
    says: ['inv.ini:1', 'unterminated " quote'],
  },
  {
    name: 'INI all as a child',
    load: () => fromIni('[web:children]\nall'),
    says: ['inv.ini:2', "group web: 'all' cannot be a child group"],
  },
  {
    name: 'INI malformed section header',
    load: () => fromIni('[web\nh'),
    says: ['inv.ini:1', 'malformed section header'],
  },
  // TypeScript (no lines: the file and the host or group)
  {
    name: 'TS group listing an undefined host',
    load: () => fromTs({ groups: { web: { hosts: ['web-01', 'web-02'] } }, hosts: { 'web-01': {} } }),
    says: ['inv.ts: host web-02: group web lists host', 'not defined'],
  },
  {
    name: 'TS child group that does not exist',
    load: () => fromTs({ groups: { db: { children: ['primary'] } }, hosts: { h: {} } }),
    says: ['inv.ts: group db: child group \'primary\' is not defined'],
  },
  {
    name: 'TS cycle',
    load: () => fromTs({ groups: { a: { children: ['a'] } }, hosts: {} }),
    says: ['inv.ts: cycle in group children: a -> a'],
  },
  {
    name: 'TS invalid port',
    load: () => fromTs({ hosts: { h: { port: 0 } } }),
    says: ['inv.ts: host h: invalid port 0'],
  },
  {
    name: 'TS non-string address',
    load: () => fromTs({ hosts: { h: { address: 10 } } } as unknown as InventorySpec),
    says: ['inv.ts: host h: address must be a non-empty string', 'got 10'],
  },
  {
    name: 'TS unknown host field',
    load: () => fromTs({ hosts: { h: { adress: 'x' } } } as unknown as InventorySpec),
    says: ["inv.ts: host h: unknown field 'adress'; did you mean 'address'?"],
  },
  {
    name: 'TS malformed become in ssh defaults',
    load: () => fromTs({ ssh: { become: 'sometimes' }, hosts: {} } as unknown as InventorySpec),
    says: ['inv.ts: become must be true or false'],
  },
  // extra vars
  {
    name: 'a malformed connection var among extra vars',
    load: () => fromTs({ hosts: { h: {} } }, { extraVars: { ansible_port: 'x' } }),
    says: ['--extra-vars: ansible_port: invalid port "x"'],
  },
]

describe('inventory errors', () => {
  for (const { name, load, says } of cases) {
    it(name, () => {
      let error: unknown
      try {
        load()
      } catch (e) {
        error = e
      }
      expect(error, 'an InventoryError').to.be.instanceOf(InventoryError)
      for (const s of says) expect((error as Error).message).to.contain(s)
    })
  }
})
