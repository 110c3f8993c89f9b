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
  it('a limit changes nothing at or under it, and says limit + 1 above it (3,000 random pairs against the full table)', () => {
    // the full optimal-string-alignment table, written plainly: what the bounded one must agree with
    const full = (a: string, b: string): number => {
      const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)))
      for (let i = 1; i <= a.length; i++)
        for (let j = 1; j <= b.length; j++) {
          d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
          if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1)
        }
      return d[a.length]![b.length]!
    }
    let seed = 7
    const rnd = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n)
    const word = (): string => Array.from({ length: rnd(9) }, () => 'abc_'[rnd(4)]).join('')
    for (let k = 0; k < 3000; k++) {
      const [a, b, limit] = [word(), word(), rnd(4)]
      const want = full(a, b)
      expect(editDistance(a, b), `${a} ${b}`).to.equal(want)
      expect(editDistance(a, b, limit), `${a} ${b} within ${limit}`).to.equal(want <= limit ? want : limit + 1)
    }
  })
})
