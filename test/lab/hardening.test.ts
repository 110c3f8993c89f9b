import { expect } from 'chai'
import tls from 'node:tls'
import { X509Certificate } from 'node:crypto'
import { labCa, request } from '../support/lab-http.ts'
import { ensureLab, onHost, tcp } from '../support/lab.ts'
import { muster, touched, explain } from '../support/cli.ts'
import type { LabState } from '../../src/lab/state.ts'

/**
 * The design's named weak spots, covered by the reference stack: each host's
 * firewall admits only what its roles serve, from the hosts that use it; the
 * site is HTTPS only. Checked as a person would: TCP connections between the
 * lab's hosts, with the listening sockets shown to exist (so "blocked" means
 * the firewall, not a closed port), hand-made rules that `check` must call
 * drift, and TLS clients that verify the certificate against the lab CA.
 */

const APPLY = ['apply', 'playbooks/site.ts', '-i', 'inventory/lab.ts', '--json']
const CHECK = ['check', 'playbooks/site.ts', '-i', 'inventory/lab.ts', '--json']
const MINUTE = 60_000

describe('hardening: the stack behind a firewall on every host', function () {
  let state: LabState
  const addr = (name: string): string => state.hosts.find((h) => h.name === name)!.address

  before(async function () {
    state = await ensureLab(this)
    this.timeout(5 * MINUTE)
    // converge from whatever earlier suites left (seconds when they left the stack up)
    const r = await muster(APPLY, {}, 4 * MINUTE)
    expect(r.code, explain(r)).to.equal(0)
  })

  it('every host runs muster\'s ruleset: input dropped by default, loaded at boot by nftables.service', async function () {
    for (const h of ['web-01', 'web-02', 'lb-01', 'db-03']) {
      const rules = await onHost(h, 'nft -s list ruleset')
      expect(rules, h).to.include('table inet muster')
      expect(rules, h).to.match(/type filter hook input priority filter; policy drop;/)
      expect(await onHost(h, 'systemctl is-enabled nftables.service'), h).to.equal('enabled')
    }
  })

  it('each service admits only the hosts that use it (the port is listening; the firewall drops the rest)', async function () {
    this.timeout(MINUTE)
    // the sockets exist on every address, so a drop below is the firewall's doing
    expect(await onHost('db-03', "ss -Hltn 'sport = :3306'")).to.include(`${addr('db-03')}:3306`)
    expect(await onHost('web-01', "ss -Hltn 'sport = :80'")).to.match(/:80\b/)
    const matrix: [from: string, to: string, port: number, want: 'open' | 'dropped'][] = [
      ['lb-01', 'web-01', 80, 'open'], // health checks and proxied requests
      ['lb-01', 'web-02', 80, 'open'],
      ['db-03', 'web-01', 80, 'dropped'], // only the balancer talks to Nginx
      ['web-02', 'web-01', 3306, 'open'], // the app and replication on web-02
      ['db-03', 'web-01', 3306, 'open'], // replication
      ['lb-01', 'web-01', 3306, 'dropped'], // the balancer has no business with the database
      ['web-01', 'db-03', 3306, 'dropped'], // replicas serve only their local app
      ['db-03', 'lb-01', 80, 'open'], // the site itself is public
      ['web-01', 'db-03', 22, 'open'], // SSH stays open
    ]
    const got = await Promise.all(matrix.map(async ([f, t, p]) => `${f} -> ${t}:${p} ${await tcp(f, addr(t), p)}`))
    expect(got).to.deep.equal(matrix.map(([f, t, p, w]) => `${f} -> ${t}:${p} ${w}`))
  })

  it('a rule added by hand is drift: check names it, apply reloads the ruleset, then check is clean', async function () {
    this.timeout(2 * MINUTE)
    await onHost('db-03', 'nft add rule inet muster input tcp dport 3306 accept')
    expect(await tcp('web-01', addr('db-03'), 3306)).to.equal('open')

    const check = await muster(CHECK)
    expect(check.code, explain(check)).to.equal(2)
    expect(touched(check)).to.deep.equal(['db-03 nft-loaded:/etc/nftables.conf would-change: load /etc/nftables.conf (table inet muster differs from the one loaded (changed by hand?))'])
    // check changed nothing: the hand-made rule is still there
    expect(await tcp('web-01', addr('db-03'), 3306)).to.equal('open')

    const apply = await muster(APPLY)
    expect(apply.code, explain(apply)).to.equal(0)
    expect(touched(apply)).to.deep.equal(['db-03 nft-loaded:/etc/nftables.conf changed: load /etc/nftables.conf (table inet muster differs from the one loaded (changed by hand?))'])
    expect(await tcp('web-01', addr('db-03'), 3306)).to.equal('dropped')
    const again = await muster(CHECK)
    expect(again.code, explain(again)).to.equal(0)
  })

  it('a rule in another program\'s own table survives apply and is not drift; muster\'s table alone is muster\'s (issue 15)', async function () {
    this.timeout(3 * MINUTE)
    // what fail2ban does: a table of its own, hooked before muster's, dropping one address
    await onHost('db-03', "nft add table inet f2b-test && nft add chain inet f2b-test input '{ type filter hook input priority -1; policy accept; }' && nft add rule inet f2b-test input ip saddr 192.0.2.7 drop")
    try {
      const check = await muster(CHECK)
      expect(check.code, `another program's table is not drift\n${explain(check)}`).to.equal(0)
      const apply = await muster(APPLY)
      expect(apply.code, explain(apply)).to.equal(0)
      expect(touched(apply)).to.deep.equal([])
      expect(await onHost('db-03', 'nft -s list table inet f2b-test')).to.include('ip saddr 192.0.2.7 drop')
      // muster's file edited and loaded by hand, then put back and reloaded: neither load touches the other table
      await onHost('db-03', "sed -i 's/policy drop;/policy accept;/' /etc/nftables.conf && nft -f /etc/nftables.conf")
      expect(await onHost('db-03', 'nft -s list table inet f2b-test')).to.include('ip saddr 192.0.2.7 drop')
      const reload = await muster(APPLY)
      expect(reload.code, explain(reload)).to.equal(0)
      expect(touched(reload).map((t) => t.split(':')[0] + ':' + t.split(':')[1])).to.deep.equal(['db-03 file:/etc/nftables.conf changed', 'db-03 nft-loaded:/etc/nftables.conf changed'])
      expect(await onHost('db-03', 'nft -s list table inet f2b-test')).to.include('ip saddr 192.0.2.7 drop')
      expect(await onHost('db-03', 'nft -s list chain inet muster input')).to.include('policy drop;')
      // the reachability the matrix asserts is unchanged by the other table (it drops one foreign address only)
      expect(await tcp('web-01', addr('db-03'), 22)).to.equal('open')
      expect(await tcp('web-01', addr('db-03'), 3306)).to.equal('dropped')
    } finally {
      await onHost('db-03', 'nft delete table inet f2b-test 2>/dev/null || true')
    }
  })

  it('a ruleset file edited and loaded by hand is put back, checked by nft -c, and loaded', async function () {
    this.timeout(2 * MINUTE)
    await onHost('lb-01', "sed -i 's/policy drop;/policy accept;/' /etc/nftables.conf && nft -f /etc/nftables.conf")
    expect(await onHost('lb-01', 'nft -s list chain inet muster input')).to.include('policy accept;')
    const apply = await muster(APPLY)
    expect(apply.code, explain(apply)).to.equal(0)
    expect(touched(apply).map((t) => t.split(':')[0] + ':' + t.split(':')[1])).to.deep.equal([
      'lb-01 file:/etc/nftables.conf changed',
      'lb-01 nft-loaded:/etc/nftables.conf changed',
    ])
    expect(await onHost('lb-01', 'nft -s list chain inet muster input')).to.include('policy drop;')
  })

  describe('HTTPS on the load balancer', function () {
    it('serves the site over HTTPS with a certificate the lab CA vouches for; both web hosts answer', async function () {
      const seen = new Set<string>()
      for (let i = 0; i < 6; i++) {
        const r = await request(`https://${addr('lb-01')}/`)
        expect(r.status).to.equal(200)
        expect(r.headers['strict-transport-security']).to.equal('max-age=31536000')
        seen.add(String(r.headers['x-app-host']))
      }
      expect([...seen].sort()).to.deep.equal(['web-01', 'web-02'])
    })

    it('plain HTTP answers only with a permanent redirect to the same path over HTTPS', async function () {
      const r = await request(`http://${addr('lb-01')}/items/1?x=2`)
      expect(r.status).to.equal(301)
      expect(r.headers.location).to.equal(`https://${addr('lb-01')}/items/1?x=2`)
      expect(r.headers['x-app-host']).to.equal(undefined)
    })

    it('presents lb-01\'s certificate (its name and address), refuses TLS 1.1, offers HTTP/2', async function () {
      const hello = (opts: tls.ConnectionOptions) =>
        new Promise<tls.TLSSocket>((resolve, reject) => {
          const s = tls.connect({ host: addr('lb-01'), port: 443, ca: labCa(), servername: undefined, ...opts }, () => resolve(s))
          s.on('error', reject)
        })
      const s = await hello({ ALPNProtocols: ['h2', 'http/1.1'] })
      const cert = new X509Certificate(s.getPeerX509Certificate()!.raw)
      expect(s.authorized).to.equal(true)
      expect(s.alpnProtocol).to.equal('h2')
      expect(cert.subjectAltName).to.include('DNS:lb-01').and.include(`IP Address:${addr('lb-01')}`)
      s.end()
      let err: Error | undefined
      // SECLEVEL=0 lets this client offer TLS 1.1 at all: the refusal must be the server's alert
      await hello({ maxVersion: 'TLSv1.1', minVersion: 'TLSv1', ciphers: 'DEFAULT:@SECLEVEL=0' }).then((x) => x.end(), (e: Error) => (err = e))
      expect(err?.message).to.match(/alert protocol version/)
    })

    it('the private key lives only in a 0600 root file on lb-01: never in check or apply output, even with --diff', async function () {
      this.timeout(2 * MINUTE)
      expect(await onHost('lb-01', 'stat -c "%a %U %G" /etc/haproxy/tls /etc/haproxy/tls/site.pem')).to.equal('700 root root\n600 root root')
      const keyLines = (await onHost('lb-01', "sed -n '/PRIVATE KEY-----$/,/END/p' /etc/haproxy/tls/site.pem")).split('\n').filter((l) => !l.startsWith('-----'))
      expect(keyLines.length).to.be.greaterThan(0)
      // a pem replaced by hand: check and apply both have a change to show for it
      await onHost('lb-01', 'cp /etc/haproxy/tls/site.pem /root/site.pem.keep && echo "# tampered" >> /etc/haproxy/tls/site.pem')
      const check = await muster([...CHECK, '--diff'])
      const apply = await muster([...APPLY, '--diff', '-v'])
      for (const [what, r] of [['check', check], ['apply', apply]] as const) {
        expect(touched(r).filter((t) => t.includes('site.pem')), what).to.deep.equal([`lb-01 file:/etc/haproxy/tls/site.pem ${what === 'check' ? 'would-change' : 'changed'}: content (a secret: no diff)`])
        for (const line of keyLines) expect(r.stdout + r.stderr, `${what} shows a line of the key`).not.to.include(line)
      }
      expect(await onHost('lb-01', 'cmp /root/site.pem.keep /etc/haproxy/tls/site.pem && rm /root/site.pem.keep && echo same')).to.equal('same')
    })
  })
})
