import { expect } from 'chai'
import { secret, maskSecrets } from '../../../src/core/secret.ts'

describe('secrets', () => {
  it('print as *** and are masked wherever their text shows', () => {
    const s = secret('hunter2-muster-test')
    expect(String(s)).to.equal('***')
    expect(JSON.stringify({ s })).to.equal('{"s":"***"}')
    expect(maskSecrets('password=hunter2-muster-test;')).to.equal('password=***;')
  })

  it('a multi-line secret (a private key) is masked line by line, as a diff would show it', () => {
    const body = 'MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgmusterTESTline1'
    secret(`-----BEGIN PRIVATE KEY-----\n${body}\nAQQgmusterTESTline2xyz\n-----END PRIVATE KEY-----\n`)
    const diff = `+-----BEGIN PRIVATE KEY-----\n+${body}\n+AQQgmusterTESTline2xyz\n+-----END PRIVATE KEY-----`
    expect(maskSecrets(diff)).to.equal('+-----BEGIN PRIVATE KEY-----\n+***\n+***\n+-----END PRIVATE KEY-----')
  })
})
