import { existsSync, readFileSync } from 'node:fs'
import { bridge, netnsName, netnsPrefix, vethName, vethPrefix } from './layout.ts'
import { run, runOk } from './command.ts'
import { LabError } from './errors.ts'
import { tool } from './preflight.ts'

/**
 * The lab's network: a bridge on the controller holding the gateway address,
 * and per host a network namespace whose eth0 is one end of a veth pair
 * plugged into the bridge. Nothing is routed beyond the bridge.
 */

const ip = (args: readonly string[], host?: string): Promise<string> => runOk(tool('ip'), args, { host })

export function linkExists(name: string): boolean {
  return existsSync(`/sys/class/net/${name}`)
}

export async function ensureBridge(): Promise<void> {
  if (linkExists(bridge.name) && !existsSync(`/sys/class/net/${bridge.name}/bridge`)) {
    throw new LabError(`a network link named ${bridge.name} exists and is not a bridge`, `it is not the lab's; remove it (ip link del ${bridge.name}) if you know what it is`)
  }
  if (!linkExists(bridge.name)) await ip(['link', 'add', bridge.name, 'address', labMac(bridge.address), 'type', 'bridge'])
  else await ip(['link', 'set', bridge.name, 'address', labMac(bridge.address)])
  const addrs = await ip(['-o', '-4', 'addr', 'show', 'dev', bridge.name])
  if (!addrs.includes(` ${bridge.address}/${bridge.prefix} `)) await ip(['addr', 'add', `${bridge.address}/${bridge.prefix}`, 'dev', bridge.name])
  await ip(['link', 'set', bridge.name, 'up'])
}

export async function removeBridge(): Promise<void> {
  if (linkExists(bridge.name)) await ip(['link', 'del', bridge.name])
}

/**
 * A fixed MAC per lab address. A host that comes back (reset, crash, `up`)
 * keeps its MAC, so the ARP caches of the controller and the other hosts stay
 * right; with a new random MAC they would send to the old one for up to half
 * a minute. Likewise the bridge's own, which would otherwise follow its ports.
 */
export function labMac(address: string): string {
  const octets = address.split('.').map(Number)
  const hex = (n: number): string => n.toString(16).padStart(2, '0')
  return `02:4d:${octets.map(hex).join(':')}`
}

export async function createHostNetwork(host: string, address: string): Promise<void> {
  const ns = netnsName(host)
  const veth = vethName(host)
  await ip(['netns', 'add', ns], host)
  await ip(['link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'address', labMac(address), 'netns', ns], host)
  await ip(['link', 'set', veth, 'master', bridge.name, 'up'], host)
  await ip(['-n', ns, 'link', 'set', 'lo', 'up'], host)
  await ip(['-n', ns, 'addr', 'add', `${address}/${bridge.prefix}`, 'dev', 'eth0'], host)
  await ip(['-n', ns, 'link', 'set', 'eth0', 'up'], host)
  await ip(['-n', ns, 'route', 'add', 'default', 'via', bridge.address], host)
}

/** Delete the namespace (its eth0 and so the veth pair go with it) and a veth that outlived it. */
export async function removeHostNetwork(host: string): Promise<void> {
  const ns = netnsName(host)
  if ((await listLabNetns()).includes(ns)) await ip(['netns', 'del', ns], host)
  const veth = vethName(host)
  if (linkExists(veth)) await run(tool('ip'), ['link', 'del', veth])
}

export function netnsPath(host: string): string {
  return `/run/netns/${netnsName(host)}`
}

/** Lab namespaces present on the machine (ours or left over). */
export async function listLabNetns(): Promise<string[]> {
  const out = await ip(['netns', 'list'])
  return out
    .split('\n')
    .map((l) => l.split(' ')[0])
    .filter((n) => n.startsWith(netnsPrefix))
}

/** Controller-side veths of the lab present on the machine. */
export function listLabVeths(): string[] {
  const dev = readFileSync('/proc/net/dev', 'utf8')
  return dev
    .split('\n')
    .slice(2)
    .map((l) => l.split(':')[0].trim())
    .filter((n) => n.startsWith(vethPrefix))
}

/** PIDs of every process whose network namespace is this lab netns. */
export async function netnsPids(ns: string): Promise<number[]> {
  const r = await run(tool('ip'), ['netns', 'pids', ns])
  return r.code === 0 ? r.stdout.split(/\s+/).filter(Boolean).map(Number) : []
}

/**
 * Cut a host off the network, or plug it back: its veth's controller end is
 * set down (or up), so nothing reaches it, from the controller or from the
 * other hosts, as if its cable were pulled. Its processes run on.
 */
export async function setHostLinkUp(host: string, up: boolean): Promise<void> {
  const veth = vethName(host)
  if (!linkExists(veth)) throw new LabError(`it has no link ${veth} (is it up?)`, 'bring it up with `muster lab up`', host)
  await ip(['link', 'set', veth, up ? 'up' : 'down'], host)
}
