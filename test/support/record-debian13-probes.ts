/**
 * Records every Debian 12 probe fixture again on a Debian 13 lab host, in the
 * state the Debian 12 one describes, into test/fixtures/probes/debian13/
 * (same kind, keys and name). test/unit/facts/releases.test.ts then parses
 * both and asserts that the same state reads the same on both releases
 * (apart from what a release changes by nature: versions, uids, sizes and
 * hashes of packaged files), so every plan test, which sees only parsed
 * facts, holds on Debian 13 as on Debian 12.
 *
 *   MUSTER_LAB_ID=8 npx tsx test/support/record-debian13-probes.ts bare HOST
 *       a bare Debian 13 lab host (`lab up --suite trixie`): the bare-host
 *       and controller fixtures, and the file scenario of record-probes.ts
 *   MUSTER_LAB_ID=5 npx tsx test/support/record-debian13-probes.ts provisioned
 *       the reference stack's lab on Debian 13 after a site.ts apply: the
 *       provisioned web-01 fixtures and MariaDB's (record-mysql-probes.ts's states)
 *
 * Not recorded again (listed as such by the test): fixtures derived by hand
 * and the dpkg states of the controller's dummy package (half-configured,
 * unpacked, ...), whose format is dpkg's own and not release-specific.
 */
