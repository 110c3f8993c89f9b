import { expect } from 'chai'
import { resolve } from 'node:path'
import { fromIni, fromTs, fromYaml, text } from './helpers.ts'
import type { Inventory, Vars } from '../../../src/inventory/types.ts'

/**
 * Var precedence, lowest to highest: all < groups by depth (parents first,
 * same depth by name) < host < extra vars. Each row is one inventory and the
 * value host h ends up with.
 */
const cases: { name: string; inv: () => Inventory; want: Vars }[] = [
  {
    name: 'a group beats all',
    inv: () => fromYaml(text`
      all:
        vars: { x: all }
        children:
          web: { hosts: { h: }, vars: { x: web } }`),
    want: { x: 'web' },
  },
  {
    name: 'a child group beats its parent, even when the host is listed in both',
    inv: () => fromYaml(text`
      db:
        hosts: { h: }
        vars: { x: db }
        children:
          primary: { hosts: { h: }, vars: { x: primary } }`),
    want: { x: 'primary' },
  },
  {
    name: 'at the same depth, the later name wins, whatever the declaration order',
    inv: () => fromIni(text`
      [zeta]
      h
      [alpha]
      h
      [zeta:vars]
      x=zeta
      [alpha:vars]
      x=alpha`),
    want: { x: 'zeta' },
  },
  {
    name: 'depth is the longest path from all, so depth beats name',
    inv: () => fromTs({
      groups: {
        abc: { children: ['mid'] },
        mid: { hosts: ['h'], vars: { x: 'mid' } },
        zed: { hosts: ['h'], vars: { x: 'zed' } },
      },
      hosts: { h: {} },
    }),
    want: { x: 'mid' },
  },
  {
    name: 'host vars beat every group',
    inv: () => fromIni(text`
      [web]
      h x=host
      [web:vars]
      x=web
      y=web`),
    want: { x: 'host', y: 'web' },
  },
  {
    name: 'extra vars beat host vars',
    inv: () => fromTs({ vars: { x: 'all' }, hosts: { h: { vars: { x: 'host' } } } }, { extraVars: { x: 'extra' } }),
    want: { x: 'extra' },
  },
  {
    name: 'objects are replaced, not deep-merged',
    inv: () => fromYaml(text`
      all:
        vars: { app: { name: shop, port: 8080 }, list: [1, 2] }
        hosts:
          h: { app: { name: db }, list: [3] }`),
    want: { app: { name: 'db' }, list: [3] },
  },
]

describe('buildInventory: var precedence', () => {
  for (const { name, inv, want } of cases) {
    it(name, () => {
      const vars = inv().hosts.get('h')!.vars
      for (const [k, v] of Object.entries(want)) expect(vars[k], k).to.deep.equal(v)
    })
  }
})

