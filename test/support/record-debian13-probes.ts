/**
 * Records every probe fixture again on the other Debian release, in the state
 * its first recording describes (same kind, keys and name): the twin of a
 * Debian 12 first into test/fixtures/probes/debian13/, of a Debian 13 first
 * into debian12/ (test/support/fixture-release.ts). Plan tests run over both;
 * test/unit/facts/releases.test.ts fails on a fixture without a twin and
 * asserts both parse to the same facts.
 *
 *   MUSTER_LAB_ID=N npx tsx test/support/record-debian13-probes.ts bare HOST
 *       a bare Debian 13 lab host (`lab up --suite trixie`): the bare-host
 *       and controller fixtures, and the file scenario of record-probes.ts
 *   MUSTER_LAB_ID=N npx tsx test/support/record-debian13-probes.ts provisioned
 *       the reference stack's lab on Debian 13 after a site.ts apply: the
 *       provisioned web-01 fixtures and MariaDB's (record-mysql-probes.ts's states)
 *   MUSTER_LAB_ID=N npx tsx test/support/record-debian13-probes.ts server|stack|controller|apt-repository|catalogue
 *       named scenarios, on a lab of either suite: each makes its states on the
 *       hosts (applies, drift by hand as the first recordings' notes say) and
 *       records the twins missing on that host's release (its /etc/os-release)
 *
 * Not recorded again: what NO_TWIN (fixture-release.ts) lists, the states
 * derived by hand.
 */
