import { expect } from 'chai'
import { ensureLab, onHost, sleep, waitFor } from '../support/lab.ts'
import { muster, type CliResult } from '../support/cli.ts'
import { request } from '../support/lab-http.ts'
import { labReset } from '../../src/lab/reset.ts'
import { labExec } from '../../src/lab/exec.ts'
import type { LabState } from '../../src/lab/state.ts'

/**
 * Issue 4, "Done when": the reference stack provisioned on the lab's bare
 * Debian hosts by the real CLI, checked as a person would: HTTP through the
 * load balancer (lb-01's own lab address), SQL on the replicas, systemd's
 * view of the services.
 */

const APPLY = ['apply', 'playbooks/site.ts', '-i', 'inventory/lab.ts', '--json']
const CHECK = ['check', 'playbooks/site.ts', '-i', 'inventory/lab.ts', '--json']
const MINUTE = 60_000
const LIVE_NGINX = `pgrep -x nginx | sort -n | tr "\\n" " "`

type ResultEvent = { type: 'resource:result'; host: string; resource: string; status: string; summary?: string; error?: string }
type HandlerEvent = { type: 'handler:result'; host: string; handler: string; status: string }
const results = (r: CliResult) => r.events.filter((e) => e.type === 'resource:result') as unknown as ResultEvent[]
const handlers = (r: CliResult) => r.events.filter((e) => e.type === 'handler:result') as unknown as HandlerEvent[]
const changed = (r: CliResult) => results(r).filter((e) => e.status === 'changed').map((e) => `${e.host} ${e.resource}`)
const explain = (r: CliResult) =>
  `exit ${r.code}\n${results(r)
    .filter((e) => e.status === 'failed' || e.status === 'changed')
    .map((e) => `${e.host} ${e.status} ${e.resource}: ${e.summary ?? ''} ${e.error ?? ''}`)
    .join('\n')}\n${r.stderr}`

/** Which host answered each of `n` requests to `/` through the balancer. */
async function hostsBehindLb(lb: string, n: number): Promise<{ hosts: string[]; statuses: number[] }> {
  const hosts: string[] = []
  const statuses: number[] = []
  for (let i = 0; i < n; i++) {
    const r = await request(`https://${lb}/`)
    statuses.push(r.status)
    hosts.push(r.status === 200 ? (JSON.parse(r.body) as { host: string }).host : `HTTP ${r.status}`)
  }
  return { hosts, statuses }
}

/** systemd's start time (monotonic µs) and main PID: a restart changes both. */
async function startStamp(host: string, unit: string): Promise<string> {
  return onHost(host, `systemctl show -p ActiveEnterTimestampMonotonic -p MainPID --value ${unit} | tr '\\n' ' '`)
}

async function replicaStatus(host: string): Promise<Record<string, string>> {
  const out = await onHost(host, "mariadb --batch -e 'SHOW SLAVE STATUS'")
  const [names, values] = out.split('\n')
  if (!names || !values) throw new Error(`${host}: not a replica (SHOW SLAVE STATUS is empty)`)
  const v = values.split('\t')
  return Object.fromEntries(names.split('\t').map((n, i) => [n, v[i] ?? '']))
}

/** HAProxy's view of a backend server, from its runtime API on lb-01. */
async function haproxyState(server: string): Promise<string> {
  const csv = await onHost('lb-01', `echo 'show stat' | socat stdio /run/haproxy/admin.sock`)
  const row = csv.split('\n').find((l) => l.startsWith(`web,${server},`))
  if (!row) throw new Error(`HAProxy knows no server web/${server}:\n${csv}`)
  return row.split(',')[17]! // status: UP, DOWN, MAINT, ...
}

