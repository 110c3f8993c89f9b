import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { hostname, userInfo } from 'node:os'
import { change, ok, resource, type ApplyContext, type Resource } from '../../contract/resource.ts'
import { sh } from '../../core/sh.ts'
import { fileContent } from '../../facts/file-content.ts'
import { assertHostPath } from '../../facts/path.ts'

/** Who holds a deploy lock: enough to name them, and to tell whether their process is still there. */
export interface LockHolder {
  /** Random per run: what makes a lock this run's own. */
  token: string
  user: string
  /** The controller's host name. */
  controller: string
  pid: number
  /** The process's start time in clock ticks since boot (/proc/PID/stat field 22): a reused PID is not the holder. */
  pidStart: number | null
  /** The controller's boot id: after a reboot every old holder is gone. */
  bootId: string | null
  /** ISO time the lock was taken. */
  since: string
  /** The command line, for the message ("muster deploy playbooks/deploy.ts"). */
  command: string
}

/** Whether a lock holder's process is still there, as far as can be told. */
export type Liveness = 'alive' | 'gone' | 'unknown'

/** Options of `deployLock()`: the host, where releases live, and whether to take a live holder's lock. */
export interface DeployLockOptions {
  /** The deploy root; the lock is `<root>/.deploy-lock` unless `path` says otherwise. */
  root: string
  path?: string
  /** Take the lock whoever holds it (`--force-unlock`). */
  force?: boolean
  /** This run's identity (default: the controller process, made once per process). */
  holder?: LockHolder
  /** Whether a holder's process still runs (default: looked up in /proc when it ran on this controller). */
  liveness?: (h: LockHolder) => Liveness
  tags?: readonly string[]
}

/** Another live deploy holds the lock: names who and since when. */
export class DeployLockedError extends Error {
  constructor(
    readonly host: string,
    readonly holder: LockHolder | null,
    readonly raw: string,
  ) {
    super(`${host}: the deploy lock is held by ${holder ? describeHolder(holder) : `an unreadable lock (${JSON.stringify(raw.slice(0, 120))})`}; wait for that deploy to finish, or take the lock with --force-unlock if it is dead`)
    this.name = 'DeployLockedError'
  }
}

export function lockPath(opts: Pick<DeployLockOptions, 'root' | 'path'>): string {
  return assertHostPath(opts.path ?? `${opts.root.replace(/\/+$/, '')}/.deploy-lock`, 'deploy lock path')
}

let self: LockHolder | undefined

/** This controller process as a lock holder: the same for every host and play of the run. */
export function thisRun(): LockHolder {
  self ??= {
    token: randomBytes(12).toString('hex'),
    user: safe(() => userInfo().username) ?? process.env.USER ?? 'unknown',
    controller: hostname(),
    pid: process.pid,
    pidStart: processStart(process.pid),
    bootId: bootId(),
    since: new Date().toISOString(),
    command: commandName(process.argv.slice(2)),
  }
  return self
}

/** `muster deploy playbooks/deploy.ts`: the words before the first option, never an option's value (`-e` may carry a secret). */
export function commandName(argv: readonly string[]): string {
  const words: string[] = []
  for (const a of argv) {
    if (a.startsWith('-')) break
    words.push(a)
  }
  return ['muster', ...words].join(' ').slice(0, 200)
}

export function describeHolder(h: LockHolder, now = Date.now()): string {
  const age = Math.max(0, Math.round((now - Date.parse(h.since)) / 1000))
  const ago = age < 120 ? `${age} s ago` : age < 7200 ? `${Math.round(age / 60)} min ago` : `${Math.round(age / 3600)} h ago`
  return `${h.user}@${h.controller} (pid ${h.pid}, \`${h.command}\`) since ${h.since} (${ago})`
}

export function parseHolder(text: string | null): LockHolder | null {
  if (text === null) return null
  try {
    const h = JSON.parse(text) as Partial<LockHolder>
    if (typeof h.token === 'string' && typeof h.pid === 'number' && typeof h.since === 'string') {
      return { user: '?', controller: '?', pidStart: null, bootId: null, command: '?', ...h } as LockHolder
    }
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err
  }
  return null
}

/**
 * A holder that ran on this controller is gone when the machine rebooted
 * since, its PID is free, or the PID now belongs to a process that started
 * later. A holder on another controller cannot be checked from here.
 */
export function localLiveness(h: LockHolder): Liveness {
  if (h.controller !== hostname()) return 'unknown'
  const boot = bootId()
  if (h.bootId && boot && h.bootId !== boot) return 'gone'
  const start = processStart(h.pid)
  if (start === null) return 'gone'
  if (h.pidStart !== null && start !== h.pidStart) return 'gone'
  return 'alive'
}

function processStart(pid: number): number | null {
  const stat = safe(() => readFileSync(`/proc/${pid}/stat`, 'utf8'))
  if (stat === undefined) return null
  // the command name may hold spaces and parentheses: count fields after the last ')'
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const v = Number(fields[19])
  return Number.isFinite(v) ? v : null
}

