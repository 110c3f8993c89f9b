import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { labFiles } from './layout.ts'
import { LabError } from './errors.ts'
import type { LabSuite } from './suite.ts'

/**
 * state.json: what the lab made, written as it goes, so that `down` after a
 * crashed or half-finished `up` still knows what to remove (and sweeps for
 * what it does not know, see leftovers.ts).
 */

export interface LabHostState {
  name: string
  address: string
  netns: string
  /** Controller end of the veth pair; the other end is eth0 in the netns. */
  veth: string
  /** The host's PID 1 (its systemd) as the controller sees it; killing it ends the whole host. */
  pid: number | null
  /** `unshare`, the parent of pid. */
  launcherPid: number | null
  cgroup: string | null
  overlay: { lower: string; upper: string; work: string; root: string }
  bootLog: string
  bootedAt: string | null
  /** From launch until sshd answered. */
  bootMs: number | null
}

export interface LabState {
  version: 1
  /** The Debian suite the hosts run; a state written before suites existed is bookworm's. */
  suite?: LabSuite
  base: string
  bridge: { name: string; address: string; prefix: number }
  proxy: { pid: number; address: string; port: number; config: string } | null
  hosts: LabHostState[]
}

export function readState(): LabState | undefined {
  const file = labFiles.state()
  if (!existsSync(file)) return undefined
  let parsed: unknown
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'))
  } catch (err) {
    throw new LabError(`${file} is not valid JSON: ${(err as Error).message}`, 'run `muster lab down` to clear the lab, then `lab up`')
  }
  const s = parsed as Partial<LabState>
  if (s.version !== 1 || !Array.isArray(s.hosts)) {
    throw new LabError(`${file} is not a lab state file this version understands`, 'run `muster lab down`, then `lab up`')
  }
  return s as LabState
}

/** Write atomically: a reader never sees half a file. */
export function writeState(state: LabState): void {
  const file = labFiles.state()
  mkdirSync(dirname(file), { recursive: true })
  const tmp = `${file}.${process.pid}.tmp`
  writeFileSync(tmp, JSON.stringify(state, null, 2) + '\n')
  renameSync(tmp, file)
}

export function removeState(): void {
  rmSync(labFiles.state(), { force: true })
}
