import { randomBytes } from 'node:crypto'
import { quote } from '../core/sh.ts'
import { maskSecrets, type Secret } from '../core/secret.ts'
import type { BecomeMethod, HostInfo } from '../inventory/types.ts'

/**
 * Privilege escalation for commands: sudo, sudo-rs, su or doas, to root or
 * another user, as the host's inventory says.
 *
 * Without a password the tool is told never to ask (`-n`): it fails at once
 * instead of waiting for a password nobody will type. `-H` gives sudo's
 * target HOME, so tools that write dotfiles do not leave root-owned files in
 * the login user's home (sudo-rs always does so and has no -H).
 *
 * With a password, the command is wrapped so that the escalated shell first
 * prints a random mark on stderr: the channel holds the command's stdin back
 * until that mark arrives, answers the tool's prompt (sudo's made a second
 * random mark with -p; sudo-rs's and su's own) with the password on stdin,
 * and fails the host when the tool asks twice (a wrong password), exits
 * before the mark, or says nothing for too long. The password never lands in argv, the
 * environment or a file: only in the channel's stdin.
 *
 * SFTP cannot be escalated: put() writes as the login user. Callers that need
 * root-owned files upload to a temp path the user can write and then move it
 * into place with a become exec (the file resource does that).
 */

export interface BecomeHow {
  method: BecomeMethod
  /** The target user (default root). */
  user: string
  password?: Secret
}

export function becomeOf(host: Pick<HostInfo, 'ssh'>): BecomeHow {
  const ssh = host.ssh
  return { method: ssh.becomeMethod ?? 'sudo', user: ssh.becomeUser ?? 'root', ...(ssh.becomePassword ? { password: ssh.becomePassword } : {}) }
}

/** Whether a command runs escalated: asked for (default the host's `become`), and the login user is not already the target. */
export function usesBecome(host: Pick<HostInfo, 'user' | 'become' | 'ssh'>, requested?: boolean): boolean {
  return (requested ?? host.become) && host.user !== (host.ssh.becomeUser ?? 'root')
}

export interface BecomeMarks {
  /** Printed by the escalated shell before the command starts. */
  ready: string
  /** sudo's prompt (-p): where the password is due. */
  prompt: string
}

export function newMarks(): BecomeMarks {
  const id = randomBytes(12).toString('hex')
  return { ready: `muster-become-ready-${id}`, prompt: `muster-become-prompt-${id}` }
}

/** The command line that runs `command` (sh -c semantics) as the target user. `marks` only with a password. */
export function becomeCommand(command: string, how: BecomeHow = { method: 'sudo', user: 'root' }, marks?: BecomeMarks): string {
  // another user may not even enter the login user's home, where the command would start (find, for one, fails there)
  if (how.user !== 'root') command = `cd / || exit 1\n${command}`
  const asked = Boolean(how.password && marks)
  const shell = asked ? `sh -c ${quote(`echo ${marks!.ready} >&2; exec sh -c ${quote(command)}`)}` : `sh -c ${quote(command)}`
  const asUser = how.user === 'root' ? [] : ['-u', quote(how.user)]
  switch (how.method) {
    case 'sudo':
      return ['sudo', ...(asked ? ['-S', '-p', marks!.prompt] : ['-n']), '-H', ...asUser, '--', shell].join(' ')
    case 'sudo-rs':
      // sudo-rs 0.2 (Debian 13) has no -p: its own prompt is recognised instead
      return ['sudo-rs', asked ? '-S' : '-n', ...asUser, '--', shell].join(' ')
    case 'doas':
      return ['doas', '-n', ...asUser, '--', shell].join(' ')
    case 'su':
      // su runs its -c string with the target's login shell; the string itself is POSIX sh
      // su -c takes a script for the target's login shell, not argv: the script runs POSIX sh
      return ['su', quote(how.user), '-c', quote(asked ? `echo ${marks!.ready} >&2; exec sh -c ${quote(command)}` : `exec sh -c ${quote(command)}`)].join(' ')
  }
}

/** What a channel does next, told by what the become tool printed on stderr. */
export type GateStep =
  | { kind: 'wait' }
  /** write this to the channel's stdin (the password line) and keep waiting */
  | { kind: 'answer'; text: string }
  /** escalated: the command runs now; `rest` is stderr that belongs to the command */
  | { kind: 'ready'; rest: string }
  | { kind: 'fail'; message: string }

/**
 * The password exchange of one exec, as a pure state machine over stderr
 * text (so it can be tested without a host). sudo prints our prompt mark (-p)
 * when it wants the password; sudo-rs (no -p) and su print their own prompt,
 * `[sudo: authenticate] Password: ` and PAM's `Password: `, on stderr with no
 * newline after it. The password is written only when asked for, and the
 * command's stdin only after the ready mark: both tools read stdin in blocks
 * and would swallow what followed the password.
 */
export class BecomeGate {
  #seen = ''
  /** Where the next prompt is looked for: after the one answered. */
  #from = 0
  #prompts = 0
  #done = false

  constructor(
    readonly how: BecomeHow & { password: Secret },
    readonly marks: BecomeMarks,
  ) {}

  feed(chunk: string): GateStep {
    if (this.#done) return { kind: 'ready', rest: chunk }
    this.#seen += chunk
    const ready = this.#seen.indexOf(`${this.marks.ready}\n`)
    if (ready >= 0) {
      this.#done = true
      return { kind: 'ready', rest: this.#seen.slice(ready + this.marks.ready.length + 1) }
    }
    if (!this.#asked()) return { kind: 'wait' }
    this.#from = this.#seen.length
    this.#prompts++
    if (this.#prompts > 1) return { kind: 'fail', message: `wrong password: ${this.how.method} asked for it again${this.#said()}` }
    return { kind: 'answer', text: `${this.how.password.reveal()}\n` }
  }

  #asked(): boolean {
    const fresh = this.#seen.slice(this.#from)
    if (this.how.method === 'sudo') return fresh.includes(this.marks.prompt)
    return /password[^\n]*: ?$/i.test(fresh)
  }

  /** The channel ended (exit `code`) before the command started. */
  ended(code: number): string {
    return `${this.how.method} exited ${code} before running the command${this.#said()}`
  }

  /** No answer in time: a tool waiting on a prompt we cannot see. */
  timedOut(ms: number): string {
    return `no answer from ${this.how.method} within ${ms / 1000} s (a prompt muster cannot answer?)${this.#said()}`
  }

  /** What the tool said, prompts out, secrets masked: its own words for why. */
  #said(): string {
    const text = maskSecrets(this.#seen.split(this.marks.prompt).join('')).trim()
    const tail = text.split('\n').map((l) => l.trim()).filter(Boolean).slice(-3).join(' / ')
    return tail ? `: ${tail}` : ''
  }
}

/** Become failed on this host: a wrong password, a tool missing, a rule that does not allow it. Fails the host (exit 1). */
export class BecomeError extends Error {
  constructor(
    readonly host: string,
    readonly method: BecomeMethod,
    readonly user: string,
    detail: string,
  ) {
    super(`${host}: become ${method} (to ${user}) failed: ${detail}`)
    this.name = 'BecomeError'
  }
}