describe('the reference stack on the lab (issue 4)', function () {
  let state: LabState
  let lb: string
  let coldMs = 0
  let idleMs = 0

  before(async function () {
    state = await ensureLab(this)
    this.timeout(5 * MINUTE)
    // bare Debian, whatever earlier suites did to the hosts
    await labReset()
    lb = state.hosts.find((h) => h.name === 'lb-01')!.address
  })

  after(function () {
    if (coldMs) console.log(`      figures: cold provision ${(coldMs / 1000).toFixed(1)} s, no-change run ${(idleMs / 1000).toFixed(2)} s`)
  })

  it('cold: bare hosts to a working stack in one run; 20 requests alternate between both web hosts; /static/ is Nginx alone', async function () {
    this.timeout(25 * MINUTE)
    // what check predicts on the bare hosts is what the apply then does, resource for resource
    const predicted = await muster(CHECK)
    expect(predicted.code, explain(predicted)).to.equal(2)
    const t0 = Date.now()
    const r = await muster(APPLY, {}, 20 * MINUTE)
    coldMs = Date.now() - t0
    console.log(`      cold provision: ${(coldMs / 1000).toFixed(1)} s`)
    expect(r.code, explain(r)).to.equal(0)
    for (const h of ['web-01', 'web-02', 'lb-01', 'db-03']) expect(r.recap!.hosts[h]!.failed, h).to.equal(0)
    const wouldChange = results(predicted).filter((e) => e.status === 'would-change').map((e) => `${e.host} ${e.resource}`)
    expect(changed(r).sort()).to.deep.equal(wouldChange.sort())

    // HAProxy's first checks may still be running: wait until both servers are UP
    await waitFor('both web hosts UP in HAProxy', 20_000, async () =>
      (await haproxyState('web-01')) === 'UP' && (await haproxyState('web-02')) === 'UP' ? true : undefined,
    )
    const { hosts, statuses } = await hostsBehindLb(lb, 20)
    expect(statuses.every((s) => s === 200), statuses.join(' ')).to.equal(true)
    expect(new Set(hosts)).to.deep.equal(new Set(['web-01', 'web-02']))
    for (let i = 1; i < hosts.length; i++) expect(hosts[i], `request ${i + 1}: ${hosts.join(' ')}`).not.to.equal(hosts[i - 1])

    const root = JSON.parse((await request(`https://${lb}/`)).body) as { release: string }
    expect(root.release).to.match(/^\d{8}T\d{6}Z-[0-9a-f]{12}$/)

    const css = await request(`https://${lb}/static/app.css`)
    expect(css.status).to.equal(200)
    expect(css.body).to.include('font-family')
    expect(String(css.headers['x-served-by'])).to.match(/^nginx web-0[12]$/)
    // every response the app makes carries X-App-Host: this one never reached it
    expect(css.headers['x-app-host']).to.equal(undefined)
    expect((await request(`https://${lb}/`)).headers['x-app-host']).to.match(/^web-0[12]$/)
  })

  it('a row written through the LB is read back on web-02 and db-03 within 2 s; both replicas run IO and SQL threads at 0 lag', async function () {
    const value = `row-${Date.now()}`
    const w = await request(`https://${lb}/items`, { method: 'POST', body: JSON.stringify({ value }) })
    expect(w.status, w.body).to.equal(201)
    const { id } = JSON.parse(w.body) as { id: number }
    const t0 = Date.now()
    // web-02's app reads its local database, the replica (through web-02's own Nginx, asked on
    // web-02 itself: the firewall admits Nginx's port only from the load balancer)
    const viaApp = await waitFor('the row through web-02', 2000, async () => {
      const out = await onHost('web-02', `curl -s -w '\\n%{http_code}' http://127.0.0.1/items/${Number(id)}`)
      const [body, code] = [out.slice(0, out.lastIndexOf('\n')), out.slice(out.lastIndexOf('\n') + 1)]
      return code === '200' ? (JSON.parse(body) as { value: string; readBy: string }) : undefined
    })
    expect(viaApp).to.include({ value, readBy: 'web-02' })
    const onDb03 = await waitFor('the row on db-03', 2000, async () => {
      const v = await onHost('db-03', `mariadb -NB -e 'SELECT value FROM app.items WHERE id = ${Number(id)}'`)
      return v === '' ? undefined : v
    })
    expect(onDb03).to.equal(value)
    expect(Date.now() - t0).to.be.below(2000)

    for (const h of ['web-02', 'db-03']) {
      const s = await replicaStatus(h)
      expect(s.Slave_IO_Running, h).to.equal('Yes')
      expect(s.Slave_SQL_Running, h).to.equal('Yes')
      expect(s.Seconds_Behind_Master, h).to.equal('0')
      expect(s.Using_Gtid, h).to.equal('Slave_Pos')
      expect(s.Master_Host, h).to.equal(state.hosts.find((x) => x.name === 'web-01')!.address)
    }
  })

  it('second run: changed=0 on every host, no service restarted, and `muster check` exits 0', async function () {
    this.timeout(5 * MINUTE)
    const units: [string, string][] = [
      ['web-01', 'mariadb'], ['web-02', 'mariadb'], ['db-03', 'mariadb'],
      ['web-01', 'app'], ['web-02', 'app'], ['web-01', 'nginx'], ['web-02', 'nginx'], ['lb-01', 'haproxy'],
    ]
    const before = await Promise.all(units.map(([h, u]) => startStamp(h, u)))
    const t0 = Date.now()
    const r = await muster(APPLY)
    idleMs = Date.now() - t0
    console.log(`      no-change run: ${(idleMs / 1000).toFixed(2)} s`)
    expect(r.code, explain(r)).to.equal(0)
    expect(changed(r), explain(r)).to.deep.equal([])
    for (const [h, rec] of Object.entries(r.recap!.hosts)) expect(rec.changed, h).to.equal(0)
    expect(handlers(r)).to.deep.equal([])
    expect(await Promise.all(units.map(([h, u]) => startStamp(h, u)))).to.deep.equal(before)

    const c = await muster(CHECK)
    expect(c.code, explain(c)).to.equal(0)
  })

  it('app stopped on web-01: every request is served by web-02 once HAProxy notices; a rerun starts it and web-01 returns', async function () {
    this.timeout(5 * MINUTE)
    await onHost('web-01', 'systemctl stop app')
    await waitFor('HAProxy marks web-01 DOWN', 15_000, async () => ((await haproxyState('web-01')) === 'DOWN' ? true : undefined))
    const { hosts, statuses } = await hostsBehindLb(lb, 20)
    expect(statuses.filter((s) => s >= 500), statuses.join(' ')).to.deep.equal([])
    expect(new Set(hosts)).to.deep.equal(new Set(['web-02']))

    const r = await muster(APPLY)
    expect(r.code, explain(r)).to.equal(0)
    expect(changed(r)).to.deep.equal(['web-01 service:app.service'])
    await waitFor('web-01 back in rotation', 15_000, async () => ((await haproxyState('web-01')) === 'UP' ? true : undefined))
    expect(new Set((await hostsBehindLb(lb, 6)).hosts)).to.deep.equal(new Set(['web-01', 'web-02']))
  })

  it('a template change (a new Nginx header, from a var) changes exactly that file and reloads Nginx exactly once', async function () {
    this.timeout(5 * MINUTE)
    const masters = await Promise.all(['web-01', 'web-02'].map((h) => onHost(h, 'systemctl show -p MainPID --value nginx')))
    const r = await muster([...APPLY, '-e', 'nginxHeaders={"X-Lab-Change":"on"}'])
    expect(r.code, explain(r)).to.equal(0)
    expect(changed(r).sort()).to.deep.equal(['web-01 template:/etc/nginx/sites-available/app.conf', 'web-02 template:/etc/nginx/sites-available/app.conf'])
    expect(handlers(r).map((h) => `${h.host} ${h.handler} ${h.status}`).sort()).to.deep.equal([
      'web-01 reload nginx.service changed',
      'web-02 reload nginx.service changed',
    ])
    // a reload, not a restart: the same master process, serving the new header
    expect(await Promise.all(['web-01', 'web-02'].map((h) => onHost(h, 'systemctl show -p MainPID --value nginx')))).to.deep.equal(masters)
    const res = await waitFor('the new header through the balancer', 5000, async () => {
      const x = await request(`https://${lb}/`)
      return x.headers['x-lab-change'] === 'on' ? x : undefined
    })
    expect(res.status).to.equal(200)

    // and back: the var gone, the header gone, one more reload
    const back = await muster(APPLY)
    expect(changed(back).sort()).to.deep.equal(['web-01 template:/etc/nginx/sites-available/app.conf', 'web-02 template:/etc/nginx/sites-available/app.conf'])
    expect(handlers(back)).to.have.length(2)
  })

  it('a broken Nginx template is refused by `nginx -t` over the whole tree: live file and running Nginx untouched, the run fails with its message', async function () {
    this.timeout(5 * MINUTE)
    const live = '/etc/nginx/sites-available/app.conf'
    const before = {
      sum: await onHost('web-01', `sha256sum ${live}`),
      // the master and its workers, once the last test's reload has let the old workers go
      processes: await waitFor('nginx settled after the last reload', 15_000, async () => {
        const a = await onHost('web-01', LIVE_NGINX)
        await sleep(700)
        return a === (await onHost('web-01', LIVE_NGINX)) && !(await onHost('web-01', 'pgrep -af "[n]ginx: worker process is shutting down" || true')) ? a : undefined
      }),
      master: await onHost('web-01', 'systemctl show -p MainPID --value nginx'),
    }
    // valid as a line of text; only nginx, reading the vhost in its place in the tree, can refuse it
    const r = await muster([...APPLY, '--limit', 'web-01', '-e', 'nginxExtraConfig=proxy_pass_header;'])
    expect(r.code, explain(r)).to.equal(1)
    const failed = results(r).filter((e) => e.status === 'failed')
    expect(failed.map((e) => `${e.host} ${e.resource}`)).to.deep.equal([`web-01 template:${live}`])
    expect(failed[0]!.error).to.include('nginx -t').and.match(/invalid number of arguments in "proxy_pass_header" directive in \/etc\/nginx\/sites-enabled\/app\.conf/)
    expect(handlers(r)).to.deep.equal([])
    expect(await onHost('web-01', `sha256sum ${live}`)).to.equal(before.sum)
    expect(await onHost('web-01', LIVE_NGINX)).to.equal(before.processes)
    expect(await onHost('web-01', 'systemctl show -p MainPID --value nginx')).to.equal(before.master)
    // nothing left beside the live file, and the tree as a whole is still valid
    expect((await onHost('web-01', 'ls -A /etc/nginx/sites-available /etc/nginx/sites-enabled')).split(/\s+/).filter((f) => f.includes('muster'))).to.deep.equal([])
    expect((await labExec('web-01', 'nginx -t')).code).to.equal(0)
    const { statuses } = await hostsBehindLb(lb, 4)
    expect(statuses).to.deep.equal([200, 200, 200, 200])
  })
})
