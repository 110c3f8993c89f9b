import { readFileSync, writeFileSync } from 'node:fs'
import pLimit from 'p-limit'
import { bridge, fleetNames, hostAddress } from './layout.ts'
import { assertLabSupport, ensureTools } from './preflight.ts'
import { ensureBaseImage } from './base-image.ts'
import { ensureClientKey, ensureHostIdentity, knownHostsText, writeKnownHosts, type HostIdentity } from './ssh-trust.ts'
import { ensureBridge } from './network.ts'
import { ensureProxy } from './proxy.ts'
import { destroyHost, hostIsUp, startHost, stopHost, waitHostReady, wipeHost, type BootRequest, type Readiness } from './host.ts'
import { writeHostsFile, type FleetEntry } from './host-disk.ts'
import { findLabTraces } from './leftovers.ts'
import { readState, writeState, type LabHostState, type LabState } from './state.ts'
import { withLabLock } from './lock.ts'
import { LabError } from './errors.ts'
import { quiet, type LabLog } from './log.ts'
import { chooseLabSuite, type LabSuite } from './suite.ts'


export interface LabUpOptions {
  /** Host names, or a count (4 gives the reference stack's web-01 web-02 lb-01 db-03, any other N gives node-01..node-NN). Default: the fleet that is up, else the reference four. */
  hosts?: readonly string[] | number
  /** The Debian release: else MUSTER_LAB_SUITE, else the one running, else trixie. Changing it boots every host afresh. */
  suite?: LabSuite
  log?: LabLog
}

export interface LabHostReport {
  name: string
  address: string
  /** booted now, or already up and kept */
  action: 'booted' | 'kept'
  /** launch until sshd answered, for hosts booted now */
  bootMs?: number
  system?: string
  failed?: string[]
}

export interface LabUpResult {
  state: LabState
  hosts: LabHostReport[]
  /** Whole `up`, tools and base image included. */
  ms: number
  baseBuilt: boolean
}

/**
 * Make the lab be exactly this fleet, booted and answering SSH: keep hosts
 * that are up, bring back hosts that died (their disks kept), boot missing
 * ones, remove hosts not asked for and anything an earlier run left behind.
 * A second `up` finds everything up and returns.
 */
export async function labUp(opts: LabUpOptions = {}): Promise<LabUpResult> {
  await assertLabSupport() // before the lock: its file is in a directory only root may write
  return withLabLock('bring the lab up', () => up(opts))
}

async function up(opts: LabUpOptions): Promise<LabUpResult> {
  const log = opts.log ?? quiet
  const t0 = Date.now()
  await ensureTools(log)
  const prev = readStateOrNothing(log)
  const names = fleetNames(opts.hosts ?? prev?.hosts.map((h) => h.name))
  const fleet: FleetEntry[] = names.map((name, i) => ({ name, address: hostAddress(i + 1) }))
  if (fleet.length > 16) raiseInotifyLimits(log)

  const suite = chooseLabSuite(opts.suite, prev ? (prev.suite ?? 'bookworm') : undefined)
  const { dir: base, built: baseBuilt } = await ensureBaseImage(suite, log)
  const clientPublicKey = await ensureClientKey()
  const identities = new Map<string, HostIdentity>()
  await Promise.all(fleet.map(async (h) => identities.set(h.name, await ensureHostIdentity(h.name))))
  writeKnownHosts(knownHostsText(fleet.map((h) => ({ ...h, publicKeys: identities.get(h.name)!.publicKeys }))))

  const kept = await hostsToKeep(prev, base, fleet)
  await clearTheRest(prev, base, fleet, kept, log)
  await ensureBridge()
  const proxy = await ensureProxy(prev?.proxy ?? null, log)

  const state: LabState = { version: 1, suite, base, bridge: { name: bridge.name, address: bridge.address, prefix: bridge.prefix }, proxy, hosts: [] }
  const save = (): void => {
    state.hosts.sort((a, b) => names.indexOf(a.name) - names.indexOf(b.name)) // fleet order, as asked
    writeState(state)
  }
  for (const h of kept.values()) {
    writeHostsFile(h.overlay.root, fleet) // the fleet may have changed around it
    state.hosts.push(h)
  }
  save()

  const toBoot = fleet.filter((f) => !kept.has(f.name))
  if (toBoot.length > 0) log(`booting ${toBoot.map((h) => h.name).join(' ')}`)
  const booted = await bootHosts(toBoot, (f) => ({ ...f, base, identity: identities.get(f.name)!, clientPublicKey, fleet }), (h) => {
    state.hosts.push(h)
    save() // recorded the moment it exists, so a failure later still leaves it findable by `down`
  })
  save()
  for (const r of booted.reports) {
    if (r.system !== 'running') log(`${r.name}: systemd is ${r.system}${r.failed?.length ? ` (failed: ${r.failed.join(', ')})` : ''}`)
  }
  if (booted.failures.length > 0) {
    throw new LabError(`${booted.failures.length} host(s) did not come up:\n${booted.failures.join('\n')}`, 'run `muster lab down` to clean up, then try again')
  }
  const reports = [...booted.reports, ...[...kept.values()].map((h): LabHostReport => ({ name: h.name, address: h.address, action: 'kept' }))]
  reports.sort((a, b) => names.indexOf(a.name) - names.indexOf(b.name))
  return { state, hosts: reports, ms: Date.now() - t0, baseBuilt }
}