import { readdirSync, readFileSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import type { FactKind } from '../../src/contract/fact.ts'
import { labExec } from '../../src/lab/exec.ts'
import type { Connection } from '../../src/ssh/connection.ts'
import { aptPackageFact } from '../../src/facts/apt-package.ts'
import { aptCandidateFact } from '../../src/facts/apt-candidate.ts'
import { systemdUnitFact } from '../../src/facts/systemd-unit.ts'
import { userFact } from '../../src/facts/user.ts'
import { groupFact } from '../../src/facts/group.ts'
import { shellFact } from '../../src/facts/shell.ts'
import { pathFact, pathStatFact } from '../../src/facts/path.ts'
import { fileContentFact } from '../../src/facts/file-content.ts'
import { mysqlFact } from '../../src/facts/mysql.ts'
import { FIXTURES_DIR, labConnection, recordProbe, SCENARIO, SCENARIO_SETUP, type FixtureMeta } from './record-probes.ts'
import { scrubHashes } from './scrub-mysql-hashes.ts'

export const RELEASE_DIR = 'debian13'

const kinds: Record<string, FactKind<unknown>> = Object.fromEntries(
  [aptPackageFact, aptCandidateFact, systemdUnitFact, userFact, groupFact, shellFact, pathFact, pathStatFact, fileContentFact, mysqlFact].map((k) => [k.name, k as FactKind<unknown>]),
)

export type RecordedOn = 'scenario' | 'bare' | 'provisioned' | 'mysql' | 'not-recorded'

/** Which Debian 13 state a Debian 12 fixture is recorded again in, from where and how it was recorded. */
export function stateOf(dir: string, name: string, meta: FixtureMeta & { derived?: boolean; note?: string }): RecordedOn {
  if (meta.derived || name.startsWith('dummy-')) return 'not-recorded'
  if (dir === 'mysql') return 'mysql'
  if (meta.keys.some((k) => k.startsWith(SCENARIO))) return 'scenario'
  if (/provisioned/.test(name) || name === 'apt-lists-web-01') return 'provisioned'
  return 'bare'
}

/** Every Debian 12 fixture: kind dir, name, meta. */
export function debian12Fixtures(): { dir: string; name: string; meta: FixtureMeta & { derived?: boolean; note?: string } }[] {
  const out: ReturnType<typeof debian12Fixtures> = []
  for (const dir of readdirSync(FIXTURES_DIR, { withFileTypes: true })) {
    if (!dir.isDirectory() || dir.name === RELEASE_DIR) continue
    for (const f of readdirSync(join(FIXTURES_DIR, dir.name))) {
      if (!f.endsWith('.meta.json')) continue
      const name = f.slice(0, -'.meta.json'.length)
      out.push({ dir: dir.name, name, meta: JSON.parse(readFileSync(join(FIXTURES_DIR, dir.name, f), 'utf8')) })
    }
  }
  return out
}

/** Users and groups of the machine the Debian 12 `user/mix` and `group/mix` were recorded on (postgresql-common's, by hand). */
const CONTROLLER_STATE = `set -e
getent group ssl-cert >/dev/null || groupadd -r ssl-cert
getent group postgres >/dev/null || groupadd -r postgres
getent passwd postgres >/dev/null || useradd -r -g postgres -G ssl-cert -d /var/lib/postgresql -M -s /bin/bash -c 'PostgreSQL administrator,,,' postgres
`

async function on(host: string, command: string): Promise<void> {
  const r = await labExec(host, command)
  if (r.code !== 0) throw new Error(`${host}: ${command}: ${r.stderr}`)
}

async function record(conn: Connection, f: ReturnType<typeof debian12Fixtures>[number]): Promise<void> {
  const kind = kinds[f.meta.kind]
  if (!kind) throw new Error(`no fact kind ${f.meta.kind} (fixture ${f.dir}/${f.name})`)
  const m = await recordProbe(conn, kind, f.meta.keys, join(RELEASE_DIR, f.dir), f.name)
  console.log(`${RELEASE_DIR}/${f.dir}/${f.name}: exit ${m.code} on ${m.host} (${m.os})`)
}

async function main(): Promise<void> {
  const [mode, hostArg] = process.argv.slice(2)
  const fixtures = debian12Fixtures()
  if (mode === 'bare') {
    const conn = labConnection(hostArg ?? 'node-01')
    const os = (await conn.exec('. /etc/os-release; echo $VERSION_ID')).stdout.trim()
    if (os !== '13') throw new Error(`${conn.host} runs Debian ${os}, not 13`)
    // the controller the Debian 12 "mix" fixtures were read on had PostgreSQL's user and ssl-cert group: the same here
    const controllerState = await conn.exec(CONTROLLER_STATE)
    if (controllerState.code !== 0) throw new Error(`setting up the controller's users failed: ${controllerState.stderr}`)
    for (const f of fixtures.filter((x) => stateOf(x.dir, x.name, x.meta) === 'bare')) await record(conn, f)
    const setup = await conn.exec(SCENARIO_SETUP)
    if (setup.code !== 0) throw new Error(`scenario setup failed: ${setup.stderr}`)
    try {
      for (const f of fixtures.filter((x) => stateOf(x.dir, x.name, x.meta) === 'scenario')) await record(conn, f)
    } finally {
      await conn.exec(`rm -rf ${SCENARIO}`)
    }
    return
  }
  if (mode === 'provisioned') {
    const provisioned = fixtures.filter((x) => stateOf(x.dir, x.name, x.meta) === 'provisioned')
    await on('web-01', 'apt-cache stats >/dev/null') // apt's binary cache there, as after any apt run (an earlier recording removed it)
    // last, the one that needs apt's binary cache gone
    provisioned.sort((a, b) => Number(a.name === 'apt-lists-web-01') - Number(b.name === 'apt-lists-web-01'))
    for (const f of provisioned) {
      // the Debian 12 one was read while apt's binary cache was gone (apt rebuilds it on its next run)
      if (f.name === 'apt-lists-web-01') await on('web-01', 'rm -f /var/cache/apt/pkgcache.bin')
      await record(labConnection('web-01'), f)
    }
    const mysql = (name: string) => fixtures.find((x) => x.dir === 'mysql' && x.name === name)!
    await record(labConnection('web-01'), mysql('primary'))
    await record(labConnection('web-02'), mysql('replica-healthy'))
    await record(labConnection('lb-01'), mysql('absent'))
    await on('db-03', "mariadb -e 'STOP SLAVE'")
    try {
      await record(labConnection('db-03'), mysql('replica-stopped'))
    } finally {
      await on('db-03', "mariadb -e 'START SLAVE'")
    }
    await on('db-03', 'systemctl stop mariadb')
    try {
      await record(labConnection('db-03'), mysql('server-down'))
    } finally {
      await on('db-03', 'systemctl start mariadb')
    }
    for (const n of ['primary', 'replica-healthy', 'replica-stopped', 'server-down', 'absent']) scrubHashes(join(RELEASE_DIR, 'mysql'), n)
    return
  }
  console.error('usage: record-debian13-probes.ts bare [HOST] | provisioned')
  process.exit(64)
}

if (process.argv[1] && existsSync(process.argv[1]) && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.stack : String(err))
    process.exit(1)
  })
}
