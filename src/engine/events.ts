import type { ConnectionStats } from '../ssh/connection.ts'

/** A run applies changes, or only checks what would change. */
export type Mode = 'apply' | 'check'

/** One shard of a run split with --shard K/N (`muster merge` reads it back). */
export interface ShardInfo {
  index: number
  count: number
  selected: string[]
}

/** What became of one resource on one host. */
export type ResourceStatus =
  | 'ok' // probed, in the desired state
  | 'changed' // a change was made
  | 'would-change' // check mode: apply would make this change
  | 'unknown' // check mode: cannot be predicted until something earlier is applied
  | 'failed'
  | 'skipped' // not run: tags, or an earlier failure on the host

/** One host's counts at the end of a run (the recap line), with its round trips. */
export interface HostRecap {
  ok: number
  changed: number
  failed: number
  skipped: number
  unknown: number
  unreachable: boolean
  /** exec channels, SFTP ops and bytes over this host's connection */
  stats: ConnectionStats
  /** how many batched probe scripts ran on this host */
  probeBatches: number
}

/** A run's summary: every host's counts, the duration and the exit code. */
export interface Recap {
  mode: Mode
  hosts: Record<string, HostRecap>
  durationMs: number
  exitCode: number
}

/** Everything the engine tells the outside world. Reporters subscribe; the engine never prints. */
export type MusterEvent =
  | {
      type: 'run:start'
      mode: Mode
      playbook: string
      hosts: string[]
      /** With --shard: which shard this run is, and every host the unsharded run would have selected. */
      shard?: ShardInfo
    }
  | { type: 'play:start'; play: string; index: number; hosts: string[] }
  | { type: 'batch:start'; play: string; batch: number; batches: number; hosts: string[] }
  | { type: 'host:start'; play: string; host: string; resources: number }
  | {
      type: 'resource:result'
      play: string
      host: string
      resource: string
      resourceType: string
      status: ResourceStatus
      summary?: string
      diff?: string
      error?: string
      durationMs: number
    }
  | { type: 'handler:result'; play: string; host: string; handler: string; status: 'changed' | 'would-change' | 'failed'; error?: string }
  | { type: 'host:unreachable'; play: string; host: string; message: string }
  /** `frames`: for an error thrown in the user's role code, their part of the stack (file:line:column) */
  | { type: 'host:failed'; play: string; host: string; resource: string; message: string; frames?: string[] }
  | { type: 'host:done'; play: string; host: string }
  | { type: 'play:end'; play: string; stopped?: string }
  | { type: 'log'; host: string; message: string }
  /** Something the run goes on despite (a selection that matched nothing, with --allow-unmatched). */
  | { type: 'warning'; message: string }
  | { type: 'run:end'; recap: Recap }

export type EventOf<T extends MusterEvent['type']> = Extract<MusterEvent, { type: T }>
export type Listener = (event: MusterEvent) => void
