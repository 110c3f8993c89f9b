import { change, ok, resource, type Resource, type ResourceMeta } from '../contract/resource.ts'
import { predict, unknown, type FactQuery, type Prediction } from '../contract/fact.ts'
import { Secret } from '../core/secret.ts'
import { pathState, type PathState } from '../facts/path.ts'
import { shell, type ShellResult } from '../facts/shell.ts'

/** Options of `command()`: the guards (`creates`, `unless`, `onlyIf`) that make a command idempotent. */
export interface CommandOptions extends ResourceMeta {
  /** Names the resource in reports (default: the command itself). */
  name?: string
  /** Skip when this absolute path exists. */
  creates?: string
  /** Skip when this read-only snippet exits 0. It runs in the probe, in check mode too. */
  unless?: string
  /** Run only when this read-only snippet exits 0. It runs in the probe, in check mode too. */
  onlyIf?: string
  /** Bytes for the command's stdin: the only way a secret may reach it. */
  stdin?: string | Secret
  /** Through sudo when the login user is not root (default: the host's setting). */
  become?: boolean
  timeoutMs?: number
}

type Probe = { creates?: FactQuery<PathState>; unless?: FactQuery<ShellResult>; onlyIf?: FactQuery<ShellResult> }

/**
 * A shell command. With a guard (`creates`, `unless`, `onlyIf`) it runs only
 * when the guard says so, and is "ok" otherwise. With no guard it runs on
 * every apply and reports "changed" every time: muster cannot know what an
 * arbitrary command does, and saying "ok" would be a guess.
 *
 * `command` is shell text as it is: build it with the `sh` template when it
 * holds values. Secrets go on `stdin`, never into the command.
 */
export function command(cmd: string, opts: CommandOptions = {}): Resource<Probe> {
  if (typeof cmd !== 'string' || cmd.trim() === '') throw new Error('command: empty command')
  const probe: Probe = {
    ...(opts.creates !== undefined ? { creates: pathState(opts.creates) } : {}),
    ...(opts.unless !== undefined ? { unless: shell(opts.unless) } : {}),
    ...(opts.onlyIf !== undefined ? { onlyIf: shell(opts.onlyIf) } : {}),
  }
  const label = opts.name ?? oneLine(cmd)
  return resource({
    id: `command:${opts.name ?? cmd}`,
    type: 'command',
    probe,
    meta: opts,
    plan(observed) {
      const o = observed as { creates?: PathState; unless?: ShellResult; onlyIf?: ShellResult }
      if (o.creates && o.creates.type !== 'absent') return ok(`${opts.creates} exists`)
      if (o.unless && o.unless.code === 0) return ok(`unless \`${oneLine(opts.unless!)}\` succeeded`)
      if (o.onlyIf && o.onlyIf.code !== 0) return ok(`onlyIf \`${oneLine(opts.onlyIf!)}\` exited ${o.onlyIf.code}`)
      const why = o.creates ? ` (${opts.creates} absent)` : o.unless ? ` (unless exited ${o.unless.code})` : o.onlyIf ? '' : ' (no guard: runs every time)'
      // what the command leaves behind is its own business: whatever reads `creates` next cannot be predicted
      const predicts: Prediction[] = opts.creates ? [predict(pathState(opts.creates), unknown(`created by ${label}`))] : []
      return change(
        `run ${label}${why}`,
        async (ctx) => {
          await ctx.run(cmd, {
            ...(opts.stdin !== undefined ? { stdin: opts.stdin instanceof Secret ? opts.stdin.reveal() : opts.stdin } : {}),
            ...(opts.become !== undefined ? { become: opts.become } : {}),
            ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
          })
        },
        { predicts },
      )
    },
  })
}

function oneLine(text: string): string {
  const first = text.trim().split('\n')[0]!
  const short = first.length > 80 ? `${first.slice(0, 77)}...` : first
  return text.trim().includes('\n') ? `${short} ...` : short
}
