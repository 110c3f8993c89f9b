import { expect } from 'chai'
import { secret } from '../../../src/core/secret.ts'
import { secretLineRedactor, secretsIn, withPlaceholders } from '../../../src/resources/secret-lines.ts'

describe('secret lines (what a diff may show of a host file rendered from secrets)', () => {
  const render = (vars: Record<string, unknown>): string => {
    const v = vars as { user: string; pw: string; token: string }
    return `[client]\nuser = ${v.user}\npass[1] = (${v.pw}) and ${v.token}.\nport = 3306\n`
  }
  const pw = secret('current-pw-51b7')
  const token = secret('current-tok-a90c')
  const vars = { user: 'app', nested: { list: [pw] }, pw, token }
  const secrets = secretsIn(vars)
  const redact = secretLineRedactor(render(withPlaceholders(vars, secrets) as Record<string, unknown>), secrets)!

  it('finds every Secret in plain objects and arrays, once per place', () => {
    expect(secrets).to.have.length(3)
    expect(secretsIn({ a: 'plain', b: [1, 2] })).to.deep.equal([])
  })

  it('hides values in a secret\'s place unless they are a current secret, keeping the line\'s literal text (regex characters too)', () => {
    expect(redact('pass[1] = (old-pw-0000) and current-tok-a90c.\n')).to.equal('pass[1] = (***) and current-tok-a90c.\n')
    expect(redact('pass[1] = (current-pw-51b7) and old-tok.\n')).to.equal('pass[1] = (current-pw-51b7) and ***.\n')
  })

  it('leaves lines that hold no secret alone', () => {
    expect(redact('[client]\nuser = someone\nport = 3307\n')).to.equal('[client]\nuser = someone\nport = 3307\n')
  })

  it('gives no redactor for a multi-line secret or for a template whose secret lines cannot be found', () => {
    const key = secret('-----BEGIN KEY-----\nAAAA\n-----END KEY-----')
    expect(secretLineRedactor(`key = ${String(withPlaceholders(key, [key]))}\n`, [key])).to.equal(undefined)
    expect(secretLineRedactor('length = 15\n', [pw])).to.equal(undefined)
  })
})