import { readdirSync, readFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
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
import { aptInstallableFact } from '../../src/facts/apt-installable.ts'
import { sysctlFact } from '../../src/facts/sysctl.ts'
import { authorizedKeysFact } from '../../src/facts/authorized-keys.ts'
import { localeFact } from '../../src/facts/locale.ts'
import { mountFact } from '../../src/facts/mount.ts'
import { labReset } from '../../src/lab/reset.ts'
import { readState } from '../../src/lab/state.ts'
import { muster } from './cli.ts'
import { serveDirectory } from './serve-files.ts'
import { recordedOn, twinDir, TWIN_DIRS, type Release } from './fixture-release.ts'
import { FIXTURES_DIR, labConnection, recordProbe, SCENARIO, SCENARIO_SETUP, type FixtureMeta } from './record-probes.ts'
import { scrubHashes } from './scrub-mysql-hashes.ts'

export const RELEASE_DIR = 'debian13'

const kinds: Record<string, FactKind<unknown>> = Object.fromEntries(
  [aptPackageFact, aptCandidateFact, aptInstallableFact, systemdUnitFact, userFact, groupFact, shellFact, pathFact, pathStatFact, fileContentFact, mysqlFact, sysctlFact, authorizedKeysFact, localeFact, mountFact].map((k) => [k.name, k as FactKind<unknown>]),
)

export type RecordedOn = 'scenario' | 'bare' | 'provisioned' | 'mysql' | 'named-scenario' | 'not-recorded'

/** The fixtures the named scenarios below (server, stack, catalogue, controller, apt-repository) record: `bare` and `provisioned` leave them alone. */
export const IN_NAMED_SCENARIOS: ReadonlySet<string> = new Set([
  'apt-installable/mix',
  'apt-package/dummy-config-files',
  'apt-package/dummy-half-configured',
  'apt-package/dummy-installed',
  'apt-package/dummy-purged',
  'apt-package/dummy-unpacked',
  'apt-package/locales-web-01-bare',
  'apt-package/locales-web-01-converged',
  'authorized-keys/web-01-bare',
  'authorized-keys/web-01-converged',
  'authorized-keys/web-01-drifted',
  'file-content/catalogue-bookworm-web-01-bare',
  'file-content/catalogue-web-01-bare',
  'file-content/catalogue-web-02-converged',
  'file-content/catalogue-web-02-drifted',
  'file-content/git-web-02-bare',
  'file-content/git-web-02-converged',
  'file-content/git-web-02-drifted',
  'file-content/locale-web-01-bare',
  'file-content/locale-web-01-converged',
  'file-content/locale-web-01-drifted',
  'haproxy-servers/converged',
  'haproxy-servers/forced',
  'haproxy-servers/no-haproxy',
  'locale/web-01-bare',
  'locale/web-01-converged',
  'locale/web-01-drifted',
  'mount/catalogue-bookworm-web-01-bare',
  'mount/catalogue-web-01-bare',
  'mount/catalogue-web-02-converged',
  'mount/catalogue-web-02-drifted',
  'mysql/primary-rotating',
  'mysql/replica-drifted',
  'path/apt-repo-web-01-converged',
  'path/apt-repo-web-01-drifted',
  'path/archive-web-02-bare',
  'path/archive-web-02-converged',
  'path/archive-web-02-other',
  'path/catalogue-bookworm-web-01-bare',
  'path/catalogue-web-01-bare',
  'path/catalogue-web-02-converged',
  'path/catalogue-web-02-drifted',
  'path/git-web-02-bare',
  'path/git-web-02-converged',
  'path/git-web-02-drifted',
  'path/jobs-web-01-bare',
  'path/jobs-web-01-converged',
  'path/jobs-web-01-drifted',
  'path/server-web-01-bare',
  'path/server-web-01-converged',
  'path/server-web-01-drifted',
  'path/sshd-web-01-converged',
  'path/sshd-web-01-drifted',
  'sysctl/server-web-01-bare',
  'sysctl/server-web-01-converged',
  'sysctl/server-web-01-drifted',
  'systemd-unit/jobs-web-01-bare',
  'systemd-unit/jobs-web-01-converged',
  'systemd-unit/jobs-web-01-drifted',
  'unit-environment/app-running',
  'unit-environment/not-running',
  'user/web-01-ops-bare',
  'user/web-01-ops-converged',
])

/** Which Debian 13 state a Debian 12 fixture is recorded again in, from where and how it was recorded. */
export function stateOf(dir: string, name: string, meta: FixtureMeta & { derived?: boolean; note?: string }): RecordedOn {
  if (IN_NAMED_SCENARIOS.has(`${dir}/${name}`)) return 'named-scenario'
  if (meta.derived) return 'not-recorded'
  if (dir === 'mysql') return 'mysql'
  if (meta.keys.some((k) => k.startsWith(SCENARIO))) return 'scenario'
  if (/provisioned/.test(name) || name === 'apt-lists-web-01') return 'provisioned'
  return 'bare'
}

/** Every Debian 12 fixture: kind dir, name, meta. */
export function debian12Fixtures(): { dir: string; name: string; meta: FixtureMeta & { derived?: boolean; note?: string } }[] {
  const out: ReturnType<typeof debian12Fixtures> = []
  for (const dir of readdirSync(FIXTURES_DIR, { withFileTypes: true })) {
    if (!dir.isDirectory() || TWIN_DIRS.includes(dir.name)) continue
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

const releases = new Map<string, Release>()
/** The release a lab host runs, from its /etc/os-release (never from the lab's suite setting). */
async function releaseOf(host: string): Promise<Release> {
  if (!releases.has(host)) {
    const v = (await labExec(host, '. /etc/os-release; echo "$VERSION_ID"')).stdout.trim()
    if (v !== '12' && v !== '13') throw new Error(`${host} runs Debian ${v}, neither 12 nor 13`)
    releases.set(host, v === '12' ? 'debian12' : 'debian13')
  }
  return releases.get(host)!
}

/**
 * Record on `host` the twin of the first recording `<dir>/<name>`: its kind and keys, in the state the
 * scenario has just made, into the twin folder (fixture-release.ts). A first recording made on the host's
 * own release is left alone: the scenario is the same on both releases, so it records whichever is missing.
 */
async function twin(host: string, fixture: string, step: string, scrub?: (text: string) => string): Promise<void> {
  const [dir, name] = fixture.split('/') as [string, string]
  if (recordedOn(dir, name) === (await releaseOf(host))) return void console.log(`${fixture}: first recorded on this release, left as it is`)
  const meta = JSON.parse(readFileSync(join(FIXTURES_DIR, dir, `${name}.meta.json`), 'utf8')) as FixtureMeta
  const kind = kinds[meta.kind]
  if (!kind) throw new Error(`no fact kind ${meta.kind} (fixture ${fixture})`)
  const into = twinDir(dir, name)
  const m = await recordProbe(labConnection(host), kind, meta.keys, into, name)
  const file = join(FIXTURES_DIR, into, `${name}.txt`)
  if (scrub) writeFileSync(file, scrub(readFileSync(file, 'utf8')))
  writeFileSync(join(FIXTURES_DIR, into, `${name}.meta.json`), `${JSON.stringify({ ...m, note: `twin of ${fixture}: ${step}` }, null, 2)}\n`)
  console.log(`${into}/${name}: exit ${m.code} on ${host} (${m.os})`)
}

/** The lab's addresses as lab 0's (10.77.0.x): a recording names the lab it was made in otherwise. */
const labZero = (text: string): string => text.replace(/\b10\.(7[7-9]|8[0-6])\.0\.(\d+)\b/g, '10.77.0.$2')

async function apply(args: string[], env: Record<string, string> = {}): Promise<void> {
  const r = await muster(['apply', ...args, '-i', 'test/fixtures/lab/inventory.ts'], env, 20 * 60_000)
  if (r.code !== 0) throw new Error(`muster apply ${args.join(' ')}: exit ${r.code}\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}`)
}

/** The ops key and the spare root key test/unit/resources/server/authorized-keys.test.ts names (server.ts's defaults). */
const SERVER = ['test/fixtures/lab/server.ts', '--limit', 'web-01']

/**
 * The server resources' states on web-01 (test/lab/server.test.ts's, one host): bare; after
 * test/fixtures/lab/server.ts; drifted by hand as each Debian 12 fixture's note says (sysctl, hostname,
 * localtime, sudoers, a mode, authorized keys, sshd's MaxAuthTries, the locale); then converged again,
 * and test/fixtures/lab/jobs.ts (cron, timer, download) on top, and its drift.
 */
async function serverScenario(): Promise<void> {
  const h = 'web-01'
  await labReset([h])
  const bare = 'lab web-01 booted bare (lab reset), before any run'
  for (const f of ['path/server-web-01-bare', 'sysctl/server-web-01-bare', 'locale/web-01-bare', 'file-content/locale-web-01-bare', 'apt-package/locales-web-01-bare', 'authorized-keys/web-01-bare', 'user/web-01-ops-bare']) await twin(h, f, bare)
  await apply(SERVER)
  const converged = 'lab web-01 after apply of test/fixtures/lab/server.ts'
  for (const f of ['path/server-web-01-converged', 'sysctl/server-web-01-converged', 'locale/web-01-converged', 'file-content/locale-web-01-converged', 'apt-package/locales-web-01-converged', 'authorized-keys/web-01-converged', 'user/web-01-ops-converged', 'path/sshd-web-01-converged', 'path/jobs-web-01-bare', 'systemd-unit/jobs-web-01-bare']) await twin(h, f, converged)
  // the hand-made drift of the Debian 12 recordings (their notes), all at once: no fixture reads another's
  const drift = [
    'sysctl -q -w net.ipv4.ip_forward=0',
    'hostname drifted',
    'ln -sfn /usr/share/zoneinfo/Etc/UTC /etc/localtime',
    'echo "Defaults:%sudo lecture=always" >> /etc/sudoers.d/muster-admins',
    'chmod 0644 /etc/sysctl.d/90-muster-net.ipv4.tcp_syncookies.conf',
    'echo "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDHand+Made= intruder@x" >> ~ops/.ssh/authorized_keys',
    'chmod 0644 ~ops/.ssh/authorized_keys',
    'echo "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHandMadeRootKey other@x" >> /root/.ssh/authorized_keys',
    "sed -i 's/^MaxAuthTries 4$/MaxAuthTries 6/' /etc/ssh/sshd_config.d/10-muster-hardening.conf",
    "sed -i 's/^en_US.UTF-8 UTF-8/# en_US.UTF-8 UTF-8/' /etc/locale.gen && locale-gen >/dev/null && echo LANG=C.UTF-8 > /etc/default/locale",
  ]
  await on(h, drift.join(' && '))
  const drifted = `converged, then by hand: ${drift.join('; ')}`
  for (const f of ['path/server-web-01-drifted', 'sysctl/server-web-01-drifted', 'authorized-keys/web-01-drifted', 'path/sshd-web-01-drifted', 'locale/web-01-drifted', 'file-content/locale-web-01-drifted']) await twin(h, f, drifted)
  await apply(SERVER)
  // jobs: a blob served from the controller, as test/lab/jobs.test.ts does
  const dir = mkdtempSync(join(tmpdir(), 'muster-twin-files-'))
  const blob = Buffer.alloc(200_000)
  for (let i = 0; i < blob.length; i++) blob[i] = (i * 7919) & 0xff
  writeFileSync(join(dir, 'blob.bin'), blob)
  const { createHash } = await import('node:crypto')
  const served = await serveDirectory(dir, readState()!.bridge.address)
  try {
    await apply(['test/fixtures/lab/jobs.ts'], { MUSTER_TEST_FILES_URL: served.url, MUSTER_TEST_BLOB_SHA256: createHash('sha256').update(blob).digest('hex') })
  } finally {
    await served.close()
    rmSync(dir, { recursive: true, force: true })
  }
  for (const f of ['path/jobs-web-01-converged', 'systemd-unit/jobs-web-01-converged']) await twin(h, f, 'lab web-01 after apply of test/fixtures/lab/jobs.ts')
  const jobsDrift = ["sed -i 's#^\\*/5 #*/1 #' /etc/cron.d/muster-job", "sed -i 's/^OnCalendar=.*/OnCalendar=hourly/' /etc/systemd/system/muster-tick.timer", 'head -c 100 /dev/urandom > /usr/local/share/muster-blob.bin']
  await on(h, jobsDrift.join(' && '))
  for (const f of ['path/jobs-web-01-drifted', 'systemd-unit/jobs-web-01-drifted']) await twin(h, f, `converged by test/fixtures/lab/jobs.ts, then by hand: ${jobsDrift.join('; ')} (no daemon-reload)`)
  await labReset([h])
}

/**
 * The live-state probes of a converged reference stack (record-live-probes.ts's and
 * record-mysql-probes.ts's issue 15 states): `playbooks/site.ts` applied on the lab first,
 * then HAProxy's runtime state as converged and forced, the app's environment, db-03 drifted
 * by hand and web-01's app account mid-rotation, each put back at once.
 */
async function stackScenario(): Promise<void> {
  const r = await muster(['apply', 'playbooks/site.ts', '-i', 'inventory/lab.ts'], {}, 40 * 60_000)
  if (r.code !== 0) throw new Error(`site apply: exit ${r.code}\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}`)
  const { FIXTURE_APP_PASSWORD } = await import('./record-live-probes.ts')
  const runtime = async (command: string): Promise<void> => {
    const x = await labExec('lb-01', 'socat stdio UNIX-CONNECT:/run/haproxy/admin.sock', { stdin: `${command}\n` })
    if (x.code !== 0 || x.stdout.trim() !== '') throw new Error(`lb-01: ${command}: ${x.stdout}${x.stderr}`)
  }
  await twin('lb-01', 'haproxy-servers/converged', 'lb-01 of the converged reference stack', labZero)
  await runtime('set server web/web-02 state maint')
  await runtime('set weight web/web-01 0')
  try {
    await twin('lb-01', 'haproxy-servers/forced', 'web-02 put in maintenance and web-01 weight 0 through the runtime API (set back at once)', labZero)
  } finally {
    await runtime('set server web/web-02 state ready')
    await runtime('set weight web/web-01 1')
  }
  await twin('db-03', 'haproxy-servers/no-haproxy', 'db-03, which runs no HAProxy', labZero)
  const { createHash } = await import('node:crypto')
  const fake = createHash('sha256').update(FIXTURE_APP_PASSWORD).digest('hex')
  // the lab's password hash becomes the fixture password's, as record-live-probes.ts does
  const fixturePassword = (text: string): string => {
    const out = text.replace(/^(#muster-secret DB_PASSWORD )[0-9a-f]{64}/m, `$1${fake}`)
    if (!out.includes(fake)) throw new Error('unit-environment: no DB_PASSWORD hash to replace')
    return labZero(out)
  }
  await twin('web-01', 'unit-environment/app-running', "web-01's app as it runs", fixturePassword)
  await twin('lb-01', 'unit-environment/not-running', 'lb-01, which runs no app', labZero)
  const { FIXTURE_NEXT_APP, FIXTURE_PASSWORDS, STORED_BY_HAND } = await import('./scrub-mysql-hashes.ts')
  const sql = async (host: string, statements: string): Promise<string> => {
    const x = await labExec(host, 'mariadb -BN', { stdin: statements })
    if (x.code !== 0) throw new Error(`${host}: SQL failed: ${x.stderr}`)
    return x.stdout
  }
  await sql('db-03', `STOP SLAVE; SET GLOBAL read_only = OFF; SET GLOBAL binlog_format = 'MIXED'; CHANGE MASTER TO MASTER_PASSWORD = '${STORED_BY_HAND}';`)
  try {
    await twin('db-03', 'mysql/replica-drifted', 'db-03 by hand: STOP SLAVE, read_only OFF, binlog_format MIXED, another stored replication password')
  } finally {
    await sql('db-03', "SET GLOBAL read_only = ON; SET GLOBAL binlog_format = 'ROW';")
  }
  const realApp = (await sql('web-01', "SELECT authentication_string FROM mysql.user WHERE User = 'app' AND Host = '%';")).trim()
  if (!/^\*[0-9A-F]{40}$/.test(realApp)) throw new Error('web-01: no app account to record a rotation of')
  await sql('web-01', `ALTER USER 'app'@'%' IDENTIFIED VIA mysql_native_password USING PASSWORD('${FIXTURE_NEXT_APP}') OR mysql_native_password USING PASSWORD('${FIXTURE_PASSWORDS.app}');`)
  try {
    await twin('web-01', 'mysql/primary-rotating', "web-01's app account mid-rotation (two passwords)")
  } finally {
    await sql('web-01', `ALTER USER 'app'@'%' IDENTIFIED BY PASSWORD '${realApp}';`)
  }
  for (const n of ['replica-drifted', 'primary-rotating']) scrubHashes(twinDir('mysql', n), n)
  // db-03's stored password back to the inventory's
  await muster(['apply', 'playbooks/site.ts', '-i', 'inventory/lab.ts', '--limit', 'db-03'], {}, 20 * 60_000)
}

/** When both commits of the catalogue's test repository were made: the same ids on every recording. */
const GIT_TIME = '1796440634 +0000'

/**
 * The catalogue's states (test/lab/catalogue.test.ts's): web-01 bare; web-02 with a tarball, a file that
 * is not one and a bare repository of two commits (made with fixed times and names, so their ids are the
 * first recording's), nothing unpacked or checked out; test/fixtures/lab/catalogue.ts applied; then by
 * hand: /srv/scratch unmounted and the /srv/bind fstab line made ro, the archive marker naming another
 * archive, the checkout detached at the first commit.
 */
async function catalogueScenario(): Promise<void> {
  await labReset(['web-01', 'web-02'])
  for (const k of ['mount', 'file-content', 'path']) {
    await twin('web-01', `${k}/catalogue-web-01-bare`, 'bare lab host web-01')
    await twin('web-01', `${k}/catalogue-bookworm-web-01-bare`, 'bare lab host web-01')
  }
  const h = 'web-02'
  const sums = (await labExec(h, 'mkdir -p /srv/pkg /tmp/t/bin && echo v1 > /tmp/t/VERSION && printf "#!/bin/sh\\necho hi\\n" > /tmp/t/bin/hi && tar -czf /srv/pkg/app.tar.gz -C /tmp/t . && rm -rf /tmp/t && echo "not a tarball" > /srv/pkg/not-an-archive.tar.gz && sha256sum /srv/pkg/app.tar.gz /srv/pkg/not-an-archive.tar.gz')).stdout
  const [appSha, junkSha] = sums.trim().split('\n').map((l) => l.split(' ')[0]!)
  const { execFileSync } = await import('node:child_process')
  const dir = mkdtempSync(join(tmpdir(), 'muster-twin-git-'))
  const gitEnv = { ...process.env, GIT_AUTHOR_DATE: GIT_TIME, GIT_COMMITTER_DATE: GIT_TIME }
  const git = (...a: string[]): string => execFileSync('git', ['-C', join(dir, 'work'), '-c', 'user.name=t', '-c', 'user.email=t@x', ...a], { encoding: 'utf8', env: gitEnv }).trim()
  execFileSync('git', ['init', '-q', join(dir, 'work')])
  writeFileSync(join(dir, 'work', 'README'), 'one\n')
  git('add', '.')
  git('commit', '-qm', 'one')
  const first = git('rev-parse', 'HEAD')
  writeFileSync(join(dir, 'work', 'README'), 'two\n')
  git('commit', '-qam', 'two')
  const second = git('rev-parse', 'HEAD')
  execFileSync('git', ['clone', '-q', '--bare', join(dir, 'work'), join(dir, 'repo.git')])
  const tar = execFileSync('tar', ['-c', '-C', join(dir, 'repo.git'), '.']).toString('base64')
  rmSync(dir, { recursive: true, force: true })
  const shipped = await labExec(h, 'mkdir -p /srv/repo.git && base64 -d | tar -x -C /srv/repo.git', { stdin: tar })
  if (shipped.code !== 0) throw new Error(`shipping the repository: ${shipped.stderr}`)
  const made = `web-02: /srv/pkg/app.tar.gz (VERSION) and not-an-archive.tar.gz made, /srv/repo.git (two commits ${first}, ${second}) shipped, nothing unpacked or checked out`
  await twin(h, 'path/archive-web-02-bare', made)
  await twin(h, 'path/git-web-02-bare', made)
  await twin(h, 'file-content/git-web-02-bare', made)
  await apply(['test/fixtures/lab/catalogue.ts'], { MUSTER_TEST_APP_SHA256: appSha!, MUSTER_TEST_JUNK_SHA256: junkSha!, MUSTER_TEST_GIT_COMMIT: second })
  const converged = `web-02 after test/fixtures/lab/catalogue.ts (/srv/app unpacked, /srv/code at ${second})`
  for (const f of ['mount/catalogue-web-02-converged', 'file-content/catalogue-web-02-converged', 'path/catalogue-web-02-converged', 'path/archive-web-02-converged', 'path/git-web-02-converged', 'file-content/git-web-02-converged']) await twin(h, f, converged)
  const drift = ['umount /srv/scratch', "sed -i 's#^/srv/data /srv/bind none bind #/srv/data /srv/bind none bind,ro #' /etc/fstab", `printf '%s\\n' ${'0'.repeat(64)} > /srv/app/.muster-archive`, `git -C /srv/code -c advice.detachedHead=false checkout -q --detach ${first}`]
  await on(h, drift.join(' && '))
  const drifted = `converged, then by hand: ${drift.join('; ')}`
  for (const f of ['mount/catalogue-web-02-drifted', 'file-content/catalogue-web-02-drifted', 'path/catalogue-web-02-drifted']) await twin(h, f, drifted)
  await twin(h, 'path/archive-web-02-other', drifted)
  await twin(h, 'path/git-web-02-drifted', drifted)
  await twin(h, 'file-content/git-web-02-drifted', drifted)
  await labReset(['web-01', 'web-02'])
}

/** A throwaway package with a conffile (so `dpkg -r` leaves it rc) whose postinst fails while /tmp/muster-dummy-fail exists. */
const DUMMY_DEB = `set -e
d=$(mktemp -d)
mkdir -p "$d/DEBIAN" "$d/etc"
printf 'Package: muster-fixture-dummy\nVersion: 1.0-1\nArchitecture: all\nMaintainer: muster <muster@invalid>\nDescription: muster probe fixture\n' > "$d/DEBIAN/control"
echo /etc/muster-fixture-dummy.conf > "$d/DEBIAN/conffiles"
echo 'x = 1' > "$d/etc/muster-fixture-dummy.conf"
printf '#!/bin/sh\n[ ! -e /tmp/muster-dummy-fail ]\n' > "$d/DEBIAN/postinst"
chmod 0755 "$d/DEBIAN/postinst"
dpkg-deb -b "$d" /tmp/muster-fixture-dummy.deb >/dev/null
rm -rf "$d"
`

/**
 * What the Debian 12 controller's fixtures describe, on a lab host: the throwaway package taken through
 * dpkg's states (apt-package/dummy-*), then apt's view of a mix of installed, installable and unknown
 * packages (apt-installable/mix) with nodejs installed, as it was on the controller.
 */
async function controllerScenario(host: string): Promise<void> {
  const step = async (command: string, fixture: string, what: string): Promise<void> => {
    const r = await labExec(host, command)
    if (fixture !== 'apt-package/dummy-half-configured' && r.code !== 0) throw new Error(`${host}: ${command}: ${r.stderr}`)
    await twin(host, fixture, `muster-fixture-dummy (built with dpkg-deb on the host): ${what}`)
  }
  await on(host, DUMMY_DEB)
  await step('dpkg -i /tmp/muster-fixture-dummy.deb >/dev/null', 'apt-package/dummy-installed', 'dpkg -i')
  await step('dpkg -r muster-fixture-dummy >/dev/null', 'apt-package/dummy-config-files', 'dpkg -r (its conffile left)')
  await step('dpkg --unpack /tmp/muster-fixture-dummy.deb >/dev/null', 'apt-package/dummy-unpacked', 'dpkg --unpack')
  await step('touch /tmp/muster-dummy-fail; dpkg --configure muster-fixture-dummy >/dev/null 2>&1; rm -f /tmp/muster-dummy-fail', 'apt-package/dummy-half-configured', 'dpkg --configure with a failing postinst')
  await step('dpkg -P muster-fixture-dummy >/dev/null && rm -f /tmp/muster-fixture-dummy.deb', 'apt-package/dummy-purged', 'dpkg -P')
  await on(host, 'DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q nodejs curl >/dev/null')
  await twin(host, 'apt-installable/mix', 'nodejs, curl, bash, libc6, tzdata installed; nginx, haproxy, mariadb-server not; muster-fixture-dummy purged')
  await labReset([host])
}

/**
 * aptRepository's states (test/lab/apt-repository.test.ts's) on web-01: a signed repository served from
 * the controller, test/fixtures/lab/apt-repository.ts applied (converged), then a source edited by hand.
 * The repository's address goes into the twin's meta.json (`url`): the source names it, so its hash does.
 */
async function aptRepositoryScenario(): Promise<void> {
  const h = 'web-01'
  await labReset([h])
  const { startLocalRepo } = await import('./local-apt-repo.ts')
  const repo = await startLocalRepo(readState()!.bridge.address)
  try {
    await on(h, `echo 'Acquire::http::Proxy::${new URL(repo.url).hostname} "DIRECT";' > /etc/apt/apt.conf.d/99-muster-test-repo`)
    await apply(['test/fixtures/lab/apt-repository.ts', '--limit', h], { MUSTER_TEST_REPO_URL: repo.url, MUSTER_TEST_REPO_KEY: repo.key, MUSTER_TEST_REPO_KEY_SHA256: repo.keySha256, MUSTER_TEST_REPO_OTHER_KEY: repo.otherKey })
    const withUrl = (fixture: string): void => {
      const [dir, name] = fixture.split('/') as [string, string]
      const file = join(FIXTURES_DIR, twinDir(dir, name), `${name}.meta.json`)
      writeFileSync(file, `${JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), url: repo.url }, null, 2)}\n`)
    }
    await twin(h, 'path/apt-repo-web-01-converged', `lab web-01 after test/fixtures/lab/apt-repository.ts served at ${repo.url} (converged); muster-other is absent`)
    withUrl('path/apt-repo-web-01-converged')
    const drift = "sed -i 's/^Components: main$/Components: main contrib/' /etc/apt/sources.list.d/muster-test.sources"
    await on(h, drift)
    await twin(h, 'path/apt-repo-web-01-drifted', `converged, then by hand: ${drift}`)
    withUrl('path/apt-repo-web-01-drifted')
  } finally {
    await repo.close()
    await labReset([h])
  }
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
    for (const n of ['primary', 'replica-healthy', 'replica-stopped', 'server-down', 'absent']) {
      scrubHashes(join(RELEASE_DIR, 'mysql'), n)
      // the primary's address as lab 0's, as the Debian 12 recordings have it
      const file = join(FIXTURES_DIR, RELEASE_DIR, 'mysql', `${n}.txt`)
      writeFileSync(file, labZero(readFileSync(file, 'utf8')))
    }
    return
  }
  if (mode === 'server') return serverScenario()
  if (mode === 'stack') return stackScenario()
  if (mode === 'catalogue') return catalogueScenario()
  if (mode === 'apt-repository') return aptRepositoryScenario()
  if (mode === 'controller') return controllerScenario(hostArg ?? 'lb-01')
  console.error('usage: record-debian13-probes.ts bare [HOST] | provisioned | server | stack | catalogue | controller [HOST] | apt-repository')
  process.exit(64)
}

if (process.argv[1] && existsSync(process.argv[1]) && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.stack : String(err))
    process.exit(1)
  })
}
