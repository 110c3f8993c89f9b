/**
 * Checks the package table's editions (src/resources/packages/debian12.ts,
 * debian13.ts) against the real Debian packages, so they stay facts rather
 * than guesses. `--edition 12|13` picks the edition (default: this machine's
 * release; with --lab, the host's):
 *
 *   npx tsx test/support/verify-package-provides.ts            # verify every entry
 *   npx tsx test/support/verify-package-provides.ts prometheus-node-exporter
 *                                                              # only the entries named (and their companions)
 *   npx tsx test/support/verify-package-provides.ts --suite bookworm/main
 *                                                              # against the versions in that suite
 *   npx tsx test/support/verify-package-provides.ts --edition 13 --host root@10.77.0.11 --identity KEY --known-hosts FILE nginx
 *                                                              # predictions vs a host where it is installed (read-only)
 *   MUSTER_LAB_ID=N npx tsx test/support/verify-package-provides.ts --lab web-01
 *                                                              # against the candidates of a lab host's release
 *                                                              # (lab up --suite trixie: Debian 13's packages)
 *   npx tsx test/support/verify-package-provides.ts --print nginx-common /etc/ /var/
 *                                                              # print entries from a .deb
 *
 * It downloads each package at the version the table names (`apt-get
 * download`, as root: needs `apt-get update` first), reads `dpkg-deb -c`,
 * extracts the files to hash them, and checks every `paths` entry (type,
 * mode, owner, group, size, sha256, link target). Entries under `created`
 * come from maintainer scripts: the script must mention the path. Nothing is
 * installed and no daemon is started on this machine.
 */
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdtempSync, readFileSync, readdirSync, rmSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { spawnSync } from 'node:child_process'
import { PACKAGE_EDITIONS, installPredictions, baseFilesRelease, type PackageEdition } from '../../src/resources/package-provides.ts'
import type { PathState } from '../../src/facts/path.ts'
import { factId, isUnknown, type FactQuery } from '../../src/contract/fact.ts'
import { buildBatch, parseBatch } from '../../src/engine/probe-batch.ts'

interface DebEntry {
  path: string
  state: PathState
}

function modeOf(perms: string): string {
  const bits = (s: string, r: number, w: number, x: number): number =>
    (s[0] === 'r' ? r : 0) + (s[1] === 'w' ? w : 0) + (/[xst]/.test(s[2]!) ? x : 0)
  let special = 0
  if (/[sS]/.test(perms[3]!)) special += 4
  if (/[sS]/.test(perms[6]!)) special += 2
  if (/[tT]/.test(perms[9]!)) special += 1
  const v = special * 512 + bits(perms.slice(1, 4), 256, 128, 64) + bits(perms.slice(4, 7), 32, 16, 8) + bits(perms.slice(7, 10), 4, 2, 1)
  return v.toString(8).padStart(4, '0')
}

