import { createHash } from 'node:crypto'
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type { HostInfo } from '../inventory/types.ts'
import { endpointOf, type Endpoint } from '../ssh/endpoint.ts'
import type { SendAhead } from '../ssh/connection.ts'
import { READ_ONLY_HEADER, remarkProbe } from '../engine/probe-batch.ts'
import { containsSecret } from '../core/secret.ts'

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
 *
 * It also holds each host's first probe script of that run, sealed (seal.ts)
 * by the key the connection logged in with, so the next run can send it on the
 * channel opened ahead and the host answers while the playbook loads; the run
 * takes that answer only if the probe it plans is the same script. Only a
 * read-only probe in which no secret appears is kept, up to 256 KiB.
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
  /** host name -> its first probe, sealed */
  probes?: Record<string, SealedProbe>
}

export interface SealedProbe {
  script: string
  seal: string
}

/** What a probe sent ahead may weigh: a converged check's is a few KiB per host. */
const MAX_PROBE = 256 * 1024

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

/** The endpoints, and the first probes to send ahead on them, of the last run with this key, if none of its source files changed since. */
export function readPreconnectHint(dir: string, key: string): { hosts: Endpoint[]; probes: Record<string, SealedProbe> } {
  const entry = readEntries(dir).find((e) => e.key === key)
  if (!entry || !unchanged(entry.files)) return { hosts: [], probes: {} }
  return { hosts: entry.hosts, probes: entry.probes ?? {} }
}

/** For ConnectionPool.preconnect: each host's recorded probe, to be checked against its seal and sent with a fresh marker. */
export function sendAheadOf(probes: Readonly<Record<string, SealedProbe>>): (host: string) => SendAhead | undefined {
  return (host) => {
    const p = Object.hasOwn(probes, host) ? probes[host] : undefined
    return p && typeof p.script === 'string' && typeof p.seal === 'string' ? { script: p.script, seal: p.seal, prepare: remarkProbe } : undefined
  }
}

/**
 * The first probes worth keeping for the next run: read-only, with no secret
 * in them, not too large, and sealed by the connection that sent them.
 */
export function sealedProbes(first: ReadonlyMap<string, string>, seal: (host: string, script: string) => string | undefined): Record<string, SealedProbe> {
  const out: Record<string, SealedProbe> = {}
  for (const [host, script] of first) {
    if (!script.startsWith(READ_ONLY_HEADER) || Buffer.byteLength(script) > MAX_PROBE || containsSecret(script)) continue
    const s = seal(host, script)
    if (s !== undefined) out[host] = { script, seal: s }
  }
  return out
}

/**
 * Record this run's endpoints for the next run with the same key. `files`:
 * what the run loaded, as [path, mtime, size] when it was read (a module's
 * compiled inputs), or a path to stat now (an INI or YAML inventory).
 */
export function writePreconnect(
  dir: string,
  key: string,
  files: readonly (string | [string, number, number])[],
  hosts: readonly HostInfo[],
  probes: Readonly<Record<string, SealedProbe>> = {},
): void {
  const endpoints = hosts.map(endpointOf).filter((e): e is Endpoint => e !== undefined)
  const byPath = new Map<string, [string, number, number] | undefined>()
  for (const f of files) {
    if (typeof f !== 'string') byPath.set(f[0], f)
    else if (!byPath.has(resolve(f))) byPath.set(resolve(f), stamp(f))
  }
  const stamped = [...byPath.values()]
  const entries = readEntries(dir).filter((e) => e.key !== key)
  const kept = Object.fromEntries(Object.entries(probes).filter(([host]) => endpoints.some((e) => e.name === host)))
  if (endpoints.length > 0 && stamped.every((s) => s !== undefined))
    entries.unshift({ key, files: stamped as [string, number, number][], hosts: endpoints, ...(Object.keys(kept).length > 0 ? { probes: kept } : {}) })
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
