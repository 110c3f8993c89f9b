import { expect } from 'chai'
import { createHash } from 'node:crypto'
import { firewall, nftLoaded, renderNftRuleset, NFT_STATE } from '../../../src/resources/firewall.ts'
import type { PathState } from '../../../src/facts/path.ts'
import type { ShellResult } from '../../../src/facts/shell.ts'
import type { Resource } from '../../../src/contract/resource.ts'
import { isUnknown } from '../../../src/contract/fact.ts'
import { planOf, commandsOf } from '../../support/system-probe-fixture.ts'

const sha = (s: string): string => createHash('sha256').update(s).digest('hex')

describe('firewall', () => {
  describe('renderNftRuleset', () => {
    it('drops by default, keeps established traffic, loopback, ICMP and SSH, then each allowed port', () => {
      const text = renderNftRuleset({ host: 'web-01', allow: [{ port: 80, from: ['10.77.0.13'], comment: 'http from the load balancers' }] })
      expect(text.split('\n')).to.include.members([
        '#!/usr/sbin/nft -f',
        // its own table only, made again in one load; other tables stay
        'table inet muster',
        'delete table inet muster',
        '\t\ttype filter hook input priority filter; policy drop;',
        '\t\tct state established,related accept',
        '\t\tiifname "lo" accept',
        '\t\ttcp dport 22 accept comment "ssh"',
        '\t\tip saddr { 10.77.0.13 } tcp dport 80 accept comment "http from the load balancers"',
        '\t\ttype filter hook forward priority filter; policy drop;',
        '\t\ttype filter hook output priority filter; policy accept;',
      ])
      expect(text).to.include('for web-01')
      expect(text).not.to.include('flush ruleset')
      // SSH comes before any other rule
      expect(text.indexOf('dport 22')).to.be.lessThan(text.indexOf('dport 80'))
    })

    it("owns: 'ruleset' flushes the whole ruleset, as before", () => {
      const text = renderNftRuleset({ host: 'h', allow: [], owns: 'ruleset' })
      expect(text.split('\n')).to.include('flush ruleset')
      expect(text.split('\n')).not.to.include('delete table inet muster')
      expect(() => renderNftRuleset({ host: 'h', allow: [], owns: 'all' as never })).to.throw(/owns must be 'table' or 'ruleset', got "all"/)
    })

    it('splits sources by family, takes lists and ranges, and leaves out a rule nobody may use', () => {
      const text = renderNftRuleset({
        host: 'h',
        allow: [
          { port: [80, 443], from: ['10.0.0.0/8', 'fd00::1', '192.0.2.7'] },
          { port: { from: 6000, to: 6010 }, proto: 'udp' },
          { port: 3306, from: [] },
        ],
        ssh: { port: 2222, from: ['198.51.100.0/24'] },
      })
      expect(text).to.include('\t\tip saddr { 10.0.0.0/8, 192.0.2.7 } tcp dport { 80, 443 } accept\n')
      expect(text).to.include('\t\tip6 saddr { fd00::1 } tcp dport { 80, 443 } accept\n')
      expect(text).to.include('\t\tudp dport 6000-6010 accept\n')
      expect(text).to.include('\t\tip saddr { 198.51.100.0/24 } tcp dport 2222 accept comment "ssh"\n')
      expect(text).not.to.include('3306')
      expect(text).not.to.include('dport 22 ')
    })

    it('admits VRRP (IP protocol 112) from keepalived peers, by family', () => {
      const text = renderNftRuleset({ host: 'lb-01', allow: [{ proto: 'vrrp', from: ['10.77.0.15', 'fd00::15'], comment: 'vrrp from lb-02' }] })
      expect(text).to.include('\t\tip saddr { 10.77.0.15 } ip protocol vrrp accept comment "vrrp from lb-02"\n')
      expect(text).to.include('\t\tip6 saddr { fd00::15 } ip6 nexthdr vrrp accept comment "vrrp from lb-02"\n')
      expect(renderNftRuleset({ host: 'h', allow: [{ proto: 'vrrp' }] })).to.include('\t\tmeta l4proto vrrp accept\n')
    })

    const bad: [string, Parameters<typeof renderNftRuleset>[0], RegExp][] = [
      ['a host name as source', { host: 'h', allow: [{ port: 80, from: ['web-01'] }] }, /allow\[0\]: "web-01" is not an IP address or CIDR.*privateAddress/],
      ['a bad prefix length', { host: 'h', allow: [{ port: 80, from: ['10.0.0.0/33'] }] }, /allow\[0\]: "10.0.0.0\/33"/],
      ['port 0', { host: 'h', allow: [{ port: 0 }] }, /allow\[0\]: port must be 1-65535, got 0/],
      ['a backwards range', { host: 'h', allow: [{ port: { from: 90, to: 80 } }] }, /allow\[0\]: port range 90-80 is backwards/],
      ['an empty port list', { host: 'h', allow: [{ port: [] }] }, /allow\[0\]: an empty port list/],
      ['a comment that would break the file', { host: 'h', allow: [{ port: 80, comment: 'x"; flush ruleset' }] }, /allow\[0\]: comment/],
      ['an unknown protocol', { host: 'h', allow: [{ port: 80, proto: 'sctp' as 'tcp' }] }, /allow\[0\]: proto must be tcp, udp or vrrp/],
      ['a port on vrrp', { host: 'h', allow: [{ port: 80, proto: 'vrrp' }] }, /allow\[0\]: vrrp has no ports/],
      ['a tcp rule without a port', { host: 'h', allow: [{ from: ['10.0.0.1'] }] }, /allow\[0\]: a tcp rule needs a port/],
      ['a bad ssh source', { host: 'h', allow: [], ssh: { from: ['bastion'] } }, /firewall ssh: "bastion"/],
    ]
    for (const [what, opts, error] of bad) {
      it(`refuses ${what}, naming the rule`, () => {
        expect(() => renderNftRuleset(opts)).to.throw(error)
      })
    }
  })

  describe('nftLoaded plan', () => {
    const conf = 'table inet muster {}\n'
    const file: PathState = { type: 'file', mode: '0755', owner: 'root', group: 'root', size: conf.length, mtime: 1, sha256: sha(conf) }
    const liveSha = 'b'.repeat(64)
    const live = (state: string, now: string): ShellResult => ({ code: 0, stdout: `${state}\n${now}\n` })

    const rows: [string, ShellResult, 'ok' | 'change', string][] = [
      ['loaded and untouched', live(`${sha(conf)} ${liveSha} `, liveSha), 'ok', "table inet muster is the one loaded (other tables are not muster's)"],
      ['nft not installed', live('', '-'), 'change', 'load /etc/nftables.conf (nft is not installed yet)'],
      ['never loaded by muster', live('', liveSha), 'change', 'load /etc/nftables.conf (never loaded by muster)'],
      ['the file changed since', live(`${'c'.repeat(64)} ${liveSha} `, liveSha), 'change', 'load /etc/nftables.conf (/etc/nftables.conf changed since it was loaded)'],
      ['rules changed by hand', live(`${sha(conf)} ${liveSha} `, 'd'.repeat(64)), 'change', 'load /etc/nftables.conf (table inet muster differs from the one loaded (changed by hand?))'],
    ]
    for (const [what, l, kind, text] of rows) {
      it(`${what} -> ${kind}`, () => {
        const p = planOf(nftLoaded(), { conf: file, live: l })
        expect(p.kind).to.equal(kind)
        expect(p.kind === 'change' ? p.summary : p.kind === 'ok' ? p.detail : '').to.equal(text)
      })
    }

    it("reads only muster's table by default, the whole ruleset with owns: 'ruleset'", async () => {
      const probeOf = (r: Resource) => (Object.values(r.probe)[1] as { key: string }).key
      expect(probeOf(nftLoaded())).to.include('nft -s list table inet muster').and.not.include('list ruleset')
      expect(probeOf(nftLoaded(undefined, { owns: 'ruleset' }))).to.include('nft -s list ruleset').and.not.include('list table')
      const whole = planOf(nftLoaded(undefined, { owns: 'ruleset' }), { conf: file, live: live(`${sha(conf)} ${liveSha} `, 'd'.repeat(64)) })
      expect(whole.kind === 'change' && whole.summary).to.equal('load /etc/nftables.conf (the live ruleset differs from the one loaded (changed by hand?))')
      const [cmd] = (await commandsOf(planOf(nftLoaded(), { conf: file, live: live('', liveSha) }))).map((c) => c.command)
      expect(cmd).to.include('nft -s list table inet muster')
    })

    it('loads atomically with nft -f, then records both hashes', async () => {
      const p = planOf(nftLoaded(), { conf: file, live: live('', liveSha) })
      const [cmd] = (await commandsOf(p)).map((c) => c.command)
      expect(cmd).to.match(/^nft -f \/etc\/nftables.conf && /)
      expect(cmd).to.include(`mv -f ${NFT_STATE}.tmp ${NFT_STATE}`)
      if (p.kind !== 'change') throw new Error('expected a change')
      expect(p.predicts?.every((x) => 'query' in x && isUnknown(x.value))).to.equal(true)
    })

    it('a missing ruleset file is an error, not something to load', () => {
      expect(() => planOf(nftLoaded(), { conf: { type: 'absent' }, live: live('', liveSha) })).to.throw(/\/etc\/nftables.conf is not a file \(absent\)/)
    })
  })

  it('firewall(): nftables, the file checked with nft -c, the load, enabled at boot', () => {
    const items = firewall({ host: 'web-01', allow: [] }) as Resource[]
    expect(items.map((r) => r.id)).to.deep.equal(['apt:nftables', 'file:/etc/nftables.conf', 'nft-loaded:/etc/nftables.conf', 'service:nftables.service'])
  })
})
