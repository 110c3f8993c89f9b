import { expect } from 'chai'
import { randomBytes } from 'node:crypto'
import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync, renameSync } from 'node:fs'
import { join } from 'node:path'
import { ensureLab } from '../support/lab.ts'
import { repoRoot, type CliResult } from '../support/cli.ts'
import { agreement, agreementTable, apply, check, explain, onHost, results, steps } from '../support/drift.ts'
import { underLoad, expectNoFailures } from '../support/load.ts'
import { labExec } from '../../src/lab/exec.ts'
import { labDir, referenceHosts } from '../../src/lab/layout.ts'

/**
 * Issue 15, "Done when": on the converged reference stack, what the servers
 * do, not only what their files say. A live setting changed by hand on each
 * kind of daemon the stack runs (MariaDB's SET GLOBAL, HAProxy's runtime API,
 * the app's process started with another environment) is found by `check`
 * (exit 2, host, resource, which value) and fixed by one `apply`, with
 * check/apply agreement. A rotated replication password and a rotated app
 * password reach every copy in one apply under load through the balancer:
 * 0 failed requests, replication never refused, check 0 afterwards, and
 * neither password's text in any output, argv or file left behind.
 * (The firewall's tests are in hardening.test.ts.)
 */

const MINUTE = 60_000
const HOSTS = [...referenceHosts]
const SOCKET = 'socat stdio UNIX-CONNECT:/run/haproxy/admin.sock'

interface LiveDrift {
  host: string
  resource: string
  summary: RegExp
  handlers: string[]
  make(): Promise<unknown>
  /** The live value, read on the host, and what it must be after apply. */
  live(): Promise<string>
  fixed: string
}

const DRIFTS: LiveDrift[] = [
  {
    // MariaDB: the file says ON, the server was told otherwise
    host: 'db-03',
    resource: 'mysql-globals',
    summary: /^read_only: live OFF, 60-muster-replication\.cnf ON$/,
    handlers: [],
    make: () => onHost('db-03', `mariadb -e 'SET GLOBAL read_only = OFF'`),
    live: () => onHost('db-03', "mariadb -BN -e 'SELECT @@read_only'"),
    fixed: '1',
  },
  {
    // HAProxy: a server left in maintenance through the runtime API (haproxy.cfg has it enabled)
    host: 'lb-01',
    resource: 'haproxy-servers:web',
    summary: /^web\/web-02: live MAINT, config ready$/,
    handlers: [],
    make: () => labExec('lb-01', SOCKET, { stdin: 'set server web/web-02 state maint\n' }),
    // srv_admin_state of web-02: 0 is ready
    live: () => onHost('lb-01', `echo 'show servers state web' | ${SOCKET} | awk '$4 == "web-02" { print $7 }'`),
    fixed: '0',
  },
  {
    // the app: started with another environment than app.env's, the file then put back as it was
    host: 'web-02',
    resource: 'unit-environment:app.service',
    summary: /^DB_LOCAL_SOCKET: live \/run\/mysqld\/\.\.\/mysqld\/mysqld\.sock, app\.env \/run\/mysqld\/mysqld\.sock \(restart app\.service\)$/,
    handlers: ['restart app'],
    make: () =>
      onHost(
        'web-02',
        'f=/srv/app/shared/app.env; cp -p $f /root/app.env.keep && sed -i "s|^DB_LOCAL_SOCKET=.*|DB_LOCAL_SOCKET=/run/mysqld/../mysqld/mysqld.sock|" $f && systemctl restart app.service && cp -p /root/app.env.keep $f && rm /root/app.env.keep',
      ),
    live: () => onHost('web-02', 'tr "\\0" "\\n" < /proc/$(systemctl show -p MainPID --value app.service)/environ | grep ^DB_LOCAL_SOCKET='),
    fixed: 'DB_LOCAL_SOCKET=/run/mysqld/mysqld.sock',
  },
]

/** `SHOW SLAVE STATUS` fields that matter, on a replica. */
async function replication(host: string): Promise<{ io: string; sql: string; ioErrno: number }> {
  const s = await onHost(host, "mariadb -e 'SHOW SLAVE STATUS\\G'")
  const f = (n: string): string => new RegExp(`^\\s*${n}: ?(.*)$`, 'm').exec(s)?.[1]?.trim() ?? ''
  return { io: f('Slave_IO_Running'), sql: f('Slave_SQL_Running'), ioErrno: Number(f('Last_IO_Errno') || 0) }
}

