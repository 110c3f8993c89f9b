import { createHmac, randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { expect } from 'chai'
import { checkKnownHost, entryMatches, hostToken, judgeLines, KnownHostsIndex, parseKnownHosts } from '../../../src/ssh/known-hosts.ts'
import { SaltedHmac } from '../../../src/ssh/hmac-sha1.ts'

const fixture = (name: string): string => readFileSync(new URL(`../../fixtures/ssh/${name}`, import.meta.url), 'utf8')
const pub = (name: string): [string, string] => fixture(name).trim().split(/\s+/) as [string, string]
const [ED_TYPE, ED_B64] = pub('host_ed25519.pub')
const [EC_TYPE, EC_B64] = pub('host_ecdsa.pub')
const ED = Buffer.from(ED_B64, 'base64')
const EC = Buffer.from(EC_B64, 'base64')
const ED2 = Buffer.from(ED)
ED2[ED2.length - 1]! ^= 1

const hashed = (token: string, salt = randomBytes(20)): string => `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(token).digest('base64')}`

describe('known_hosts index (one search per host, hashed lines by salt)', () => {
  it('SaltedHmac equals HMAC-SHA1 for salts and messages of every length around the block edges', () => {
    for (const keyLen of [0, 1, 20, 63, 64]) {
      const key = randomBytes(keyLen)
      const h = new SaltedHmac(key)
      for (const len of [0, 1, 20, 54, 55, 56, 63, 64, 65, 119, 120, 200]) {
        const msg = randomBytes(len)
        expect(Buffer.from(h.digest(msg)).toString('hex'), `key ${keyLen} msg ${len}`).to.equal(createHmac('sha1', key).update(msg).digest('hex'))
      }
    }
  })

  it('finds what a line-by-line scan finds, verdict for verdict, on a file mixing plain, hashed, wildcard, negated and marked lines', () => {
    const shared = randomBytes(20) // two lines sharing a salt: hashed once for both
    const text = [
      '# fleet',
      `web1,10.0.0.1 ${ED_TYPE} ${ED_B64}`,
      `${hashed('web2')} ${ED_TYPE} ${ED_B64}`,
      `${hashed('web2')} ${EC_TYPE} ${EC_B64}`, // a second key type of the same host
      `${hashed('[web3]:2222', shared)} ${ED_TYPE} ${ED2.toString('base64')}`,
      `${hashed('web4', shared)} ${EC_TYPE} ${EC_B64}`,
      `*.example.com,!bad.example.com ${ED_TYPE} ${ED_B64}`,
      `@revoked ${hashed('web5')} ${ED_TYPE} ${ED_B64}`,
      `web5 ${ED_TYPE} ${ED_B64}`,
      `@revoked * ${EC_TYPE} ${EC_B64}`,
      `@cert-authority *.corp ${ED_TYPE} ${ED_B64}`,
      `WEB6 ${EC_TYPE} ${EC_B64}`,
      `web?0 ${ED_TYPE} ${ED_B64}`,
    ].join('\n')
    const { entries, problems } = parseKnownHosts(text, 'kh')
    expect(problems).to.deep.equal([])
    const index = new KnownHostsIndex(entries)
    const asked: [string, number][] = [
      ['web1', 22], ['10.0.0.1', 22], ['web2', 22], ['web3', 2222], ['web3', 22], ['web4', 22], ['a.example.com', 22],
      ['bad.example.com', 22], ['web5', 22], ['web6', 22], ['web10', 22], ['nobody', 22], ['x.corp', 22],
    ]
    // twice, in two orders: claimed lines and remembered answers must not change any verdict
    for (const order of [asked, [...asked].reverse()]) {
      for (const [host, port] of order) {
        const scan = entries.filter((e) => entryMatches(e, host, port))
        const lines = index.linesFor(host, port)
        expect(lines.map((e) => e.line), hostToken(host, port)).to.deep.equal(scan.map((e) => e.line))
        for (const blob of [ED, EC, ED2]) expect(judgeLines(lines, blob), hostToken(host, port)).to.deep.equal(checkKnownHost(entries, host, port, blob))
      }
    }
    expect(index.linesFor('web2', 22).filter((e) => !e.revoked).map((e) => e.keyType)).to.deep.equal([ED_TYPE, EC_TYPE])
    expect(judgeLines(index.linesFor('web5', 22), ED).kind).to.equal('revoked')
    expect(judgeLines(index.linesFor('web4', 22), EC).kind).to.equal('revoked') // `@revoked *` covers every host
    expect(judgeLines(index.linesFor('web3', 2222), ED).kind).to.equal('changed')
    expect(judgeLines(index.linesFor('x.corp', 22), ED).kind).to.equal('unknown') // @cert-authority lines are not trusted
  })

  it('a hashed fleet file: every host finds its own line and only it, whatever order hosts are asked in', () => {
    const hosts = Array.from({ length: 300 }, (_, i) => `10.1.${i >> 8}.${i & 255}`)
    const text = hosts.map((h) => `${hashed(hostToken(h, 2222))} ${ED_TYPE} ${ED_B64}`).join('\n')
    const index = new KnownHostsIndex(parseKnownHosts(text, 'kh').entries)
    const order = hosts.map((h, i) => [h, (i * 7919) % hosts.length] as const).sort((a, b) => a[1] - b[1])
    for (const [h] of order) {
      expect(index.linesFor(h, 2222).map((e) => e.line)).to.deep.equal([hosts.indexOf(h) + 1])
      expect(index.linesFor(h, 22)).to.deep.equal([])
    }
  })
})
