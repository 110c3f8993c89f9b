import type { ExecResult } from '../ssh/connection.ts'
import { belongsToHost, execInHost } from './host-process.ts'
import { requireHost, requireState } from './require-state.ts'
import { LabError } from './errors.ts'

export interface LabExecOptions {
  /** Written to the command's stdin, then EOF. */
  stdin?: string
  timeoutMs?: number
}

/**
 * Run a shell command on a lab host as root, for tests that inspect hosts.
 * It enters the host's namespaces directly (nsenter), not through sshd, so
 * what it sees does not depend on the code under test; resolves with any exit code.
 */
export async function labExec(name: string, command: string, opts: LabExecOptions = {}): Promise<ExecResult> {
  const h = requireHost(requireState(), name)
  if (h.pid === null || !belongsToHost(h.pid, h.name)) throw new LabError('it is down', 'bring it back with `muster lab up`', name)
  return execInHost(h.pid, command, { input: opts.stdin, timeoutMs: opts.timeoutMs ?? 120_000 }, name)
}
