import { spawn } from 'node:child_process'
import { closeSync, openSync, writeFileSync } from 'node:fs'
import { bridge, labFiles, proxyPort } from './layout.ts'
import { controllerEnv, run } from './command.ts'
import { LabError } from './errors.ts'
import { tool } from './preflight.ts'
import { cmdline, isAlive, killPid, sleep, waitGone } from './processes.ts'
import { canConnect } from './port-probe.ts'
import type { LabState } from './state.ts'

/**
 * The hosts' only way out: Debian's tinyproxy on the bridge address, allowing
 * the lab subnet, so apt on a host reaches the machine's mirror. Started by
 * the lab in the foreground, detached, and tracked by its PID.
 */

export type ProxyRecord = NonNullable<LabState['proxy']>

/** Ours: alive, tinyproxy, and run with the lab's config file (a PID can be reused by anything). */
export function isLabProxy(pid: number): boolean {
  const argv = cmdline(pid)
  return isAlive(pid) && (argv[0] ?? '').endsWith('tinyproxy') && argv.includes(labFiles.proxyConfig())
}

export async function ensureProxy(current: ProxyRecord | null, log: (line: string) => void): Promise<ProxyRecord> {
  if (current && isLabProxy(current.pid) && (await canConnect(bridge.address, proxyPort, 1000))) return current
  if (current && isLabProxy(current.pid)) await stopPid(current.pid)
  await removeStrayProxy()
  writeFileSync(labFiles.proxyConfig(), proxyConfig())
  const out = openSync(labFiles.proxyLog(), 'a')
  const child = spawn(tool('tinyproxy'), ['-d', '-c', labFiles.proxyConfig()], { detached: true, stdio: ['ignore', out, out], env: controllerEnv() })
  closeSync(out)
  child.unref()
  const pid = child.pid
  if (!pid) throw new LabError('tinyproxy did not start', `see ${labFiles.proxyLog()}`)
  for (let i = 0; i < 100; i++) {
    if (await canConnect(bridge.address, proxyPort, 200)) {
      log(`proxy for apt: tinyproxy (pid ${pid}) on ${bridge.address}:${proxyPort}`)
      return { pid, address: bridge.address, port: proxyPort, config: labFiles.proxyConfig() }
    }
    if (!isAlive(pid)) break
    await sleep(50)
  }
  killPid(pid)
  throw new LabError(`tinyproxy did not listen on ${bridge.address}:${proxyPort}`, `see ${labFiles.proxyLog()}`)
}

function proxyConfig(): string {
  return [
    '# written by `muster lab`: the lab hosts reach the apt mirror through this proxy only',
    'User nobody',
    'Group nogroup',
    `Port ${proxyPort}`,
    `Listen ${bridge.address}`,
    'Timeout 600',
    'MaxClients 200',
    'LogLevel Warning',
    `Allow ${bridge.subnet}`,
    'ConnectPort 443',
    'DisableViaHeader Yes',
    '',
  ].join('\n')
}

async function stopPid(pid: number): Promise<void> {
  killPid(pid)
  const left = await waitGone([pid], 5000)
  if (left.length > 0) throw new LabError(`tinyproxy (pid ${pid}) did not stop`)
}

/** Stop the proxy recorded in state, if it is still ours. */
export async function stopProxy(current: ProxyRecord | null): Promise<void> {
  if (current && isLabProxy(current.pid)) await stopPid(current.pid)
  await removeStrayProxy()
}

/**
 * A tinyproxy of an earlier run whose state was lost still holds the port
 * (even with its bridge gone). Found by the socket, not by name: whatever
 * listens on the lab's proxy address. Ours is stopped; anything else is an
 * error, since the lab cannot share its port.
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