describe('buildInventory: connection settings', () => {
  const settings = (inv: Inventory) => {
    const h = inv.hosts.get('h')!
    return { address: h.address, port: h.port, user: h.user, become: h.become }
  }
  const cases: { name: string; inv: () => Inventory; want: ReturnType<typeof settings> }[] = [
    {
      name: 'defaults: the name, 22, root, no become',
      inv: () => fromTs({ hosts: { h: {} } }),
      want: { address: 'h', port: 22, user: 'root', become: false },
    },
    {
      name: 'a non-root user becomes by default',
      inv: () => fromIni('h ansible_user=deploy'),
      want: { address: 'h', port: 22, user: 'deploy', become: true },
    },
    {
      name: 'an explicit become wins over the default',
      inv: () => fromYaml('all: { hosts: { h: { ansible_user: deploy, ansible_become: false } } }'),
      want: { address: 'h', port: 22, user: 'deploy', become: false },
    },
    {
      name: 'all < group < host < extra vars, for connection vars too',
      inv: () => fromYaml(text`
        all:
          vars: { ansible_user: a, ansible_port: 2200 }
          children:
            web:
              vars: { ansible_user: b, ansible_host: 10.0.0.1 }
              hosts:
                h: { ansible_user: c }`, { extraVars: { ansible_port: '2222' } }),
      want: { address: '10.0.0.1', port: 2222, user: 'c', become: true },
    },
    {
      name: 'host:port in INI',
      inv: () => fromIni('h:2022'),
      want: { address: 'h', port: 2022, user: 'root', become: false },
    },
    {
      name: 'TypeScript ssh defaults under host fields',
      inv: () => fromTs({ ssh: { user: 'ops', port: 2200 }, hosts: { h: { address: 'h.example', port: 2201 } } }),
      want: { address: 'h.example', port: 2201, user: 'ops', become: true },
    },
  ]
  for (const { name, inv, want } of cases) it(name, () => expect(settings(inv())).to.deep.equal(want))

  it('resolves key and known_hosts paths against the inventory file, ~ against home', () => {
    const inv = fromIni('h ansible_ssh_private_key_file=keys/id muster_known_hosts=/etc/kh', undefined, '/srv/inv/prod.ini')
    expect(inv.hosts.get('h')!.ssh).to.include({ identityFile: '/srv/inv/keys/id', knownHosts: '/etc/kh' })
    const ts = fromTs({ hosts: { h: { identityFile: '../k', knownHosts: 'kh' } } }, undefined, '/srv/inv/inv.ts')
    expect(ts.hosts.get('h')!.ssh).to.include({ identityFile: '/srv/k', knownHosts: '/srv/inv/kh' })
    const home = fromYaml('all: { hosts: { h: { ansible_ssh_private_key_file: "~/.ssh/x" } } }')
    expect(home.hosts.get('h')!.ssh.identityFile).to.match(/^\/.*\/\.ssh\/x$/).and.not.contain('~')
    const extra = fromTs({ hosts: { h: {} } }, { extraVars: { ansible_ssh_private_key_file: 'k' }, cwd: '/here' })
    expect(extra.hosts.get('h')!.ssh.identityFile).to.equal(resolve('/here', 'k'))
  })

  it('converts Ansible timeouts from seconds', () => {
    expect(fromIni('h ansible_ssh_timeout=3').hosts.get('h')!.ssh.connectTimeoutMs).to.equal(3000)
  })

  it('keeps unknown ansible_* keys as vars and removes the ones it understood', () => {
    const h = fromIni('h ansible_host=10.1.1.1 ansible_python_interpreter=/usr/bin/python3 ansible_ssh_args=-C ansible_become_user=app').hosts.get('h')!
    // Ansible's own variables are never taken for misspelt settings (ansible_ssh_args is not ansible_ssh_pass)
    expect(h.vars).to.deep.equal({ ansible_python_interpreter: '/usr/bin/python3', ansible_ssh_args: '-C' })
    // ansible_become_user is a connection setting now (becomeUser), never a var
    expect(h.ssh.becomeUser).to.equal('app')
  })
})

describe('buildInventory: groups', () => {
  it('lists every group reached through children, ordered by depth then name, "all" first', () => {
    const inv = fromIni(text`
      [db:children]
      primary
      [dc1:children]
      db
      [primary]
      h
      [backup]
      h`)
    expect(inv.hosts.get('h')!.groups).to.deep.equal(['all', 'backup', 'dc1', 'db', 'primary'])
  })

  it('puts hosts in no group into "ungrouped"', () => {
    const inv = fromIni(text`
      lonely
      [web]
      w`)
    expect(inv.hosts.get('lonely')!.groups).to.deep.equal(['all', 'ungrouped'])
    expect(inv.groups.get('ungrouped')!.hosts).to.deep.equal(['lonely'])
    expect(inv.hosts.get('w')!.groups).to.deep.equal(['all', 'web'])
  })

  it('creates the groups a TypeScript host names', () => {
    const inv = fromTs({ hosts: { a: { groups: ['web'] }, b: { groups: ['web', 'eu'] } } })
    expect(inv.groups.get('web')!.hosts).to.deep.equal(['a', 'b'])
    expect(inv.groups.get('eu')!.hosts).to.deep.equal(['b'])
    expect(inv.hosts.get('b')!.groups).to.deep.equal(['all', 'eu', 'web'])
  })

  it('merges a host declared twice with the same or complementary settings', () => {
    const inv = fromYaml(text`
      web: { hosts: { h: { ansible_host: 10.0.0.1, x: 1 } } }
      db: { hosts: { h: { ansible_host: 10.0.0.1, y: 2 } } }`)
    const h = inv.hosts.get('h')!
    expect(h.address).to.equal('10.0.0.1')
    expect(h.vars).to.deep.equal({ x: 1, y: 2 })
    expect(h.groups).to.deep.equal(['all', 'db', 'web'])
  })

  it('types INI values: integers and true/false; quoted values stay strings', () => {
    const vars = fromIni(`h a=1 b=true c=False d="2" e=010 f=1.5 g='x y' h=-3 i=`).hosts.get('h')!.vars
    expect(vars).to.deep.equal({ a: 1, b: true, c: false, d: '2', e: '010', f: '1.5', g: 'x y', h: -3, i: '' })
  })

  it('reads a [group:vars] value as the rest of the line, without a trailing comment', () => {
    const vars = fromIni(text`
      [web]
      h
      [web:vars]
      motd = hello world  # greeting
      port=80 ; comment
      quoted = "a # b"`).hosts.get('h')!.vars
    expect(vars).to.deep.equal({ motd: 'hello world', port: 80, quoted: 'a # b' })
  })
})
