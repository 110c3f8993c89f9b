import { quote } from '../core/sh.ts'

/**
 * A command with a timeout also gets a deadline on the host, enforced by
 * coreutils `timeout`. Closing the channel does not stop a remote command, and
 * sshd refuses the SSH "signal" request for root logins (no post-auth privilege
 * separation) and cannot reach a command under sudo; without this a timed-out
 * `apt-get` would run on, holding its lock, after we reported it dead.
 *
 * The host's deadline falls a little after ours, so the caller always sees
 * CommandTimeoutError rather than an exit code 137 racing it. `timeout` kills
 * the whole process group, so the command's children go too.
 */
export const REMOTE_DEADLINE_GRACE_MS = 500

export function deadlineCommand(command: string, timeoutMs: number): string {
  const seconds = (timeoutMs + REMOTE_DEADLINE_GRACE_MS) / 1000
  return `timeout -s KILL ${Number(seconds.toFixed(3))} sh -c ${quote(command)}`
}
