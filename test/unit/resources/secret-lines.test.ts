import { expect } from 'chai'
import { secret } from '../../../src/core/secret.ts'
import { secretLineRedactor, secretsIn, withPlaceholders } from '../../../src/resources/secret-lines.ts'

describe('secret lines (what a diff may show of a host file rendered from secrets)', () => {
  const render = (vars: Record<string, unknown>): string => {
    const v = vars as { user: string; pw: unknown; token: unknown }
    return `[client]\nuser = ${v.user}\npass[1] = (${String(v.pw)}) and ${String(v.token)}.\nport = 3306\n`
  }
  const reveal = (x: unknown): unknown => (x && typeof x === 'object' && 'reveal' in x ? (x as { reveal(): string }).reveal() : x)
  const pw = secret('current-pw-51b7')
  const token = secret('current-tok-a90c')
  const vars = { user: 'app', nested: { list: [pw] }, pw, token }
  const secrets = secretsIn(vars)
  const real = render({ user: 'app', pw: reveal(pw), token: reveal(token) })
  const redact = secretLineRedactor(render(withPlaceholders(vars, secrets) as Record<string, unknown>), secrets, real)!

  it('finds every Secret in plain objects and arrays, once per place', () => {
    expect(secrets).to.have.length(3)
    expect(secretsIn({ a: 'plain', b: [1, 2] })).to.deep.equal([])
  })

  it('hides values in a secret\'s place unless they are a current secret, keeping the line\'s literal text (regex characters too)', () => {
    expect(redact('pass[1] = (old-pw-0000) and current-tok-a90c.\n')).to.equal('pass[1] = (***) and current-tok-a90c.\n')
    expect(redact('pass[1] = (current-pw-51b7) and old-tok.\n')).to.equal('pass[1] = (current-pw-51b7) and ***.\n')
  })

  it('shows lines the new content also has; hides every other line whole, since an old layout may hold an old secret', () => {
    expect(redact('[client]\nuser = app\nport = 3306\n')).to.equal('[client]\nuser = app\nport = 3306\n')
    expect(redact('user = someone\npassword: old-pw-in-an-old-layout\n')).to.equal('***\n***\n')
  })

  it('handles a host file with CRLF line ends (the old secret does not slip through on a \\r)', () => {
    expect(redact('[client]\r\npass[1] = (old-pw-0000) and current-tok-a90c.\r\n')).to.equal('[client]\r\npass[1] = (***) and current-tok-a90c.\r\n')
  })

  it('gives no redactor (so no diff) for a multi-line secret or a template that does more with a secret than print it', () => {
    const key = secret('-----BEGIN KEY-----\nAAAA\n-----END KEY-----')
    expect(secretLineRedactor(`key = ${String(withPlaceholders(key, [key]))}\n`, [key], `key = ${key.reveal()}\n`)).to.equal(undefined)
    // e.g. the template printed pw.length, or encodeURIComponent(pw): the placeholders do not put back the real text
    expect(secretLineRedactor('length = 15\n', [pw], 'length = 15\n' + 'x')).to.equal(undefined)
    const encoded = withPlaceholders(pw, [pw]) as string
    expect(secretLineRedactor(`url = ${encodeURIComponent(encoded)}\n`, [pw], `url = ${encodeURIComponent(pw.reveal())}\n`)).to.equal(undefined)
  })
})
