import { expect } from 'chai'
import { closest, didYouMean, editDistance } from '../../../src/core/did-you-mean.ts'

describe('did you mean', () => {
  const rows: [string, string[], string][] = [
    ['ngnix', ['nginx', 'haproxy', 'mysql'], "; did you mean 'nginx'?"], // two letters swapped: one edit
    ['ansible_hots', ['ansible_host', 'ansible_port', 'ansible_user'], "; did you mean 'ansible_host'?"],
    ['webb', ['web', 'db', 'lb'], "; did you mean 'web'?"],
    ['aply', ['apply', 'check', 'ping'], "; did you mean 'apply'?"],
    ['chek', ['apply', 'check'], "; did you mean 'check'?"],
    ['nosuchhost', ['box', 'ghost', 'app'], ''], // nothing close: no guess
  ]
  for (const [word, known, want] of rows) it(`${word} among ${known.join(', ')}`, () => expect(didYouMean(word, known)).to.equal(want))

  it('short words still get one edit', () => expect(closest('db', ['web', 'lb'])).to.deep.equal(['lb']))
  it('only the nearest, at most three', () => expect(closest('web-0', ['web-01', 'web-02', 'web-03', 'web-04', 'web'])).to.deep.equal(['web-01', 'web-02', 'web-03']))
  it('edit distance counts a swap as one', () => {
    expect(editDistance('ngnix', 'nginx')).to.equal(1)
    expect(editDistance('abc', 'abc')).to.equal(0)
    expect(editDistance('', 'abc')).to.equal(3)
  })
})
