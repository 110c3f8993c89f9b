import { quote } from '../core/sh.ts'
import type { HostInfo } from '../inventory/types.ts'

/**
 * Privilege escalation for commands. `-n` makes sudo fail at once instead of
 * waiting for a password nobody will type; `-H` gives root's HOME, so tools
 * that write dotfiles do not leave root-owned files in the login user's home.
 *
 * SFTP cannot be escalated: put() writes as the login user. Callers that need
 * root-owned files upload to a temp path the user can write and then move it
 * into place with a become exec (the file resource does that).
 */
export function becomeCommand(command: string): string {
  return `sudo -n -H -- sh -c ${quote(command)}`
}

/** Whether a command runs through sudo: asked for (default the host's `become`), and the login user is not already root. */
export function usesBecome(host: Pick<HostInfo, 'user' | 'become'>, requested?: boolean): boolean {
  return (requested ?? host.become) && host.user !== 'root'
}