describe('live state and secret rotation on the reference stack (issue 15)', function () {
  const rows: ReturnType<typeof agreement>[] = []

  before(async function () {
    this.timeout(20 * MINUTE)
    await ensureLab(this)
    const a = await apply()
    expect(a.code, `converge first\n${explain(a)}`).to.equal(0)
  })

  after(function () {
    if (rows.length > 0) console.log(`\n      check accuracy (check, then the next apply):\n${agreementTable(rows).replace(/^/gm, '      ')}\n`)
  })

  it('converged: check exits 0 with one probe script per host, the live settings read in it', async function () {
    this.timeout(5 * MINUTE)
    const converged = await check()
    expect(converged.code, explain(converged)).to.equal(0)
    for (const h of HOSTS) expect(converged.recap!.hosts[h]!.stats.execs, h).to.equal(1)
    const live = results(converged).filter((e) => ['mysql-globals', 'haproxy-servers', 'unit-environment'].includes(e.resourceType))
    expect(live.map((e) => `${e.host} ${e.resource} ${e.status}`).sort()).to.deep.equal(
      [
        'db-03 mysql-globals ok',
        'web-01 mysql-globals ok',
        'web-02 mysql-globals ok',
        'lb-01 haproxy-servers:web ok',
        'web-01 unit-environment:app.service ok',
        'web-02 unit-environment:app.service ok',
      ].sort(),
    )
  })

  // one daemon at a time: a fix of one (the app's restart drains and returns its server) must not hide another
  for (const d of DRIFTS) {
    it(`${d.host} ${d.resource}: a live value changed by hand is found by check (which value) and fixed by one apply`, async function () {
      this.timeout(10 * MINUTE)
      await d.make()
      const c = await check()
      expect(c.code, explain(c)).to.equal(2)
      const expected = [`${d.host} ${d.resource}`, ...d.handlers.map((h) => `${d.host} handler ${h}`)].sort()
      expect(steps(c, 'would-change', 'unknown', 'failed'), explain(c)).to.deep.equal(expected)
      const found = results(c).find((e) => e.host === d.host && e.resource === d.resource)!
      expect(found.summary).to.match(d.summary)
      // finding it cost nothing more: one probe script per host
      for (const h of HOSTS) expect(c.recap!.hosts[h]!.stats.execs, h).to.equal(1)

      const a = await apply()
      const row = agreement(`${d.host} ${d.resource}`, c, a)
      rows.push(row)
      expect(a.code, explain(a)).to.equal(0)
      expect(row.agree, agreementTable([row])).to.equal(true)
      expect(steps(a, 'changed')).to.deep.equal(expected)
      // fixed where it lives, not only in muster's eyes
      expect((await d.live()).trim(), 'the live value after apply').to.equal(d.fixed)
      const again = await check()
      expect(again.code, explain(again)).to.equal(0)
    })
  }

  it('rotated replication and app passwords reach every copy in one apply: 0 failed requests under load, replication never refused, no secret text anywhere', async function () {
    this.timeout(20 * MINUTE)
    const dir = join(labDir(), 'secrets')
    const names = ['db-app-password', 'db-repl-password']
    const old = names.map((n) => readFileSync(join(dir, n), 'utf8').trim())
    const fresh = names.map(() => randomBytes(18).toString('hex'))
    // the rotation itself: the lab inventory's source of these secrets gets new values (0600, renamed into place)
    names.forEach((n, i) => {
      writeFileSync(join(dir, `${n}.new`), `${fresh[i]}\n`, { mode: 0o600 })
      renameSync(join(dir, `${n}.new`), join(dir, n))
    })
    const secrets = [...old, ...fresh]

    const c = await check()
    expect(c.code, explain(c)).to.equal(2)
    expect(steps(c, 'would-change', 'unknown', 'failed'), explain(c)).to.deep.equal(
      [
        // added beside the old one in the primary's play, the old one retired in the last play
        'web-01 mysql-user:app@%',
        'web-01 mysql-user:app@%',
        'web-01 mysql-user:repl@%',
        'web-01 mysql-user:repl@%',
        'web-02 mysql-replica',
        'db-03 mysql-replica',
        'web-01 template:/srv/app/shared/app.env',
        'web-02 template:/srv/app/shared/app.env',
        'web-01 unit-environment:app.service',
        'web-02 unit-environment:app.service',
        'web-01 handler restart app',
        'web-02 handler restart app',
      ].sort(),
    )
    // the primary adds the new password beside the old, and retires the old in the last play: both predicted
    const userSteps = results(c).filter((e) => e.host === 'web-01' && e.resource.startsWith('mysql-user:'))
    expect(userSteps.map((e) => `${e.play}: ${e.resource} ${e.summary}`)).to.deep.equal([
      'database primary: mysql-user:app@% password: the new one, with the previous one still accepted until it is retired',
      'database primary: mysql-user:repl@% password: the new one, with the previous one still accepted until it is retired',
      'retire old database passwords: mysql-user:app@% retire the previous password (every copy has the new one)',
      'retire old database passwords: mysql-user:repl@% retire the previous password (every copy has the new one)',
    ])

    // while it applies: every process's argv on every host, and the replicas' IO errors, sampled on the hosts
    // themselves every 50 ms (a loop there, not from here: the load generator shares this process)
    const isReplica = (h: string): boolean => h === 'web-02' || h === 'db-03'
    const loop = (h: string): string =>
      'while [ -e /run/muster-sampling ]; do ps -eo args= >> /run/muster-argv.log; ' +
      (isReplica(h) ? "mariadb -e 'SHOW SLAVE STATUS\\G' | grep Last_IO_Errno >> /run/muster-io.log; " : '') +
      'sleep 0.05; done'
    for (const h of HOSTS) await onHost(h, `touch /run/muster-sampling; setsid sh -c "${loop(h)}" </dev/null >/dev/null 2>&1 &`)
    let a: CliResult
    let figures: { loads: Awaited<ReturnType<typeof underLoad>>['loads']; windowMs: number }
    const argvSeen: string[] = []
    const ioErrors: string[] = []
    try {
      const r = await underLoad(() => apply())
      a = r.value
      figures = r
    } finally {
      for (const h of HOSTS) {
        await onHost(h, 'rm -f /run/muster-sampling; sleep 0.3')
        argvSeen.push(await onHost(h, 'cat /run/muster-argv.log; rm -f /run/muster-argv.log'))
        if (isReplica(h)) {
          const io = await onHost(h, 'cat /run/muster-io.log; rm -f /run/muster-io.log')
          for (const l of io.split('\n')) if (/Last_IO_Errno: [1-9]/.test(l)) ioErrors.push(`${h}: ${l.trim()}`)
        }
      }
    }
    const row = agreement('rotated passwords', c, a)
    rows.push(row)
    expect(a.code, explain(a)).to.equal(0)
    expect(row.agree, agreementTable([row])).to.equal(true)
    const why = new Map<string, number>()
    for (const l of figures.loads) for (const f of l.failures) why.set(f.what, (why.get(f.what) ?? 0) + 1)
    console.log(`      rotation apply: ${(figures.windowMs / 1000).toFixed(1)} s under load; ${argvSeen.join('\n').split('\n').length} process lines sampled; replica IO errors seen: ${ioErrors.length}; failures: ${JSON.stringify([...why])}; load average ${(await import('node:os')).loadavg()[0]!.toFixed(1)}`)
    // access denied (1045) never happened: the primary accepted both passwords while the replicas switched
    expect(ioErrors, 'replicas refused by the primary during the rotation').to.deep.equal([])
    for (const h of ['web-02', 'db-03']) expect(await replication(h), h).to.deep.include({ io: 'Yes', sql: 'Yes', ioErrno: 0 })

    // every copy has the new one: the app logs in with it (a write through the balancer reaches a replica), and check is clean
    const again = await check()
    expect(again.code, explain(again)).to.equal(0)
    expect((await onHost('web-01', "mariadb -BN -e \"SELECT IFNULL(JSON_LENGTH(Priv, '$.auth_or'), 1) = 1 FROM mysql.global_priv WHERE User IN ('app','repl')\"")).trim()).to.equal('1\n1')

    // no secret's text in any output, argv, or file left behind
    for (const [what, r] of [['check', c], ['apply', a], ['check after', again]] as const) {
      for (const s of secrets) expect((r.stdout + r.stderr).includes(s), `${what} output shows a password`).to.equal(false)
    }
    for (const s of secrets) expect(argvSeen.some((p) => p.includes(s)), 'a password in some process argv').to.equal(false)
    for (const h of HOSTS) {
      // the passwords are patterns on grep's stdin (-f -), so the search puts none in argv either
      const found = await labExec(h, 'grep -rlF -f - /etc /srv /root /tmp /var/tmp /var/lib/muster /var/log 2>/dev/null || true', { stdin: `${secrets.join('\n')}\n` })
      const allowed = h.startsWith('web-') ? ['/srv/app/shared/app.env'] : []
      expect(found.stdout.split('\n').filter((l) => l !== ''), `${h}: files holding a password`).to.deep.equal(allowed)
    }
    // and on the controller: nothing in the repository (the lab keeps its secrets in its own directory)
    const repoHits = execFileSync('sh', ['-c', 'grep -rlF -f - --exclude-dir=node_modules --exclude-dir=.git . || true'], { cwd: repoRoot, input: `${secrets.join('\n')}\n` }).toString()
    expect(repoHits.trim(), 'a password in the repository').to.equal('')
    // last: 0 failed requests through the balancer during the rotation (the figures print above)
    expectNoFailures(figures.loads, figures.windowMs)
  })
})