/** Hosts of the last `up` that are still fully up, at the same address, on the same base: left as they are. */
async function hostsToKeep(prev: LabState | undefined, base: string, fleet: readonly FleetEntry[]): Promise<Map<string, LabHostState>> {
  const kept = new Map<string, LabHostState>()
  if (!prev || prev.base !== base) return kept
  const candidates = prev.hosts.filter((h) => fleet.some((f) => f.name === h.name && f.address === h.address))
  const alive = await Promise.all(candidates.map(async (h) => ((await hostIsUp(h)) ? h : undefined)))
  for (const h of alive) if (h) kept.set(h.name, h)
  return kept
}

/**
 * Everything else of the lab on the machine, recorded or left over: hosts
 * not in the fleet go entirely, the fleet's other hosts are stopped down to
 * their disks (kept, like a crashed server's) to be booted again.
 */
async function clearTheRest(prev: LabState | undefined, base: string, fleet: readonly FleetEntry[], kept: ReadonlyMap<string, LabHostState>, log: LabLog): Promise<void> {
  const traces = await findLabTraces()
  const recorded = new Map(prev?.hosts.map((h) => [h.name, h]))
  const limit = pLimit(8)
  await Promise.all(
    traces.hosts
      .filter((name) => !kept.has(name))
      .map((name) =>
        limit(async () => {
          const rec = recorded.get(name)
          if (!fleet.some((f) => f.name === name)) {
            log(`removing ${name} (not in the fleet)`)
            await destroyHost(name, rec)
          } else if (prev && prev.base !== base) {
            await wipeHost(name, rec) // its disk was made over another base image
          } else {
            if (rec) log(`${name} is down: bringing it back`)
            await stopHost(name, rec)
          }
        }),
      ),
  )
}

/** Start hosts (a few at a time: each start runs several tools), then wait for all of them to answer. */
async function bootHosts(
  toBoot: readonly FleetEntry[],
  request: (f: FleetEntry) => BootRequest,
  onStarted: (h: LabHostState) => void,
): Promise<{ reports: LabHostReport[]; failures: string[] }> {
  const limit = pLimit(8)
  const launches = await Promise.allSettled(
    toBoot.map((f) =>
      limit(async () => {
        const h = await startHost(request(f))
        onStarted(h)
        return h
      }),
    ),
  )
  const failures = launches.flatMap((l) => (l.status === 'rejected' ? [(l.reason as Error).message] : []))
  const started = launches.flatMap((l) => (l.status === 'fulfilled' ? [l.value] : []))
  const timeoutMs = 60_000 + 2_000 * toBoot.length
  const ready = await Promise.allSettled(started.map((h) => waitHostReady(h, timeoutMs)))
  const reports: LabHostReport[] = []
  started.forEach((h, i) => {
    const r = ready[i]
    if (r.status === 'rejected') {
      failures.push((r.reason as Error).message)
      return
    }
    h.bootMs = r.value.bootMs
    reports.push(report(h, r.value))
  })
  return { reports, failures }
}

function report(h: LabHostState, r: Readiness): LabHostReport {
  return { name: h.name, address: h.address, action: 'booted', bootMs: r.bootMs, system: r.system, failed: r.failed }
}

function readStateOrNothing(log: LabLog): LabState | undefined {
  try {
    return readState()
  } catch (err) {
    // a broken state file is a leftover like any other: the sweep finds what it described
    log(`ignoring ${(err as Error).message.split('\n')[0]}`)
    return undefined
  }
}

/** Every booted host's systemd, journald and dbus take inotify instances; the default 128 runs out near 25 hosts. */
function raiseInotifyLimits(log: LabLog): void {
  const want: Record<string, number> = { max_user_instances: 8192, max_user_watches: 1_048_576 }
  for (const [key, value] of Object.entries(want)) {
    const file = `/proc/sys/fs/inotify/${key}`
    const current = Number(readFileSync(file, 'utf8').trim())
    if (current < value) {
      writeFileSync(file, String(value))
      log(`raised fs.inotify.${key} from ${current} to ${value} for a large fleet`)
    }
  }
}
