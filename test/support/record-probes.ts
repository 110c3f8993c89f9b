/**
 * Records probe fixtures: the raw stdout of a fact kind's script for given keys,
 * run on a real host through a Connection, and reads them back for plan tests.
 *
 *   npx tsx test/support/record-probes.ts          # path + file-content fixtures, on this machine (root)
 *
 * Against a lab host, call recordFileFixtures(conn) with that host's
 * Connection: the scenario is built there by the same shell script.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import type { FactKind } from '../../src/contract/fact.ts'
import { emptyStats, type Connection } from '../../src/ssh/connection.ts'
import { labExec } from '../../src/lab/exec.ts'
import { LocalConnection } from '../../src/ssh/local-connection.ts'
import { pathFact, pathStatFact } from '../../src/facts/path.ts'
import { fileContentFact } from '../../src/facts/file-content.ts'
import { twinPath } from './fixture-release.ts'

export const FIXTURES_DIR = fileURLToPath(new URL('../fixtures/probes/', import.meta.url))

export interface FixtureMeta {
  kind: string
  keys: string[]
  code: number
  host: string
  os: string
  recordedAt: string
}

/** Run `kind.script(keys)` on the host and write `<dir>/<name>.txt` (raw stdout) and `<name>.meta.json`. */
export async function recordProbe(
  conn: Connection,
  kind: FactKind<unknown>,
  keys: string[],
  dir: string,
  name: string,
): Promise<FixtureMeta> {
  const res = await conn.exec(kind.script(keys))
  kind.parse(res.stdout, keys, res.code) // a fixture that does not parse is not worth keeping
  const os = (await conn.exec('. /etc/os-release && echo "$PRETTY_NAME ($(cat /etc/debian_version 2>/dev/null))"')).stdout.trim()
  const meta: FixtureMeta = { kind: kind.name, keys, code: res.code, host: conn.host, os, recordedAt: new Date().toISOString() }
  await mkdir(join(FIXTURES_DIR, dir), { recursive: true })
  await writeFile(join(FIXTURES_DIR, dir, `${name}.txt`), res.stdout)
  await writeFile(join(FIXTURES_DIR, dir, `${name}.meta.json`), `${JSON.stringify(meta, null, 2)}\n`)
  return meta
}

/** A lab host as a Connection for recorders (exec only, as root, not through sshd). */
export function labConnection(host: string): Connection {
  return {
    host,
    stats: emptyStats(),
    exec: (command, opts = {}) => labExec(host, command, { ...(opts.stdin !== undefined ? { stdin: String(opts.stdin) } : {}) }),
    put: () => Promise.reject(new Error('not needed')),
    get: () => Promise.reject(new Error('not needed')),
    close: async () => {},
  }
}

/** Ask the host now, as the engine's batch would: one script, then parse. For apply tests. */
export async function probeNow<T>(conn: Connection, kind: FactKind<T>, keys: string[]): Promise<Map<string, T>> {
  const res = await conn.exec(kind.script(keys))
  return kind.parse(res.stdout, keys, res.code)
}

export interface LoadedFixture<T> {
  meta: FixtureMeta
  stdout: string
  /** kind.parse of the recorded stdout */
  values: Map<string, T>
  /** The value of the only key (or of `key`). */
  value(key?: string): T
}

/** Read a recorded fixture back (as recorded on the release plan tests read right now: fixture-release.ts) and parse it with `kind`, as the engine would. */
export async function loadFixture<T>(kind: FactKind<T>, dir: string, name: string): Promise<LoadedFixture<T>> {
  const at = twinPath(dir, name)
  const stdout = await readFile(join(FIXTURES_DIR, at, `${name}.txt`), 'utf8')
  const meta = JSON.parse(await readFile(join(FIXTURES_DIR, at, `${name}.meta.json`), 'utf8')) as FixtureMeta
  if (meta.kind !== kind.name) throw new Error(`fixture ${dir}/${name} was recorded for ${meta.kind}, not ${kind.name}`)
  const values = kind.parse(stdout, meta.keys, meta.code)
  return {
    meta,
    stdout,
    values,
    value(key?: string): T {
      const k = key ?? meta.keys[0]
      if (!values.has(k)) throw new Error(`fixture ${dir}/${name} has no key ${k}`)
      return values.get(k) as T
    },
  }
}

/** Where the file scenario lives on the host; fixed, so fixtures' keys are stable. */
export const SCENARIO = '/tmp/muster-probe-fixtures'

