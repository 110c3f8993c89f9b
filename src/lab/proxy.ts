import { spawn } from 'node:child_process'
import { closeSync, existsSync, openSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { bridge, labDir, labFiles, proxyPort } from './layout.ts'
import { controllerEnv, run } from './command.ts'
import { LabError } from './errors.ts'
import { tool } from './preflight.ts'
import { cmdline, isAlive, killPid, sleep, waitGone } from './processes.ts'
import { canConnect } from './port-probe.ts'
import type { LabState } from './state.ts'

/**
 * The hosts' only way out: muster's own apt proxy (./apt-proxy.ts, which says
 * why it is not tinyproxy) on the bridge address, allowing the lab subnet, so
 * apt on a host reaches the machine's mirror. Run by `muster lab apt-proxy`,
 * detached, and tracked by its PID.
 */

export type ProxyRecord = NonNullable<LabState['proxy']>

export interface ProxyConfig {
  host: string
  port: number
  allow: string
}

/** Ours: alive, and run with the lab's config file (a PID can be reused by anything). */
export function isLabProxy(pid: number): boolean {
  const argv = cmdline(pid)
  if (!isAlive(pid)) return false
  if (argv.includes('apt-proxy') && argv.includes(labFiles.proxyConfig())) return true
  // a lab booted by muster 0.1, whose proxy was tinyproxy, is still ours to stop
  return (argv[0] ?? '').endsWith('tinyproxy') && argv.includes(join(labDir(), 'tinyproxy.conf'))
}

export function readProxyConfig(path: string): ProxyConfig {
  let c: Partial<ProxyConfig>
  try {
    c = JSON.parse(readFileSync(path, 'utf8')) as Partial<ProxyConfig>
  } catch (err) {
    throw new LabError(`cannot read the apt proxy's config ${path}: ${(err as Error).message}`)
  }
  if (typeof c.host !== 'string' || typeof c.port !== 'number' || typeof c.allow !== 'string') {
    throw new LabError(`${path}: an apt proxy config needs host, port and allow`)
  }
  return { host: c.host, port: c.port, allow: c.allow }
}

/** bin/muster.js of this copy of muster: the proxy runs as its own process, from src or dist alike. */
function musterBin(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (;;) {
    if (existsSync(join(dir, 'bin', 'muster.js')) && existsSync(join(dir, 'package.json'))) return join(dir, 'bin', 'muster.js')
    const up = dirname(dir)
    if (up === dir) throw new LabError('cannot find bin/muster.js above the lab code', 'run muster from its package or checkout')
    dir = up
  }
}

export async function ensureProxy(current: ProxyRecord | null, log: (line: string) => void): Promise<ProxyRecord> {
  if (current && isLabProxy(current.pid) && current.config === labFiles.proxyConfig() && (await canConnect(bridge.address, proxyPort, 1000))) return current
  if (current && isLabProxy(current.pid)) await stopPid(current.pid)
  await removeStrayProxy()
  const config: ProxyConfig = { host: bridge.address, port: proxyPort, allow: bridge.subnet }
  writeFileSync(labFiles.proxyConfig(), `${JSON.stringify(config, null, 2)}\n`)
  const out = openSync(labFiles.proxyLog(), 'a')
  const child = spawn(process.execPath, [musterBin(), 'lab', 'apt-proxy', labFiles.proxyConfig()], { detached: true, stdio: ['ignore', out, out], env: controllerEnv() })
  closeSync(out)
  child.unref()
  const pid = child.pid
  if (!pid) throw new LabError('the apt proxy did not start', `see ${labFiles.proxyLog()}`)
  for (let i = 0; i < 200; i++) {
    if (await canConnect(bridge.address, proxyPort, 200)) {
      log(`proxy for apt (pid ${pid}) on ${bridge.address}:${proxyPort}`)
      return { pid, address: bridge.address, port: proxyPort, config: labFiles.proxyConfig() }
    }
    if (!isAlive(pid)) break
    await sleep(50)
  }
  killPid(pid)
  throw new LabError(`the apt proxy did not listen on ${bridge.address}:${proxyPort}`, `see ${labFiles.proxyLog()}`)
}

async function stopPid(pid: number): Promise<void> {
  killPid(pid)
  const left = await waitGone([pid], 5000)
  if (left.length > 0) throw new LabError(`the apt proxy (pid ${pid}) did not stop`)
}

/** Stop the proxy recorded in state, if it is still ours. */
export async function stopProxy(current: ProxyRecord | null): Promise<void> {
  if (current && isLabProxy(current.pid)) await stopPid(current.pid)
  await removeStrayProxy()
}

/**
 * A proxy of an earlier run whose state was lost still holds the port (even
 * with its bridge gone). Found by the socket, not by name: whatever listens
 * on the lab's proxy address. Ours is stopped; anything else is an error,
 * since the lab cannot share its port.
 */
async function removeStrayProxy(): Promise<void> {
  const r = await run(tool('ss'), ['-Hltnp', 'src', `${bridge.address}:${proxyPort}`])
  const pids = [...r.stdout.matchAll(/pid=(\d+)/g)].map((m) => Number(m[1]))
  for (const pid of new Set(pids)) {
    if (!isLabProxy(pid)) {
      throw new LabError(`${bridge.address}:${proxyPort} is taken by pid ${pid} (${cmdline(pid).join(' ')})`, 'the lab needs that port for its apt proxy: stop that process')
    }
    await stopPid(pid)
  }
}
