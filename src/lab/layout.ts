import { join } from 'node:path'
import { UsageError } from '../core/errors.ts'

/**
 * Where the lab keeps things and what it calls them. Every name the lab
 * creates on the machine (netns, link, cgroup, mount point) is derived here,
 * so teardown and leftover sweeps find exactly what up made.
 */

/**
 * Several labs can run side by side on one machine: MUSTER_LAB_ID=N (0-9,
 * default 0) gives lab N its own subnet 10.(77+N).0.0/24, bridge, names,
 * proxy port and state dir, so parallel test runs never share hosts.
 */
export const labId = parseLabId(process.env.MUSTER_LAB_ID)

function parseLabId(v: string | undefined): number {
  if (v === undefined || v === '') return 0
  const n = Number(v)
  if (!Number.isInteger(n) || n < 0 || n > 9) throw new UsageError(`MUSTER_LAB_ID must be a whole number from 0 to 9, not "${v}"`)
  return n
}
const suffix = labId === 0 ? '' : String(labId)
const net = `10.${77 + labId}.0`

/** The lab's state dir: state.json, the client key, known_hosts, proxy config, hosts' disks. */
export function labDir(): string {
  return process.env.MUSTER_LAB_DIR ?? `/var/lib/muster/lab${labId === 0 ? '' : `-${labId}`}`
}

export const labFiles = {
  state: () => join(labDir(), 'state.json'),
  clientKey: () => join(labDir(), 'id_ed25519'),
  knownHosts: () => join(labDir(), 'known_hosts'),
  lock: () => join(labDir(), 'lock'),
  proxyConfig: () => join(labDir(), 'apt-proxy.json'),
  proxyLog: () => join(labDir(), 'apt-proxy.log'),
  /** Per-host identity (host keys, machine-id), kept across `down` so a name keeps its keys. */
  identity: (host: string) => join(labDir(), 'identity', host),
  hostsDir: () => join(labDir(), 'hosts'),
  host: (host: string) => join(labDir(), 'hosts', host),
}

export interface HostPaths {
  dir: string
  upper: string
  work: string
  root: string
  bootLog: string
}

export function hostPaths(host: string): HostPaths {
  const dir = labFiles.host(host)
  return { dir, upper: join(dir, 'upper'), work: join(dir, 'work'), root: join(dir, 'root'), bootLog: join(dir, 'boot.log') }
}

/** Base images are cached per machine, outside the lab dir, so `down` never costs a rebuild. */
export function baseCacheRoot(): string {
  return process.env.MUSTER_LAB_CACHE ?? '/var/cache/muster'
}

export const bridge = { name: `muster${labId}`, address: `${net}.1`, prefix: 24, subnet: `${net}.0/24` } as const
export const proxyPort = 3128 + labId

/** Host N (1-based) gets 10.(77+lab).0.(10+N): the bridge's /24 leaves room for 244 hosts. */
export const maxHosts = 244

export function hostAddress(index: number): string {
  return `${net}.${10 + index}`
}

export const netnsPrefix = `muster${suffix}-`
export const vethPrefix = labId === 0 ? 'mu-' : `m${labId}-`

export function netnsName(host: string): string {
  return `${netnsPrefix}${host}`
}

/** Controller end of the host's veth; Linux link names stop at 15 characters, hence the short prefix. */
export function vethName(host: string): string {
  return `${vethPrefix}${host}`
}

/** Name of the cgroup (under the machine's cgroup2 tree) that holds every process of one host. */
export const cgroupParent = `muster-lab${suffix}`

export const referenceHosts: readonly string[] = ['web-01', 'web-02', 'lb-01', 'db-03']

/** The reference four and a second balancer: inventory/lab.ts then gives the site a floating address with failover. */
export const haHosts: readonly string[] = [...referenceHosts, 'lb-02']

/** What `lab up` was asked for: `--ha` is the reference four plus lb-02; `--hosts N` a count. */
export function upSpec(args: { hosts?: number | undefined; ha?: boolean | undefined }): readonly string[] | number | undefined {
  if (args.ha && args.hosts !== undefined) throw new UsageError('--ha boots the reference hosts and lb-02: leave out --hosts')
  return args.ha ? haHosts : args.hosts
}

/** Lab host names double as link and netns names: short, lower case, DNS-safe. */
const hostNamePattern = /^[a-z0-9](?:[a-z0-9-]{0,10}[a-z0-9])?$/

/** The fleet asked for: the reference stack's four, `node-01..node-NN`, or names given. */
export function fleetNames(spec: readonly string[] | number | undefined): string[] {
  if (spec === undefined) return [...referenceHosts]
  if (typeof spec === 'number') {
    if (!Number.isInteger(spec) || spec < 1 || spec > maxHosts) throw new UsageError(`--hosts must be a whole number from 1 to ${maxHosts}, not ${spec}`)
    if (spec === referenceHosts.length) return [...referenceHosts]
    const width = Math.max(2, String(spec).length)
    return Array.from({ length: spec }, (_, i) => `node-${String(i + 1).padStart(width, '0')}`)
  }
  if (spec.length === 0) throw new UsageError('the lab needs at least one host')
  if (spec.length > maxHosts) throw new UsageError(`the lab holds at most ${maxHosts} hosts, not ${spec.length}`)
  const seen = new Set<string>()
  for (const name of spec) {
    if (!hostNamePattern.test(name)) {
      throw new UsageError(`lab host name "${name}": use 1-12 lower-case letters, digits and inner dashes (it also names a network link)`)
    }
    if (seen.has(name)) throw new UsageError(`lab host name "${name}" is given twice`)
    seen.add(name)
  }
  return [...spec]
}
