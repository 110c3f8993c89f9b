import { expect } from 'chai'
import { generateKeyPairSync } from 'node:crypto'
import ssh2 from 'ssh2'
import type { ParsedKey } from 'ssh2'
import { sealHolds, sealKeyOf, sealOf } from '../../../src/ssh/seal.ts'

describe('seal: what lets a later run send a recorded script before it has planned', () => {
  const parsed = (): ParsedKey => {
    // a PKCS#1 RSA key: a format ssh2 parses from Node's own generator, and fast enough at 1024 bits for a test
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 })
    const key = ssh2.utils.parseKey(privateKey.export({ type: 'pkcs1', format: 'pem' }))
    if (key instanceof Error) throw key
    return Array.isArray(key) ? key[0]! : key
  }
  const one = parsed()
  const other = parsed()
  const plan = { candidates: [{ kind: 'agent' as const, label: 'ssh-agent at /run/agent', socket: '/run/agent' }, { kind: 'key' as const, label: 'key /k1', key: one }], skipped: [] }

  it('is keyed by the key file that logged in, and by nothing else', () => {
    expect(sealKeyOf(plan, ['ssh-agent at /run/agent', 'key /k1'])).to.be.instanceOf(Buffer)
    expect(sealKeyOf(plan, ['ssh-agent at /run/agent']), 'the agent logged in: no key here').to.equal(undefined)
    expect(sealKeyOf(plan, []), 'nothing tried').to.equal(undefined)
    expect(sealKeyOf({ candidates: [{ kind: 'password', label: 'password', password: 'x' }], skipped: [] }, ['password'])).to.equal(undefined)
  })

  it('holds for the same host and text under the same key only', () => {
    const k = sealKeyOf(plan, ['key /k1'])!
    const k2 = sealKeyOf({ candidates: [{ kind: 'key', label: 'key /k2', key: other }], skipped: [] }, ['key /k2'])!
    const s = sealOf(k, 'web-01', 'script')
    expect(sealHolds(k, 'web-01', 'script', s)).to.equal(true)
    expect(sealHolds(k, 'web-01', 'script ', s), 'the text changed').to.equal(false)
    expect(sealHolds(k, 'web-02', 'script', s), 'another host').to.equal(false)
    expect(sealHolds(k2, 'web-01', 'script', s), 'another key').to.equal(false)
    expect(sealHolds(k, 'web-01', 'script', 'abc'), 'not a seal at all').to.equal(false)
  })
})
