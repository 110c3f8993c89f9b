import { expect } from 'chai'
import { appendFileSync, cpSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ensureLab, onHost, sleep, waitFor } from '../support/lab.ts'
import { muster, repoRoot, results, explain } from '../support/cli.ts'
import { request } from '../support/lab-http.ts'
import { startLoad, describeLoad } from '../support/load.ts'
import { labUp } from '../../src/lab/up.ts'
import { labKillHost } from '../../src/lab/kill-host.ts'
import { labReset } from '../../src/lab/reset.ts'
import { labExec } from '../../src/lab/exec.ts'
import { referenceHosts, upSpec } from '../../src/lab/layout.ts'
import type { LabState } from '../../src/lab/state.ts'

/**
 * The last weak spot the design names: the load balancer as a single point of
 * failure. A second balancer, lb-02, joins the lab; site.ts gives both the same
 * HAProxy and keepalived, and the site's address becomes the floating VIP.
 * Then lb-01 is killed outright (its whole PID namespace, as a power cut) under
 * load through the VIP, and the test measures how long the site was gone.
 */

const APPLY = ['apply', 'playbooks/site.ts', '-i', 'inventory/lab.ts', '--json']
const CHECK = ['check', 'playbooks/site.ts', '-i', 'inventory/lab.ts', '--json']
const MINUTE = 60_000

/** Which balancer holds `vip` right now (by its interfaces), or null. */
async function holder(vip: string): Promise<string | null> {
  // a host that is down holds nothing
  const on1 = async (h: string): Promise<string | null> => ((await labExec(h, `ip -4 -o addr show dev eth0 | grep -qw ${vip}`).catch(() => ({ code: 1 }))).code === 0 ? h : null)
  const held = await Promise.all(['lb-01', 'lb-02'].map(on1))
  const on = held.filter(Boolean)
  if (on.length > 1) throw new Error(`${vip} is on ${on.join(' and ')} at once`)
  return on[0] ?? null
}

