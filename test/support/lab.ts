import { spawn } from 'node:child_process'
import { labSupport } from '../../src/lab/preflight.ts'
import { labUp } from '../../src/lab/up.ts'
import { labReset } from '../../src/lab/reset.ts'
import { labFiles, referenceHosts } from '../../src/lab/layout.ts'
import { readState, type LabState } from '../../src/lab/state.ts'
import { defaultLabSuite, labSuiteFromEnv, type LabSuite } from '../../src/lab/suite.ts'

/**
 * Lab tests share one lab per test process: the first suite's `ensureLab`
 * brings it up (seconds on a warm cache), later suites find it up, and the
 * root hook in lab-hooks.ts takes it down at the end if this process brought
 * it up. Use it in a suite's `before`:
 *
 *   before(async function () { await ensureLab(this) })
 *
 * On a machine that cannot run the lab the suite is skipped, with a banner
 * saying why: never silently.
 */

let broughtUpHere = false
const warnedFor = new Set<string>()

/** Whether this process brought the lab up (and so should take it down). */
export function labBroughtUpHere(): boolean {
  return broughtUpHere
}

export async function ensureLab(ctx?: Mocha.Context): Promise<LabState> {
  const support = labSupport()
  if (!support.ok) {
    const title = ctx?.test?.parent?.fullTitle() || 'lab tests'
    if (!warnedFor.has(title)) {
      warnedFor.add(title)
      const bar = '!'.repeat(78)
      console.warn(`\n${bar}\n  SKIPPING LAB TESTS (${title}):\n  the lab cannot run on this machine: ${support.reason}.\n  To run them: ${support.hint}.\n${bar}\n`)
    }
    if (ctx) ctx.skip()
    throw new Error(`lab tests cannot run here: ${support.reason}`)
  }
  ctx?.timeout(10 * 60_000) // a cold first `up` builds the base image (about a minute, slower on a busy machine)
  if (!readState()) broughtUpHere = true // set before up: a failed up still has to be cleaned at the end
  const r = await labUp({ hosts: [...referenceHosts], suite: testSuite() })
  return r.state
}

/**
 * Bare hosts for a suite that leaves state behind. A fresh primary starts a new
 * binary log, in which the position a replica stored is not (MariaDB error 1236):
 * resetting web-01 resets its replicas (web-02, db-03) with it, or the next
 * suite's site apply fails on a replica that this suite never touched.
 */
export async function resetHosts(hosts: string[]): Promise<void> {
  const withReplicas = hosts.includes('web-01') ? [...new Set([...hosts, 'web-02', 'db-03'])] : hosts
  await labReset(withReplicas)
}

/** The Debian release lab tests run on: MUSTER_LAB_SUITE (npm test's second pass sets bookworm), else trixie. */
export function testSuite(): LabSuite {
  return labSuiteFromEnv() ?? defaultLabSuite
}

export interface SshResult {
  code: number
  stdout: string
  stderr: string
}

/**
 * Run a command on a lab host with the OpenSSH client, host-key checking on
 * against the lab's known_hosts: what a user's ssh does.
 */
export function sshToLab(address: string, command: string, opts: { knownHosts?: string; timeoutMs?: number } = {}): Promise<SshResult> {
  const args = [
    '-i', labFiles.clientKey(),
    '-o', `UserKnownHostsFile=${opts.knownHosts ?? labFiles.knownHosts()}`,
    '-o', 'StrictHostKeyChecking=yes',
    '-o', 'BatchMode=yes',
    '-o', 'IdentitiesOnly=yes',
    '-o', 'ConnectTimeout=5',
    '-o', 'LogLevel=ERROR',
    `root@${address}`,
    command,
  ]
  return new Promise((resolve, reject) => {
    const child = spawn('ssh', args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000)
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code: code ?? 255, stdout, stderr })
    })
  })
}

/** A command's trimmed stdout on a lab host; a non-zero exit throws with its stderr. */
export async function onHost(name: string, command: string): Promise<string> {
  const { labExec } = await import('../../src/lab/exec.ts')
  const r = await labExec(name, command)
  if (r.code !== 0) throw new Error(`${name}: \`${command}\` exited ${r.code}: ${r.stderr}`)
  return r.stdout.trim()
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** Poll every `everyMs` until `fn` returns a value (not undefined), or fail after `ms` with the last thing seen. */
export async function waitFor<T>(what: string, ms: number, fn: () => Promise<T | undefined>, everyMs = 150): Promise<T> {
  const deadline = Date.now() + ms
  let last: unknown
  for (;;) {
    try {
      const v = await fn()
      if (v !== undefined) return v
    } catch (err) {
      last = err
    }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms${last ? ` (last: ${String(last)})` : ''}`)
    await sleep(everyMs)
  }
}

/** Can `from` open a TCP connection to `to`:`port`? 'open', 'refused' (nobody listens) or 'dropped' (no answer in 2 s). */
export async function tcp(from: string, to: string, port: number): Promise<'open' | 'refused' | 'dropped'> {
  const { labExec } = await import('../../src/lab/exec.ts')
  const r = await labExec(from, `timeout 2 bash -c 'exec 3<>/dev/tcp/${to}/${port}' 2>&1; echo "exit=$?"`)
  const out = r.stdout + r.stderr
  if (/exit=0/.test(out)) return 'open'
  if (/exit=124/.test(out)) return 'dropped'
  if (/Connection refused/.test(out)) return 'refused'
  throw new Error(`${from} -> ${to}:${port}: unexpected: ${out}`)
}
