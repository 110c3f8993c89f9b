import { expect } from 'chai'
import { InventoryError } from '../../../src/inventory/types.ts'
import { Secret } from '../../../src/core/secret.ts'
import { fromIni, fromTs, fromYaml, text } from './helpers.ts'

describe('inventory: become methods, users and passwords', () => {
  it('reads Ansible\'s become variables per host and per group in YAML', () => {
    const inv = fromYaml(text`
      all:
        vars:
          ansible_user: admin
        children:
          legacy:
            vars:
              ansible_become_method: su
              ansible_become_password: root-secret
            hosts:
              old-01:
              old-02:
                ansible_become_pass: other-secret
        hosts:
          bsd-ish:
            ansible_become_method: doas
          app-01:
            ansible_become_user: app
            ansible_become_method: sudo-rs
            ansible_become_password: s3cret
    `)
    const ssh = (h: string) => inv.hosts.get(h)!.ssh
    expect(ssh('old-01')).to.include({ becomeMethod: 'su' })
    expect(ssh('old-01').becomePassword).to.be.instanceOf(Secret)
    expect(ssh('old-01').becomePassword!.reveal()).to.equal('root-secret')
    expect(ssh('old-02').becomePassword!.reveal()).to.equal('other-secret')
    expect(ssh('bsd-ish')).to.include({ becomeMethod: 'doas' })
    expect(ssh('app-01')).to.include({ becomeMethod: 'sudo-rs', becomeUser: 'app' })
    // never an ordinary var: a password in vars would reach templates and facts output
    expect(inv.hosts.get('app-01')!.vars).not.to.have.property('ansible_become_password')
  })

  it('reads them from INI host lines and [group:vars]', () => {
    const inv = fromIni(text`
      [web]
      web-01 ansible_become_method=sudo ansible_become_password=pw1
      web-02
      [web:vars]
      ansible_user=admin
      ansible_become_user=www-data
    `)
    expect(inv.hosts.get('web-01')!.ssh).to.include({ becomeMethod: 'sudo', becomeUser: 'www-data', user: 'admin' })
    expect(inv.hosts.get('web-01')!.ssh.becomePassword!.reveal()).to.equal('pw1')
    expect(inv.hosts.get('web-02')!.ssh.becomePassword).to.equal(undefined)
  })

  it('reads them from a TypeScript inventory, with group ssh settings under the host\'s own', () => {
    const inv = fromTs({
      ssh: { user: 'admin' },
      groups: { legacy: { hosts: ['a', 'b'], ssh: { becomeMethod: 'su', becomePassword: new Secret('group-pw') } } },
      hosts: { a: {}, b: { becomePassword: new Secret('own-pw') }, c: { becomeMethod: 'doas' } },
    })
    expect(inv.hosts.get('a')!.ssh.becomePassword!.reveal()).to.equal('group-pw')
    expect(inv.hosts.get('b')!.ssh.becomePassword!.reveal()).to.equal('own-pw')
    expect(inv.hosts.get('b')!.ssh.becomeMethod).to.equal('su')
    expect(inv.hosts.get('c')!.ssh.becomeMethod).to.equal('doas')
  })

  it('refuses what no host could do, naming file, line and host', () => {
    const bad = (f: () => unknown, re: RegExp) => expect(f).to.throw(InventoryError, re)
    bad(() => fromYaml('all:\n  hosts:\n    h:\n      ansible_user: a\n      ansible_become_method: runas'), /inv\.yml:5.*host h: ansible_become_method: become method must be one of sudo, sudo-rs, su, doas, got "runas"/)
    bad(() => fromYaml('all:\n  hosts:\n    h:\n      ansible_user: a\n      ansible_become_method: su'), /inv\.yml:5.*host h: become method su needs the target user's password/)
    bad(() => fromIni('h ansible_user=a ansible_become_method=doas ansible_become_password=x'), /host h: become method doas reads a password from a terminal only/)
    // a root login needs no become to root, so nothing is refused there
    expect(() => fromYaml('all:\n  hosts:\n    h:\n      ansible_become_method: su')).not.to.throw()
  })
})