/**
 * The files the path and file-content fixtures describe. Run as root (a file
 * is given to uid 12345, which has no name). mtimes are fixed so fixtures
 * recorded twice are alike.
 */
export const SCENARIO_SETUP = `set -eu
R=${SCENARIO}
rm -rf "$R"; mkdir -p "$R"; cd "$R"
printf 'listen 80;\\n' > app.conf; chmod 0644 app.conf
printf 'secret=1\\n' > private.key; chmod 0600 private.key
printf '#!/bin/sh\\necho hi\\n' > suid-tool; chmod 4755 suid-tool
printf 'nobody knows\\n' > orphan; chown 12345:12345 orphan
printf 'server_name example.org;\\n' > 'my site.conf'
mkdir etc-dir; chgrp adm etc-dir; chmod 2750 etc-dir
ln -s app.conf app-link
ln -s "$R/nowhere" dangling
mkfifo pipe
printf '# hosts\\n127.0.0.1 localhost\\nPermitRootLogin yes\\n' > lines.txt
printf '[client]\\nport = 3306\\n\\n[mysqld]\\nserver_id = 1\\nlog_bin\\n# bind-address = 127.0.0.1\\n' > my.cnf
printf 'no final newline' > nonl.txt
printf 'MZ\\000\\001\\377binary' > blob.bin
: > empty
: > 'back\\slash'; : > "it's"
touch -h -d '2024-01-01 00:00:00 UTC' * etc-dir "$R"
`

type Kind = FactKind<unknown>
const P = (n: string): string => `${SCENARIO}/${n}`

/** name -> keys, for each kind. */
export const FILE_FIXTURES: { dir: string; kind: Kind; name: string; keys: string[] }[] = [
  ...(
    [
      ['file-0644', ['app.conf']],
      ['file-0600', ['private.key']],
      ['setuid-4755', ['suid-tool']],
      ['numeric-owner', ['orphan']],
      ['space-name', ['my site.conf']],
      ['directory', ['etc-dir']],
      ['symlink', ['app-link']],
      ['dangling-symlink', ['dangling']],
      ['absent', ['missing', 'app.conf/under-a-file']],
      ['fifo', ['pipe']],
      ['odd-names', ['my site.conf', 'back\\slash', "it's"]],
      ['edit-targets', ['lines.txt', 'my.cnf', 'nonl.txt', 'missing.cnf']],
      [
        'batch',
        ['app.conf', 'private.key', 'suid-tool', 'orphan', 'my site.conf', 'etc-dir', 'app-link', 'dangling', 'missing', 'pipe', 'blob.bin', 'empty'],
      ],
    ] as const
  ).map(([name, keys]) => ({ dir: 'path', kind: pathFact as Kind, name, keys: keys.map(P) })),
  {
    dir: 'path-stat',
    kind: pathStatFact as Kind,
    name: 'batch',
    keys: ['app.conf', 'private.key', 'suid-tool', 'orphan', 'my site.conf', 'etc-dir', 'app-link', 'dangling', 'missing', 'pipe', 'blob.bin', 'empty'].map(P),
  },
  ...(
    [
      ['text', ['app.conf']],
      ['absent', ['missing']],
      ['edit-targets', ['lines.txt', 'my.cnf', 'nonl.txt', 'missing.cnf']],
      ['batch', ['app.conf', 'my site.conf', 'missing', 'etc-dir', 'app-link', 'dangling', 'blob.bin', 'empty']],
    ] as const
  ).map(([name, keys]) => ({ dir: 'file-content', kind: fileContentFact as Kind, name, keys: keys.map(P) })),
]

export async function recordFileFixtures(conn: Connection): Promise<FixtureMeta[]> {
  const setup = await conn.exec(SCENARIO_SETUP)
  if (setup.code !== 0) throw new Error(`${conn.host}: scenario setup failed (${setup.code}): ${setup.stderr}`)
  const out: FixtureMeta[] = []
  for (const f of FILE_FIXTURES) out.push(await recordProbe(conn, f.kind, f.keys, f.dir, f.name))
  await conn.exec(`rm -rf ${SCENARIO}`)
  return out
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const conn = new LocalConnection(process.env.HOSTNAME ?? 'localhost')
  const metas = await recordFileFixtures(conn)
  for (const m of metas) console.log(`${m.kind}: ${m.keys.length} key(s), exit ${m.code}`)
  console.log(`recorded ${metas.length} fixtures under ${dirname(FIXTURES_DIR)}/probes`)
}