function bootId(): string | null {
  return safe(() => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()) ?? null
}

function safe<T>(fn: () => T): T | undefined {
  try {
    return fn()
  } catch (err) {
    // absent /proc entries and unknown users are answers here, not failures
    if (err instanceof Error) return undefined
    throw err
  }
}

/** A lock held by someone else changed hands since we looked: exit code of the take script. */
const LOCK_MOVED = 75

/**
 * Replace the lock only if it still has the token we planned against ('' =
 * no lock): compare and swap under flock(1) on the deploy root, so two
 * controllers taking over the same stale lock cannot both win.
 */
export function takeLockScript(path: string, expectToken: string): string {
  const dir = path.slice(0, path.lastIndexOf('/')) || '/'
  return [
    'set -eu',
    `lock=${sh`${path}`}`,
    `mkdir -p -- ${sh`${dir}`}`,
    `exec 9<${sh`${dir}`}`,
    'flock -w 10 9',
    'tok=$(sed -n \'s/.*"token":"\\([0-9a-f]*\\)".*/\\1/p\' "$lock" 2>/dev/null | head -n 1)',
    `if [ "$tok" != ${sh`${expectToken}`} ]; then cat -- "$lock" 2>/dev/null || true; exit ${LOCK_MOVED}; fi`,
    't="$lock.muster-$$"',
    'cat > "$t"',
    'mv -f -- "$t" "$lock"',
  ].join('\n')
}

/** Remove the lock if it is ours. */
export function releaseLockScript(path: string, token: string): string {
  const dir = path.slice(0, path.lastIndexOf('/')) || '/'
  return [
    'set -eu',
    `lock=${sh`${path}`}`,
    `[ -d ${sh`${dir}`} ] || exit 0`,
    `exec 9<${sh`${dir}`}`,
    'flock -w 10 9',
    'tok=$(sed -n \'s/.*"token":"\\([0-9a-f]*\\)".*/\\1/p\' "$lock" 2>/dev/null | head -n 1)',
    `if [ "$tok" = ${sh`${token}`} ]; then rm -f -- "$lock"; fi`,
  ].join('\n')
}

/**
 * Take the deploy lock on this host, or fail naming who holds it and since
 * when. A lock whose holder process is gone (killed, crashed, rebooted) is
 * taken over with a note; a live holder's only with `force`. Put it in a
 * play of its own before the rollout (all hosts at once, maxFailPercentage
 * 0), and `deployUnlock` in an `always` play after it.
 */
export function deployLock(opts: DeployLockOptions & { host: string }): Resource {
  const path = lockPath(opts)
  const me = opts.holder ?? thisRun()
  const liveness = opts.liveness ?? localLiveness
  return resource({
    id: `deploy-lock:${path}`,
    type: 'deploy-lock',
    probe: { lock: fileContent(path) },
    plan({ lock }) {
      const text = lock as string | null
      if (text === null) return change(`take the deploy lock (${me.user}@${me.controller}, pid ${me.pid})`, (ctx) => take(ctx, path, me, ''))
      const holder = parseHolder(text)
      if (holder?.token === me.token) return ok('held by this run')
      const token = holder?.token ?? ''
      if (opts.force) return change(`take the deploy lock from ${holder ? describeHolder(holder) : 'an unreadable lock'} (--force-unlock)`, (ctx) => take(ctx, path, me, token))
      if (holder && liveness(holder) === 'gone') {
        return change(`take over a stale deploy lock: ${describeHolder(holder)}, whose process is gone`, (ctx) => take(ctx, path, me, token))
      }
      throw new DeployLockedError(opts.host, holder, text)
    },
    meta: opts.tags ? { tags: opts.tags } : {},
  })
}

async function take(ctx: ApplyContext, path: string, me: LockHolder, expectToken: string): Promise<void> {
  const res = await ctx.run(takeLockScript(path, expectToken), { stdin: `${JSON.stringify(me)}\n`, okCodes: [0, LOCK_MOVED] })
  if (res.code === LOCK_MOVED) {
    const text = res.stdout.trim()
    throw new DeployLockedError(ctx.host.name, parseHolder(text), text)
  }
}

/** Release the deploy lock if this run holds it; anyone else's is left alone. */
export function deployUnlock(opts: Omit<DeployLockOptions, 'force' | 'liveness'> & { host: string }): Resource {
  const path = lockPath(opts)
  const me = opts.holder ?? thisRun()
  return resource({
    id: `deploy-unlock:${path}`,
    type: 'deploy-unlock',
    probe: { lock: fileContent(path) },
    plan({ lock }) {
      const holder = parseHolder(lock as string | null)
      if (lock === null) return ok('not locked')
      if (holder?.token !== me.token) return ok(`held by ${holder ? describeHolder(holder) : 'an unreadable lock'}, not this run: left alone`)
      return change('release the deploy lock', async (ctx) => void (await ctx.run(releaseLockScript(path, me.token))))
    },
    meta: opts.tags ? { tags: opts.tags } : {},
  })
}
