import type { Release } from '../release.ts'
import type { ReleaseState } from './release-state.ts'

/**
 * What a host is deployed to: a release built on the controller, or (for a
 * rollback) the host's own previous release. The previous release is read
 * from the host once, by the first step that plans, and pinned for the rest
 * of the run: after the switch, `previous` names the release just left, and
 * the later steps must not chase it.
 */
export type DeployTarget = Release | PreviousRelease

/** A deploy's target meaning each host's own previous release (a rollback). */
export class PreviousRelease {
  #pinned: string | undefined
  get pinned(): string | undefined {
    return this.#pinned
  }
  /** The release id; the first call pins it. Throws when the host has nothing to go back to. */
  resolve(state: ReleaseState, host?: string): string {
    if (this.#pinned !== undefined) return this.#pinned
    const where = host ? `${host}: ` : ''
    if (state.previous === null) throw new Error(`${where}no previous release is recorded (no \`previous\` link): nothing to roll back to`)
    if (state.previous === state.current) throw new Error(`${where}the previous release ${state.previous} is the current one: nothing to roll back to`)
    if (!state.releases.some((r) => r.id === state.previous && r.complete)) {
      throw new Error(`${where}the previous release ${state.previous} is no longer on the host (pruned or incomplete): cannot roll back to it`)
    }
    this.#pinned = state.previous
    return this.#pinned
  }
}

/** One rollback target per host: create it where the host's steps are built (in the role). */
export function previousRelease(): PreviousRelease {
  return new PreviousRelease()
}

export function targetId(target: DeployTarget, state: ReleaseState, host?: string): string {
  return target instanceof PreviousRelease ? target.resolve(state, host) : target.id
}

/** What deploying `target` means on a host in this state. */
export type HostDeploy =
  /** Already live: nothing to do, the host stays in rotation. */
  | { readonly kind: 'live'; readonly id: string }
  /** `current` moves from `from` to `id`, then the service restarts. */
  | { readonly kind: 'switch'; readonly id: string; readonly from: string | null }
  /** `current` is right but the service runs other code (or none): an interrupted switch. Restart it. */
  | { readonly kind: 'restart'; readonly id: string; readonly running: string | null }

export function planDeploy(target: DeployTarget, state: ReleaseState, host?: string): HostDeploy {
  const id = targetId(target, state, host)
  if (state.current !== id) return { kind: 'switch', id, from: state.current }
  const r = state.running
  // a process whose directory is not a release cannot be judged: trust the link
  if (r.pid !== 0 && (r.release === null || r.release === id)) return { kind: 'live', id }
  return { kind: 'restart', id, running: r.release }
}

/** "release X" or "release X (from Y)", for summaries: reporters find the id in them. */
export function describeDeploy(d: HostDeploy): string {
  switch (d.kind) {
    case 'live':
      return `release ${d.id} is live`
    case 'switch':
      return `release ${d.id}${d.from ? ` (from ${d.from})` : ''}`
    case 'restart':
      return `release ${d.id} (current, but the service ${d.running ? `runs ${d.running}` : 'is not running'})`
  }
}
