import { planTable, recorded, literal } from '../../../support/plan-table.ts'
import { authorizedKeys } from '../../../../src/resources/server/authorized-keys.ts'
import { authorizedKeysOf } from '../../../../src/facts/authorized-keys.ts'

// Recorded on lab web-01 (test/fixtures/probes/{authorized-keys,user}/web-01-*): before, after
// test/fixtures/lab/server.ts, and with keys appended and a mode changed by hand.
const OPS = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE7xAm1oBq0JmK0kqQnVv7hJ9yF2o9mCkq4i2cGk9s8X ops@example'
const SPARE = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFb7Jq0xW8JtBRzYVnY1v9Vbqk6z9cWcS0kqI1s3fQpA spare@example'
const ops = () => authorizedKeys('ops', { keys: [OPS], exclusive: true })
const root = () => authorizedKeys('root', { keys: [SPARE] })
const facts = (state: string, users: string) => ({ keys: recorded(`authorized-keys/web-01-${state}`), account: recorded(`user/web-01-ops-${users}`) })
const predictedOps = { user: true, home: '/home/ops', dir: { mode: '0700', owner: 'ops', group: 'ops' } }

planTable('authorizedKeys: plan over recorded probes', [
  { name: 'a user that does not exist', resource: ops, facts: facts('bare', 'bare'), expect: { throws: /authorized-keys:ops: no such user on this host/ } },
  {
    name: 'a user created earlier in the run (check mode: predicted by user())',
    resource: ops,
    facts: { keys: recorded('authorized-keys/web-01-bare'), account: literal({ exists: true, uid: null, gid: null, group: 'ops', gecos: '', home: '/home/ops', shell: '/bin/bash', groups: [] }) },
    expect: 'create',
    diff: /\+ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE7x/,
    commands: /^install -d -m 0700 -o ops -g ops -- \/home\/ops\/.ssh\n[\s\S]*chown -- ops:ops "\$tmp"[\s\S]*chmod -- 0600 "\$tmp"/,
    secrets: [OPS],
    predicts: [{ query: authorizedKeysOf('ops'), value: predictedOps }],
  },
  { name: 'root, not exclusive: the lab key is kept, the spare added', resource: root, facts: facts('bare', 'bare'), expect: 'content', diff: /^ ssh-ed25519 [^\n]*\n\+ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFb7/m },
  { name: 'converged', resource: ops, facts: facts('converged', 'converged'), expect: 'ok' },
  { name: 'converged root', resource: root, facts: facts('converged', 'converged'), expect: 'ok' },
  { name: 'exclusive: a key added by hand and mode 0644', resource: ops, facts: facts('drifted', 'converged'), expect: 'content, mode/owner 0644 ops:ops -> 0600 ops:ops', diff: /-ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDHand\+Made= intruder@x/ },
  { name: 'not exclusive: a key added by hand is not drift', resource: root, facts: facts('drifted', 'converged'), expect: 'ok' },
  { name: 'not a key', resource: () => authorizedKeys('ops', { keys: ['hello world'] }), facts: {}, expect: { throws: /not a public key line/ } },
  { name: 'no keys', resource: () => authorizedKeys('ops', { keys: [] }), facts: {}, expect: { throws: /at least one key/ } },
])
