import { createHash } from 'node:crypto'
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type { HostInfo } from '../inventory/types.ts'
import { endpointOf, type Endpoint } from '../ssh/endpoint.ts'

/**
 * Which hosts to start connecting to before the playbook and inventory load.
 *
 * A converged check is mostly SSH handshakes and one probe per host; loading
 * the playbook, its roles and the inventory comes first and used to delay
 * every handshake. Each apply or check now records, in the state directory,
 * the endpoints it connected to, keyed by what selects the hosts (directory,
 * playbook, inventory, --limit, --shard, the lab's id) and guarded by the
 * mtime and size of every source file of the playbook and inventory. The next
 * run with the same key and unchanged files connects to those endpoints at
 * once; the pool hands a connection to the run only if the host it loads has
 * exactly that endpoint, and closes the rest unused.
 *
 * Never preconnected: hosts with a password or key passphrase, or behind a
 * bastion (endpointOf), runs with --rerun or --workers, and any run with
 * MUSTER_PRECONNECT=0. The file holds no secret: names, addresses, ports,
 * users and the paths of key and known_hosts files.
 */
export interface PreconnectKey {
  playbook: string
  inventory: string
  limit?: string | undefined
  shard?: string | undefined
}

interface Entry {
  key: string
  files: [string, number, number][]
  hosts: Endpoint[]
}

const FILE = 'preconnect.json'
/** Entries kept: one per playbook/inventory/selection a project runs, newest first. */
const KEEP = 8

export function preconnectOn(): boolean {
  return process.env.MUSTER_PRECONNECT !== '0'
}

export function preconnectKey(k: PreconnectKey, cwd = process.cwd(), env: NodeJS.ProcessEnv = process.env): string {
  // the lab's inventory picks its hosts by these: a run on another lab must not reach this one's
  const parts = [resolve(cwd), resolve(cwd, k.playbook), resolve(cwd, k.inventory), k.limit ?? null, k.shard ?? null, env.MUSTER_LAB_ID ?? null, env.MUSTER_LAB_DIR ?? null]
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 24)
}

/** The endpoints the last run with this key connected to, if none of its source files changed since. */
export function readPreconnect(dir: string, key: string): Endpoint[] {
  const entry = readEntries(dir).find((e) => e.key === key)
  if (!entry || !unchanged(entry.files)) return []
  return entry.hosts
}

/**
 * Record this run's endpoints for the next run with the same key. `files`:
 * what the run loaded, as [path, mtime, size] when it was read (a module's
 * compiled inputs), or a path to stat now (an INI or YAML inventory).
 */
export function writePreconnect(dir: string, key: string, files: readonly (string | [string, number, number])[], hosts: readonly HostInfo[]): void {
  const endpoints = hosts.map(endpointOf).filter((e): e is Endpoint => e !== undefined)
  const byPath = new Map<string, [string, number, number] | undefined>()
  for (const f of files) {
    if (typeof f !== 'string') byPath.set(f[0], f)
    else if (!byPath.has(resolve(f))) byPath.set(resolve(f), stamp(f))
  }
  const stamped = [...byPath.values()]
  const entries = readEntries(dir).filter((e) => e.key !== key)
  if (endpoints.length > 0 && stamped.every((s) => s !== undefined)) entries.unshift({ key, files: stamped as [string, number, number][], hosts: endpoints })
  const file = join(dir, FILE)
  const tmp = `${file}.${process.pid}.tmp`
  try {
    mkdirSync(dir, { recursive: true })
    writeFileSync(tmp, JSON.stringify({ version: 1, entries: entries.slice(0, KEEP) }) + '\n', { mode: 0o600 })
    renameSync(tmp, file)
  } catch {
    // a hint is only a head start: a run that did its work never fails for want of one
    try {
      rmSync(tmp, { force: true })
    } catch {
      // nothing was written there either
    }
  }
}

function readEntries(dir: string): Entry[] {
  try {
    const parsed = JSON.parse(readFileSync(join(dir, FILE), 'utf8')) as { version?: number; entries?: Entry[] }
    return parsed.version === 1 && Array.isArray(parsed.entries) ? parsed.entries : []
  } catch {
    return [] // none yet, or unreadable: this run connects as usual
  }
}

function stamp(file: string): [string, number, number] | undefined {
  try {
    const st = statSync(file)
    return [resolve(file), st.mtimeMs, st.size]
  } catch {
    return undefined
  }
}

function unchanged(files: readonly [string, number, number][]): boolean {
  return files.length > 0 && files.every(([f, mtime, size]) => {
    const now = stamp(f)
    return now !== undefined && now[1] === mtime && now[2] === size
  })
}
