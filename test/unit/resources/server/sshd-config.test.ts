import { expect } from 'chai'
import { planTable, recorded } from '../../../support/plan-table.ts'
import { sshdConfig, lockoutCheck } from '../../../../src/resources/server/sshd-config.ts'

// Recorded on lab web-01 (test/fixtures/probes/path/sshd-web-01-*): converged by test/fixtures/lab/server.ts, then edited by hand.
const hardening = () =>
  sshdConfig('10-muster-hardening', { settings: { PasswordAuthentication: false, KbdInteractiveAuthentication: false, X11Forwarding: false, PermitRootLogin: 'prohibit-password', MaxAuthTries: 4 } })

planTable('sshdConfig: plan over recorded probes', [
  { name: 'a drop-in not there yet', resource: () => sshdConfig('05-muster-root', { settings: { PermitRootLogin: 'prohibit-password' } }), facts: { state: recorded('path/sshd-web-01-converged') }, expect: 'create', diff: /\+PermitRootLogin prohibit-password/ },
  { name: 'converged', resource: hardening, facts: { state: recorded('path/sshd-web-01-converged') }, expect: 'ok' },
  {
    name: 'edited by hand',
    resource: hardening,
    facts: { state: recorded('path/sshd-web-01-drifted') },
    expect: 'content',
    // who the run is, then the file goes in place and is judged there (sshd -t, then the lockout check)
    commands: /^printf %s "\$SSH_CONNECTION"\nsshd -T -C user=[^\n]*\n[\s\S]*mv -fT -- "\$tmp" "\$t"\nif ! \( sshd -t \|\| exit 1/,
  },
  { name: 'a Match block', resource: () => sshdConfig('x', { settings: { Match: 'User bob' } }), facts: {}, expect: { throws: /not a keyword this resource writes/ } },
  { name: 'a value with a newline', resource: () => sshdConfig('x', { settings: { Banner: '/etc/issue\nPermitRootLogin yes' } }), facts: {}, expect: { throws: /newline/ } },
  { name: 'a dotted name', resource: () => sshdConfig('x.conf', { settings: { X11Forwarding: false } }), facts: {}, expect: { throws: /letters, digits/ } },
  { name: 'no settings', resource: () => sshdConfig('x', { settings: {} }), facts: {}, expect: { throws: /at least one setting/ } },
])

describe('sshdConfig: the lockout check', () => {
  it('asks about the root login only when the run is root, and quotes what it is given', () => {
    const root = lockoutCheck({ user: 'root', addr: '10.0.0.1', port: '22' }, '.ssh/authorized_keys')
    const deploy = lockoutCheck({ user: 'deploy', addr: '10.0.0.1', port: '2222' }, ".ssh/it's keys")
    expect(root).to.include('PermitRootLogin would refuse root keys')
    expect(deploy).to.not.include('PermitRootLogin')
    expect(deploy).to.include(`grep -qxF 2222`).and.include(`= '.ssh/it'\\''s keys' ]`)
    // validate commands replace %s with the path: the check must not contain one
    expect(root + deploy).to.not.include('%s')
  })
})
