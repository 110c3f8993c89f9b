import { expect } from 'chai'
import { InventoryError } from '../../../src/inventory/types.ts'
import { fromIni, fromTs, fromYaml, text } from './helpers.ts'
import { proxyJumpOf } from '../../../src/inventory/settings.ts'

describe('inventory: hosts behind a bastion (jump)', () => {
  it('resolves a jump to another host of the inventory, with its own settings', () => {
    const inv = fromTs({
      ssh: { user: 'deploy', identityFile: '/keys/fleet' },
      hosts: {
        bastion: { address: '203.0.113.5', port: 2222, user: 'jump' },
        'web-01': { address: '10.0.0.11', jump: 'bastion' },
      },
    })
    const web = inv.hosts.get('web-01')!
    expect(web.jump).to.include({ name: 'bastion', address: '203.0.113.5', port: 2222, user: 'jump' })
    expect(web.jump!.jump).to.equal(undefined)
    expect(inv.hosts.get('bastion')!.jump).to.equal(undefined)
  })

  it('a jump for a whole group leaves the bastion itself direct; `none` is direct too', () => {
    const inv = fromTs({
      ssh: { jump: 'bastion' },
      hosts: { bastion: { address: '203.0.113.5' }, 'web-01': { address: '10.0.0.11' }, local: { address: '192.0.2.9', jump: 'none' } },
    })
    expect(inv.hosts.get('web-01')!.jump!.name).to.equal('bastion')
    expect(inv.hosts.get('bastion')!.jump).to.equal(undefined)
    expect(inv.hosts.get('local')!.jump).to.equal(undefined)
  })

  it('reads [user@]address[:port] for a bastion outside the inventory, logging in with the host\'s key and known_hosts', () => {
    const inv = fromTs({
      ssh: { user: 'deploy', identityFile: '/keys/fleet', knownHosts: '/kh' },
      hosts: { a: { address: '10.0.0.1', jump: 'ops@203.0.113.5:2200' }, b: { address: '10.0.0.2', jump: '203.0.113.6' } },
    })
    expect(inv.hosts.get('a')!.jump).to.deep.include({ name: 'ops@203.0.113.5:2200', address: '203.0.113.5', port: 2200, user: 'ops', become: false })
    expect(inv.hosts.get('a')!.jump!.ssh).to.include({ identityFile: '/keys/fleet', knownHosts: '/kh' })
    expect(inv.hosts.get('b')!.jump).to.include({ address: '203.0.113.6', port: 22, user: 'deploy' })
  })

  it('follows a chain of bastions, and names a loop', () => {
    const chain = fromTs({ hosts: { outer: { address: '203.0.113.5' }, inner: { address: '10.0.0.5', jump: 'outer' }, app: { address: '10.1.0.5', jump: 'inner' } } })
    expect(chain.hosts.get('app')!.jump!.jump!.name).to.equal('outer')
    expect(() => fromTs({ hosts: { a: { address: '10.0.0.1', jump: 'b' }, b: { address: '10.0.0.2', jump: 'a' } } })).to.throw(InventoryError, /jump hosts form a loop: a -> b -> a/)
  })

  it('refuses a jump that is neither a host nor [user@]address[:port], naming the host', () => {
    expect(() => fromTs({ hosts: { a: { address: '10.0.0.1', jump: 'ops@host:99999' } } })).to.throw(InventoryError, /host a.*jump "ops@host:99999" is neither a host of this inventory nor \[user@\]address\[:port\]|jump "ops@host:99999" is neither/)
  })

  it('reads a comma chain as OpenSSH does (through a, then b), and bracketed IPv6 addresses', () => {
    const inv = fromTs({ hosts: { app: { address: '10.1.0.5', jump: 'ops@203.0.113.5:2200,10.0.0.5' }, v6: { address: '10.1.0.6', jump: '[fe80::1%eth0]:22' } } })
    const b = inv.hosts.get('app')!.jump!
    expect(b).to.include({ address: '10.0.0.5', port: 22 })
    expect(b.jump).to.include({ address: '203.0.113.5', port: 2200, user: 'ops' })
    expect(inv.hosts.get('v6')!.jump).to.include({ address: 'fe80::1%eth0', port: 22 })
    expect(() => fromTs({ hosts: { a: { address: '10.0.0.1', jump: 'a.example,' } } })).to.throw(/jump "a\.example," is neither .* \(a chain: a,b\)/)
  })

  it('finds the bastion in OpenSSH arguments however they are written, and refuses ProxyCommand', () => {
    expect(proxyJumpOf('-o ProxyJump=bastion')).to.equal('bastion')
    expect(proxyJumpOf('-o StrictHostKeyChecking=no -o "ProxyJump=ops@b:2200"')).to.equal('ops@b:2200')
    expect(proxyJumpOf("-o 'proxyjump b'")).to.equal('b')
    expect(proxyJumpOf('-o ProxyJump = b')).to.equal('b')
    expect(proxyJumpOf('-J a,b')).to.equal('a,b')
    expect(proxyJumpOf('-i /tmp/ans-Jx')).to.equal(undefined)
    expect(proxyJumpOf('-o ProxyCommand="ssh -W %h:%p bastion"')).to.equal('proxycommand')
    expect(() => fromYaml(text`
      all:
        hosts:
          web-01: { ansible_ssh_common_args: '-o ProxyCommand="ssh -W %h:%p bastion"' }
    `)).to.throw(InventoryError, /ansible_ssh_common_args: ProxyCommand is not supported; name the bastion with -o ProxyJump=HOST/)
  })

  it('in YAML and INI: muster_jump, or Ansible\'s ansible_ssh_common_args with ProxyJump or -J', () => {
    const yaml = fromYaml(text`
      all:
        hosts:
          bastion: { ansible_host: 203.0.113.5 }
          web-01: { ansible_host: 10.0.0.11, ansible_ssh_common_args: '-o ProxyJump=bastion -o StrictHostKeyChecking=yes' }
          web-02: { ansible_host: 10.0.0.12, muster_jump: bastion }
    `)
    expect(yaml.hosts.get('web-01')!.jump!.name).to.equal('bastion')
    expect(yaml.hosts.get('web-02')!.jump!.name).to.equal('bastion')
    const ini = fromIni(text`
      bastion ansible_host=203.0.113.5
      [web]
      web-01 ansible_host=10.0.0.11
      [web:vars]
      ansible_ssh_common_args='-J ops@203.0.113.5:2200'
    `)
    expect(ini.hosts.get('web-01')!.jump).to.include({ address: '203.0.113.5', port: 2200, user: 'ops' })
  })
})
