import { readFileSync } from 'node:fs'
import { expect } from 'chai'
import {
  checkKnownHost,
  entryMatches,
  fingerprintSha256,
  hostToken,
  keyTypeOf,
  knownHostsLine,
  parseKnownHosts,
  recordedHostKeyAlgorithms,
  wildcardMatch,
} from '../../../src/ssh/known-hosts.ts'

const fixture = (name: string): string => readFileSync(new URL(`../../fixtures/ssh/${name}`, import.meta.url), 'utf8')
/** [type, base64] of a .pub fixture */
const pub = (name: string): [string, string] => fixture(name).trim().split(/\s+/) as [string, string]
const [ED_TYPE, ED_B64] = pub('host_ed25519.pub')
const [EC_TYPE, EC_B64] = pub('host_ecdsa.pub')
const ED = Buffer.from(ED_B64, 'base64')
const EC = Buffer.from(EC_B64, 'base64')

/** One known_hosts file as a test table: a line per entry. */
const parse = (...lines: string[]) => parseKnownHosts(lines.join('\n') + '\n', 'kh')

describe('known-hosts', () => {
  describe('fingerprints and key blobs', () => {
    it('formats SHA256 fingerprints exactly as ssh-keygen -lf prints them', () => {
      for (const name of ['host_ed25519.pub', 'host_ecdsa.pub']) {
        const expected = /SHA256:\S+/.exec(fixture(`${name}.fingerprint`))![0]
        const blob = Buffer.from(pub(name)[1], 'base64')
        expect(fingerprintSha256(blob)).to.equal(expected)
        expect(fingerprintSha256(blob)).not.to.match(/=/)
      }
    })
    it('reads the key type out of the blob', () => {
      expect(keyTypeOf(ED)).to.equal('ssh-ed25519')
      expect(keyTypeOf(EC)).to.equal(EC_TYPE)
      expect(keyTypeOf(Buffer.from([0, 0, 0, 9, 1]))).to.equal(undefined)
    })
  })

  describe('parsing', () => {
    it('skips comments and blanks, keeps line numbers, and reports malformed lines', () => {
      const { entries, problems } = parse('# a comment', '', `   web1 ${ED_TYPE} ${ED_B64} comment here`, 'web2 ssh-ed25519', `@weird web3 ${ED_TYPE} ${ED_B64}`, `web4 ssh-rsa ${ED_B64}`)
      expect(entries.map((e) => [e.line, e.keyType])).to.deep.equal([[3, 'ssh-ed25519']])
      expect(problems.map((p) => p.line)).to.deep.equal([4, 5, 6])
      expect(problems[1].reason).to.match(/unknown marker @weird/)
      expect(problems[2].reason).to.match(/not a valid ssh-rsa key/)
    })
    it('marks @revoked and ignores @cert-authority', () => {
      const { entries } = parse(`@revoked * ${ED_TYPE} ${ED_B64}`, `@cert-authority *.example.com ${EC_TYPE} ${EC_B64}`)
      expect(entries).to.have.length(1)
      expect(entries[0].revoked).to.equal(true)
    })
  })

  describe('matching a line to a host', () => {
    // [host field, host, port, matches?]
    const table: [string, string, number, boolean][] = [
      ['web1', 'web1', 22, true],
      ['WEB1', 'web1', 22, true],
      ['web1', 'web1', 2222, false],
      ['[web1]:2222', 'web1', 2222, true],
      ['[web1]:2222', 'web1', 22, false],
      ['[web1]:22', 'web1', 22, false], // ssh never writes port 22 in brackets, and never looks it up so
      ['web1,web2,10.0.0.1', '10.0.0.1', 22, true],
      ['web1,web2', 'web3', 22, false],
      ['*.example.com', 'a.example.com', 22, true],
      ['*.example.com', 'example.com', 22, false],
      ['web?', 'web7', 22, true],
      ['web?', 'web10', 22, false],
      ['*.example.com,!bad.example.com', 'bad.example.com', 22, false],
      ['!bad.example.com,*.example.com', 'ok.example.com', 22, true],
      ['!bad.example.com', 'ok.example.com', 22, false], // a negation alone matches nothing
      ['[10.0.0.*]:2222', '10.0.0.9', 2222, true],
      ['10.0.0.*', '10.0.0.9', 2222, false],
      ['10.0.0.1', '10.0.0.10', 22, false], // '.' is literal, no partial match
    ]
    for (const [field, host, port, want] of table) {
      it(`${field} ${want ? 'matches' : 'does not match'} ${hostToken(host, port)}`, () => {
        const { entries } = parse(`${field} ${ED_TYPE} ${ED_B64}`)
        expect(entryMatches(entries[0], host, port)).to.equal(want)
      })
    }
    it('matches hashed entries written by ssh-keygen -H, with and without a port', () => {
      const { entries, problems } = parseKnownHosts(fixture('known_hosts.hashed'), 'hashed')
      expect(problems).to.deep.equal([])
      expect(entries.map((e) => e.hosts.kind)).to.deep.equal(['hashed', 'hashed'])
      expect(entryMatches(entries[0], 'example.com', 22)).to.equal(true)
      expect(entryMatches(entries[0], 'Example.COM', 22)).to.equal(true)
      expect(entryMatches(entries[0], 'example.org', 22)).to.equal(false)
      expect(entryMatches(entries[0], 'example.com', 2222)).to.equal(false)
      expect(entryMatches(entries[1], '10.0.0.5', 2222)).to.equal(true)
      expect(entryMatches(entries[1], '10.0.0.5', 22)).to.equal(false)
    })
    it('wildcards treat regex characters literally', () => {
      expect(wildcardMatch('a+b', 'a+b')).to.equal(true)
      expect(wildcardMatch('a+b', 'aab')).to.equal(false)
      expect(wildcardMatch('[x]:1', '[x]:1')).to.equal(true)
    })
  })

  describe('verdicts', () => {
    it('known: the same key recorded for the host, with its file:line', () => {
      const v = checkKnownHost(parse('# x', `other ${EC_TYPE} ${EC_B64}`, `web1 ${ED_TYPE} ${ED_B64}`).entries, 'web1', 22, ED)
      expect(v.kind).to.equal('known')
      expect(v.kind === 'known' && `${v.entry.file}:${v.entry.line}`).to.equal('kh:3')
    })
    it('unknown: nothing recorded for this host (other hosts do not count)', () => {
      expect(checkKnownHost(parse(`web2 ${ED_TYPE} ${ED_B64}`).entries, 'web1', 22, ED).kind).to.equal('unknown')
    })
    it('changed: another key of the same type is recorded', () => {
      const other = Buffer.from(ED)
      other[other.length - 1] ^= 1
      const v = checkKnownHost(parse(`web1 ${ED_TYPE} ${ED_B64}`).entries, 'web1', 22, other)
      expect(v.kind).to.equal('changed')
      expect(v.kind === 'changed' && v.recorded[0].line).to.equal(1)
    })
    it('other-type: only keys of other types are recorded', () => {
      expect(checkKnownHost(parse(`web1 ${EC_TYPE} ${EC_B64}`).entries, 'web1', 22, ED).kind).to.equal('other-type')
    })
    it('revoked wins over a matching plain entry', () => {
      const v = checkKnownHost(parse(`web1 ${ED_TYPE} ${ED_B64}`, `@revoked * ${ED_TYPE} ${ED_B64}`).entries, 'web1', 22, ED)
      expect(v.kind).to.equal('revoked')
      expect(v.kind === 'revoked' && v.entry.line).to.equal(2)
    })
    it('a second recorded key of the same type is accepted (rotation)', () => {
      const other = Buffer.from(ED)
      other[other.length - 1] ^= 1
      const v = checkKnownHost(parse(`web1 ${ED_TYPE} ${other.toString('base64')}`, `web1 ${ED_TYPE} ${ED_B64}`).entries, 'web1', 22, ED)
      expect(v.kind).to.equal('known')
    })
    it('a negated pattern keeps a wildcard line from vouching for that host', () => {
      expect(checkKnownHost(parse(`*,!web1 ${ED_TYPE} ${ED_B64}`).entries, 'web1', 22, ED).kind).to.equal('unknown')
    })
  })

  describe('recorded host-key algorithms', () => {
    it('lists the algorithms of the recorded types, in file order, rsa expanded to its SHA-2 forms', () => {
      const rsa = 'AAAAB3NzaC1yc2EAAAADAQABAAAAAQC7' // any blob whose type is ssh-rsa
      const { entries } = parse(`[h]:2222 ${EC_TYPE} ${EC_B64}`, `[h]:2222 ssh-rsa ${Buffer.from(rsa, 'base64').toString('base64')}`, `h ${ED_TYPE} ${ED_B64}`)
      expect(recordedHostKeyAlgorithms(entries, 'h', 2222)).to.deep.equal([EC_TYPE, 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'])
      expect(recordedHostKeyAlgorithms(entries, 'h', 22)).to.deep.equal(['ssh-ed25519'])
      expect(recordedHostKeyAlgorithms(entries, 'x', 22)).to.deep.equal([])
    })
  })

  it('writes the line that --accept-new-host-keys appends', () => {
    expect(knownHostsLine('10.0.0.5', 2222, ED)).to.equal(`[10.0.0.5]:2222 ssh-ed25519 ${ED_B64}`)
    expect(knownHostsLine('Web1', 22, ED)).to.equal(`web1 ssh-ed25519 ${ED_B64}`)
    expect(ED_TYPE).to.equal('ssh-ed25519')
  })
})