function download(pkg: string, version: string, dir: string): string {
  execFileSync('apt-get', ['download', '-q', `${pkg}=${version}`], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] })
  const deb = readdirSync(dir).find((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb'))
  if (!deb) throw new Error(`apt-get download ${pkg}=${version} left no .deb`)
  return join(dir, deb)
}

function readDeb(deb: string, root: string): DebEntry[] {
  execFileSync('dpkg-deb', ['-x', deb, root])
  execFileSync('dpkg-deb', ['-e', deb, join(root, 'DEBIAN')])
  const listing = execFileSync('dpkg-deb', ['-c', deb], { encoding: 'utf8' })
  const out: DebEntry[] = []
  for (const line of listing.split('\n')) {
    const m = /^(\S{10}) (\S+)\/(\S+)\s+(\d+) \S+ \S+ \.(\/\S*?)\/?(?: -> (.*))?$/.exec(line)
    if (!m) continue
    const [, perms, owner, group, size, path, target] = m as unknown as string[]
    if (path === '/' || path === '') continue
    let state: PathState
    if (perms[0] === 'd') state = { type: 'directory', mode: modeOf(perms), owner, group, mtime: 0 }
    else if (perms[0] === 'l') state = { type: 'symlink', target: target!, owner, group, mtime: 0 }
    else {
      const sha256 = createHash('sha256').update(readFileSync(join(root, path))).digest('hex')
      state = { type: 'file', mode: modeOf(perms), owner, group, size: Number(size), mtime: 0, sha256 }
    }
    out.push({ path, state })
  }
  return out
}

function maintainerScripts(root: string): string {
  const dir = join(root, 'DEBIAN')
  return ['preinst', 'postinst']
    .map((f) => join(dir, f))
    .filter((f) => existsSync(f))
    .map((f) => readFileSync(f, 'utf8'))
    .join('\n')
}

/** Where packages come from: this machine's apt (its release), or a lab host's (`--lab HOST`: that host's release). */
let downloadFrom: (pkg: string, version: string, dir: string) => string = download
let candidateOf: (pkg: string) => string | undefined = (pkg) => versionIn(pkg, '')

function fetchPackage(pkg: string, version: string): { entries: Map<string, PathState>; scripts: string } {
  const dir = mkdtempSync(join(tmpdir(), `muster-verify-${pkg}-`))
  try {
    const deb = downloadFrom(pkg, version, dir)
    const root = join(dir, 'root')
    const entries = new Map(readDeb(deb, root).map((e) => [e.path, e.state]))
    return { entries, scripts: maintainerScripts(root) }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

function print(pkg: string, prefixes: string[]): void {
  const version = execFileSync('sh', ['-c', `LC_ALL=C apt-cache policy ${pkg} | sed -n 's/^  Candidate: //p'`], { encoding: 'utf8' }).trim()
  const { entries } = fetchPackage(pkg, version)
  console.log(`  // ${pkg} ${version}`)
  for (const [path, s] of entries) {
    if (!prefixes.some((p) => path.startsWith(p) || `${path}/` === p)) continue
    if (s.type === 'absent') continue
    const own = s.owner === 'root' && s.group === 'root' ? '' : `, '${s.owner}', '${s.group}'`
    if (s.type === 'directory') console.log(`    '${path}': dir('${s.mode}'${own}),`)
    else if (s.type === 'symlink') console.log(`    '${path}': link('${s.target}'),`)
    else if (s.type === 'file') console.log(`    '${path}': file('${s.mode}', ${s.size}, '${s.sha256}'${own}),`)
  }
}

/** The version apt-cache policy lists for `pkg` from `suite` ("bookworm/main": what a host without the security and updates suites installs). */
function versionIn(pkg: string, suite: string): string | undefined {
  const out = execFileSync('apt-cache', ['policy', pkg], { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } })
  let version: string | undefined
  for (const line of out.split('\n')) {
    const v = /^ (?:\*\*\*| {3}) (\S+) \d+$/.exec(line)
    if (v) version = v[1]
    else if (version && line.includes(` ${suite} `)) return version
  }
  return undefined
}

function verify(suite?: string, only: readonly string[] = [], onHost?: string): number {
  let bad = 0
  let notes = 0
  let checked = 0
  const versionOf = (pkg: string, facts: { verified: string }): string =>
    onHost ? (candidateOf(pkg) ?? facts.verified) : suite ? (versionIn(pkg, suite) ?? facts.verified) : facts.verified
  if (onHost) suite = onHost
  for (const p of only) if (!PACKAGE_TABLE[p]) throw new Error(`${p} is not in the table`)
  // the packages named (default: all) and their companions, whose scripts may enable their units
  const wanted = only.length ? [...new Set(only.flatMap((p) => [p, ...(PACKAGE_TABLE[p]!.with ?? [])]))] : Object.keys(PACKAGE_TABLE)
  const table = Object.entries(PACKAGE_TABLE).filter(([pkg]) => wanted.includes(pkg))
  const fetched = new Map(table.map(([pkg, facts]) => [pkg, fetchPackage(pkg, versionOf(pkg, facts))]))
  for (const [pkg, facts] of table) {
    const { entries } = fetched.get(pkg)!
    // a unit or user may come from a companion's scripts (nginx.service is enabled by nginx-common)
    const scripts = [pkg, ...(facts.with ?? [])].map((p) => fetched.get(p)?.scripts ?? '').join('\n')
    for (const [path, want] of Object.entries(facts.paths ?? {})) {
      checked++
      const got = entries.get(path)
      if (!got) {
        bad++
        console.log(`FAIL ${pkg}: ${path} is not in the package`)
        continue
      }
      // mtime is not predicted; everything else must match the .deb exactly
      const a = JSON.stringify({ ...got, mtime: 0 })
      const b = JSON.stringify({ ...want, mtime: 0 })
      const sameButContent = JSON.stringify({ ...got, mtime: 0, size: 0, sha256: '' }) === JSON.stringify({ ...want, mtime: 0, size: 0, sha256: '' })
      if (a !== b && suite && sameButContent && !path.startsWith('/etc/')) {
        // binaries and unit files change with every build; what the table predicts of them (there, a file,
        // mode, owner) holds across versions. Conffiles must not differ.
        notes++
        console.log(`note ${pkg}: ${path}: content differs in ${versionOf(pkg, facts)} (version-specific, not a conffile)`)
      } else if (a !== b) {
        bad++
        console.log(`FAIL ${pkg}: ${path}\n  table: ${b}\n  .deb:  ${a}`)
      }
    }
    for (const path of Object.keys(facts.created ?? {})) {
      checked++
      if (!scripts.includes(path) && !scripts.includes(path.slice(path.lastIndexOf('/') + 1))) {
        bad++
        console.log(`FAIL ${pkg}: ${path} is not mentioned by its maintainer scripts`)
      }
    }
    for (const user of Object.keys(facts.users ?? {})) {
      checked++
      if (!new RegExp(`(adduser|useradd)[^\\n]*(\\n[^\\n]*){0,8}\\b${user}\\b`).test(scripts)) {
        bad++
        console.log(`FAIL ${pkg}: no adduser/useradd of ${user} in its maintainer scripts`)
      }
    }
    for (const unit of Object.keys(facts.units ?? {})) {
      checked++
      const enabled = facts.units![unit]!.enabled
      // dh_installsystemd enables on first install in a block of its own; a block guarded by
      // "debian-installed" only re-enables a unit that was enabled before (a no-enable unit)
      const blocks = scripts.split('# Automatically added by ')
      const enables = blocks.some(
        (b) => b.includes(`deb-systemd-helper enable '${unit}'`) && !b.includes(`deb-systemd-helper debian-installed '${unit}'`),
      )
      if (enabled !== enables) {
        bad++
        console.log(`FAIL ${pkg}: ${unit} enabled=${enabled} disagrees with its postinst`)
      }
    }
    console.log(`${pkg} ${versionOf(pkg, facts)}: checked`)
  }
  console.log(`${edition.name}: ${checked} entries checked, ${bad} wrong${notes ? `, ${notes} with version-specific content` : ''}`)
  return bad
}

/**
 * Compare the predictions for installing `pkgs` with a host where they are
 * installed, through one read-only probe batch. A role that ran there may have
 * changed some files on purpose: the differences are printed for a person to judge.
 */
function compareWithHost(target: string, sshOpts: string[], pkgs: string[]): number {
  const preds = pkgs.flatMap((p) => installPredictions(p, { baseFiles: `${edition.baseFiles}` })).filter((p) => 'query' in p)
  const queries = preds.map((p) => p.query as FactQuery<unknown>)
  const batch = buildBatch(queries)
  const res = spawnSync('ssh', ['-o', 'BatchMode=yes', ...sshOpts, target, 'sh -s'], { input: batch.script, encoding: 'utf8' })
  if (res.status !== 0) throw new Error(`ssh ${target} exited ${res.status}: ${res.stderr}`)
  const got = parseBatch(batch, res.stdout)
  let differ = 0
  for (const p of preds) {
    const actual = got.get(factId(p.query)) as Record<string, unknown>
    if (isUnknown(p.value)) continue
    // mtime, uid/gid, pid and start time are not predicted
    const norm = (v: unknown): string =>
      JSON.stringify(v, (k, x) => (['mtime', 'uid', 'gid', 'mainPid', 'activeEnterMonotonic', 'version', 'arch', 'members'].includes(k) ? undefined : x))
    const same = norm(p.value) === norm(actual)
    if (!same) differ++
    console.log(`${same ? 'same' : 'DIFF'} ${p.query.kind.name} ${p.query.key}${same ? '' : `\n  predicted: ${norm(p.value)}\n  on host:   ${norm(actual)}`}`)
  }
  console.log(`${preds.length} predictions, ${differ} differ from ${target}`)
  return differ
}

const args = process.argv.slice(2)
const editionAt = args.indexOf('--edition')
const editionOf = (release: string): PackageEdition => {
  const e = PACKAGE_EDITIONS.find((x) => x.baseFiles === release)
  if (!e) throw new Error(`no edition of the package table for Debian ${release} (have ${PACKAGE_EDITIONS.map((x) => x.baseFiles).join(', ')})`)
  return e
}
let edition = editionOf(editionAt >= 0 ? args.splice(editionAt, 2)[1]! : baseFilesRelease(execFileSync('dpkg-query', ['-W', '-f=${Version}', 'base-files'], { encoding: 'utf8' })))
let PACKAGE_TABLE = edition.table
if (args[0] === '--host') {
  const target = args[1]!
  const rest = args.slice(2)
  const sshOpts: string[] = []
  while (rest[0]?.startsWith('--')) {
    const [flag, value] = [rest.shift()!, rest.shift()!]
    sshOpts.push(...(flag === '--identity' ? ['-i', value] : ['-o', `UserKnownHostsFile=${value}`]))
  }
  compareWithHost(target, sshOpts, rest)
  process.exit(0)
}
if (args[0] === '--print') {
  print(args[1]!, args.slice(2))
} else if (args[0] === '--lab') {
  // the table against the packages a lab host's release installs (`MUSTER_LAB_ID=N ... --lab web-01`):
  // its candidates, downloaded there (apt-get download, as on this machine), read here
  const host = args[1] ?? 'web-01'
  const { labExec } = await import('../../src/lab/exec.ts')
  const { writeFileSync } = await import('node:fs')
  const remote = async (command: string): Promise<string> => {
    const r = await labExec(host, command)
    if (r.code !== 0) throw new Error(`${host}: ${command}: ${r.stderr}`)
    return r.stdout
  }
  const os = (await remote('. /etc/os-release; echo "$PRETTY_NAME"')).trim()
  if (editionAt < 0) edition = editionOf(baseFilesRelease((await remote("dpkg-query -W -f='${Version}' base-files")).trim()))
  PACKAGE_TABLE = edition.table
  console.log(`against ${host}: ${os}; edition ${edition.name}`)
  await remote('DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null')
  const candidates = new Map<string, string>()
  const debs = new Map<string, Buffer>()
  for (const pkg of Object.keys(PACKAGE_TABLE)) {
    const v = (await remote(`LC_ALL=C apt-cache policy ${pkg} | sed -n 's/^  Candidate: //p'`)).trim()
    if (v && v !== '(none)') candidates.set(pkg, v)
    else continue
    const b64 = await remote(`d=$(mktemp -d) && cd "$d" && apt-get download -q ${pkg}=${v} >/dev/null 2>&1 && base64 -w0 ./*.deb; rc=$?; rm -rf "$d"; exit $rc`)
    debs.set(pkg, Buffer.from(b64.trim(), 'base64'))
  }
  candidateOf = (pkg) => candidates.get(pkg)
  downloadFrom = (pkg, version, dir) => {
    const deb = debs.get(pkg)
    if (!deb) throw new Error(`${host} has no candidate for ${pkg}`)
    const file = join(dir, `${pkg}_${version.replace(/:/g, '%3a')}_host.deb`)
    writeFileSync(file, deb)
    return file
  }
  process.exit(verify(undefined, args.slice(2), os) === 0 ? 0 : 1)
} else if (args[0] === '--suite') {
  // the table against the versions another suite holds (a host without security updates)
  process.exit(verify(args[1], args.slice(2)) === 0 ? 0 : 1)
} else {
  process.exit(verify(undefined, args) === 0 ? 0 : 1)
}