describe('load balancer failover: two balancers and a floating address (keepalived)', function () {
  let state: LabState
  let vip: string

  before(async function () {
    this.timeout(8 * MINUTE)
    await ensureLab(this)
    state = (await labUp({ hosts: upSpec({ ha: true }) })).state
    vip = state.hosts.find((h) => h.name === 'lb-01')!.address.replace(/\.\d+$/, '.100')
    const r = await muster(APPLY, {}, 6 * MINUTE)
    expect(r.code, explain(r)).to.equal(0)
  })

  after(async function () {
    this.timeout(3 * MINUTE)
    // give the next suites the four reference hosts back: lb-02 gone, lb-01 bare (no keepalived left holding the VIP)
    await labUp({ hosts: [...referenceHosts] })
    await labReset(['lb-01'])
  })

  it('both balancers run HAProxy and keepalived; lb-01 (first in the group) holds the VIP, the site answers on it over verified HTTPS', async function () {
    this.timeout(MINUTE)
    for (const h of ['lb-01', 'lb-02']) {
      expect(await onHost(h, 'systemctl is-active haproxy keepalived'), h).to.equal('active\nactive')
    }
    expect(await waitFor('the VIP on lb-01', 15_000, async () => ((await holder(vip)) === 'lb-01' ? true : undefined))).to.equal(true)
    const seen = new Set<string>()
    for (let i = 0; i < 6; i++) {
      const r = await request(`https://${vip}/`)
      expect(r.status).to.equal(200)
      seen.add(String(r.headers['x-app-host']))
    }
    expect([...seen].sort()).to.deep.equal(['web-01', 'web-02'])
    // a second run changes nothing, and the check agrees
    const again = await muster(APPLY)
    expect(results(again).filter((e) => e.status === 'changed'), explain(again)).to.deep.equal([])
    expect((await muster(CHECK)).code).to.equal(0)
  })

  it('lb-01 killed under load: lb-02 takes the VIP within seconds and serves; lb-01 back up takes it again', async function () {
    this.timeout(4 * MINUTE)
    const load = startLoad({ host: 'lb-01', address: vip, keepAlive: false, rate: 20, maxDurationMs: 2 * MINUTE, maxRequests: 5000, timeoutMs: 2000 })
    await sleep(2000)
    const killedAt = Date.now() - load.startedAt
    await labKillHost('lb-01')
    const moved = await waitFor('the VIP on lb-02', 20_000, async () => ((await holder(vip)) === 'lb-02' ? Date.now() - load.startedAt : undefined), 200)
    await sleep(5000)
    const report = await load.stop()
    console.log(`      ${describeLoad(report)}`)
    const lastFailure = Math.max(0, ...report.failures.map((f) => f.at))
    const gap = report.failed === 0 ? 0 : lastFailure - killedAt
    console.log(`      figures: VIP on lb-02 ${((moved - killedAt) / 1000).toFixed(1)} s after the kill; failed requests ${report.failed} of ${report.sent}, the last ${(gap / 1000).toFixed(1)} s after the kill`)
    expect(moved - killedAt, 'VIP takeover').to.be.below(10_000)
    // requests fail only in the takeover window, never after it
    expect(report.failures.every((f) => f.at >= killedAt && f.at <= moved + 3000), JSON.stringify(report.failures.slice(0, 5))).to.equal(true)
    // and the site answered again on lb-02 after the takeover
    expect(report.answers.filter((a) => a.at > moved + 3000).length).to.be.greaterThan(0)
    // the last seconds were all answered by the site on lb-02
    expect((await request(`https://${vip}/`)).status).to.equal(200)

    // lb-01 comes back (boot: keepalived and HAProxy are enabled) and, first in priority, takes the VIP again
    await labUp({ hosts: upSpec({ ha: true }) })
    await waitFor('the VIP back on lb-01', 60_000, async () => ((await holder(vip)) === 'lb-01' ? true : undefined), 500)
    expect((await request(`https://${vip}/`)).status).to.equal(200)
    const check = await muster(CHECK)
    expect(check.code, explain(check)).to.equal(0)
  })

  it('a rolling deploy drains each web host on both balancers: no failed request through the VIP or through lb-02', async function () {
    this.timeout(6 * MINUTE)
    const work = mkdtempSync(join(tmpdir(), 'muster-failover-deploy-'))
    try {
      const release = join(work, 'app')
      cpSync(join(repoRoot, 'examples/app'), release, { recursive: true, filter: (src) => !src.includes('node_modules') })
      appendFileSync(join(release, 'public/index.html'), '\n<!-- release for the two-balancer deploy -->\n')
      const loads = [
        startLoad({ host: 'lb-01', address: vip, keepAlive: false, rate: 40, maxDurationMs: 4 * MINUTE, maxRequests: 20_000 }),
        startLoad({ host: 'lb-02', keepAlive: true, rate: 40, maxDurationMs: 4 * MINUTE, maxRequests: 20_000 }),
      ]
      const r = await muster(['deploy', '-i', 'inventory/lab.ts', '--release', release, '--json'], {}, 4 * MINUTE)
      await sleep(1500)
      const reports = await Promise.all(loads.map((l) => l.stop()))
      for (const l of reports) console.log(`      ${describeLoad(l)}`)
      expect(r.code, explain(r)).to.equal(0)
      // both balancers were told: each web host drained on lb-01 and on lb-02
      const drains = results(r).filter((e) => e.resource.startsWith('drain:') && e.status === 'changed').map((e) => `${e.host}: ${e.summary?.split(' for ')[0]}`).sort()
      expect(drains).to.deep.equal(['web-01: drain lb-01, lb-02 web/web-01', 'web-02: drain lb-01, lb-02 web/web-02'])
      for (const l of reports) expect(l.failed, `${l.target}: ${JSON.stringify(l.failures.slice(0, 5))}`).to.equal(0)
      expect(Object.keys(reports[0]!.releases).length, 'the VIP served both releases during the deploy').to.equal(2)
    } finally {
      rmSync(work, { recursive: true, force: true })
    }
  })
})
