import { expect } from 'chai'
import { fileContentFact, fileContent } from '../../../src/facts/file-content.ts'
import { loadFixture, SCENARIO } from '../../support/record-probes.ts'

const P = (n: string): string => `${SCENARIO}/${n}`

describe('file-content fact', () => {
  it('refuses relative keys and coalesces every file into one loop', () => {
    expect(() => fileContent('x')).to.throw(/absolute/)
    const s = fileContentFact.script(['/a', '/b c'])
    expect(s.match(/\bfor p in /g)).to.have.length(1)
    expect(s).to.include(`/a '/b c'`)
  })

  it('parses a batch recorded on Debian 12: text, symlink followed, null for absent/dir/dangling, bytes kept', async () => {
    const f = await loadFixture(fileContentFact, 'file-content', 'batch')
    expect(Object.fromEntries([...f.values].map(([k, v]) => [k.slice(SCENARIO.length + 1), v]))).to.deep.equal({
      'app.conf': 'listen 80;\n',
      'my site.conf': 'server_name example.org;\n',
      missing: null,
      'etc-dir': null,
      'app-link': 'listen 80;\n',
      dangling: null,
      'blob.bin': Buffer.from('MZ\x00\x01\xffbinary', 'latin1').toString('utf8'),
      empty: '',
    })
  })

  it('keeps a missing final newline', async () => {
    const f = await loadFixture(fileContentFact, 'file-content', 'edit-targets')
    expect(f.value(P('nonl.txt'))).to.equal('no final newline')
    expect(f.value(P('missing.cnf'))).to.equal(null)
  })

  it('a read error is an error, not content', () => {
    expect(() => fileContentFact.parse('\x1e/x\n!\n', ['/x'], 0)).to.throw(/cannot read \/x/)
    expect(() => fileContentFact.parse('', ['/x'], 0)).to.throw(/no answer/)
  })
})
