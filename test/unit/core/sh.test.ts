import { expect } from 'chai'
import { sh, quote, raw, SecretInCommandError } from '../../../src/core/sh.ts'
import { secret, maskSecrets } from '../../../src/core/secret.ts'

describe('sh', () => {
  it('leaves safe words bare and single-quotes the rest', () => {
    expect(quote('nginx')).to.equal('nginx')
    expect(quote('/etc/a b')).to.equal("'/etc/a b'")
    expect(quote("it's")).to.equal(`'it'\\''s'`)
    expect(quote('')).to.equal("''")
    expect(quote('$(rm -rf /)')).to.equal("'$(rm -rf /)'")
  })
  it('quotes every interpolated value and joins arrays', () => {
    expect(sh`dpkg-query -W ${['nginx', 'a b']}`).to.equal("dpkg-query -W nginx 'a b'")
    expect(sh`x ${raw('$HOME')}`).to.equal('x $HOME')
  })
  it('refuses to put a secret into argv', () => {
    expect(() => sh`mysql -p${secret('hunter22')}`).to.throw(SecretInCommandError)
  })
})

describe('secrets', () => {
  it('print as *** and are masked in any text', () => {
    const s = secret('correct-horse')
    expect(`${s}`).to.equal('***')
    expect(JSON.stringify({ s })).to.equal('{"s":"***"}')
    expect(maskSecrets('password=correct-horse;')).to.equal('password=***;')
  })
})
