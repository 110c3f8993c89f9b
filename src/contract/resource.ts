import type { FactQuery, Prediction } from './fact.ts'
import type { Connection, ExecResult } from '../ssh/connection.ts'
import type { HostInfo } from '../inventory/types.ts'

/** A resource reads a record of facts; its plan receives the same record, answered. */
export type ProbeSpec = Record<string, FactQuery<any>>
/** The facts a resource's `plan` receives, typed by its probe spec. */
export type Observed<P extends ProbeSpec> = { [K in keyof P]: P[K] extends FactQuery<infer T> ? T : never }

/** How an apply step runs a command on the host: stdin, timeout, what counts as success. */
export interface RunOptions {
  stdin?: string | Buffer
  become?: boolean
  timeoutMs?: number
  /** Exit codes that count as success (default [0]). */
  okCodes?: readonly number[]
}

/** What an apply may do: everything goes through the host's one connection. */
export interface ApplyContext {
  readonly host: HostInfo
  readonly conn: Connection
  /** Run a command; a non-zero exit (outside okCodes) throws RemoteCommandError with host, resource, command and stderr. */
  run(command: string, opts?: RunOptions): Promise<ExecResult>
  /** A line of progress for the reporters (-v). */
  log(message: string): void
  /** A connection to another inventory host, for steps that act elsewhere (drain on the load balancer). */
  connectTo(hostName: string): Promise<Connection>
}

/**
 * A diff that needs the host's current content, which is only fetched when a
 * diff is wanted (check mode, --diff): content travels only when it differs.
 * The engine fetches every pending request of a host in one batch.
 */
export interface DiffRequest {
  readonly query: FactQuery<string | null>
  render(before: string | null): string
}

/** What `plan` returns when the host differs from what was asked: `apply` will run. */
export interface Change {
  readonly kind: 'change'
  /** One line for humans: "install nginx", "mode 0644 -> 0600". */
  readonly summary: string
  /** Unified diff for content changes (secrets masked by reporters). */
  readonly diff?: string | DiffRequest
  /** Does the work. Only the engine calls it, and never in check mode. */
  readonly apply: (ctx: ApplyContext) => Promise<void>
  /** Facts this change brings into being, laid over the probed state in check mode. */
  readonly predicts?: readonly Prediction[]
  /**
   * Handlers this change queues beside the resource's own `notify`: for a
   * change only part of which takes effect at once (a server setting that a
   * restart alone can change is left to the restart handler, run once).
   */
  readonly notify?: readonly Handler[]
}
/** The host is as asked: nothing to apply (`detail` may say what was seen). */
export interface NoChange {
  readonly kind: 'ok'
  /** Optional detail ("nginx 1.22.1-9 installed"). */
  readonly detail?: string
}
/** The resource cannot tell what it would do until something earlier is applied. */
export interface UnknownPlan {
  readonly kind: 'unknown'
  readonly reason: string
}
/** What a resource's pure `plan` decides: a change, no change, or unknown until applied. */
export type Plan = Change | NoChange | UnknownPlan

/** What `plan` returns when the host is already as asked. */
export const noChange: NoChange = { kind: 'ok' }
/** No change, saying what was seen (shown with `-v`). */
export function ok(detail?: string): NoChange {
  return detail ? { kind: 'ok', detail } : noChange
}
/** A planned change: what it does (the summary shown), the diff, and what it predicts for the resources after it. */
export function change(
  summary: string,
  apply: (ctx: ApplyContext) => Promise<void>,
  extra: { diff?: string | DiffRequest; predicts?: readonly Prediction[]; notify?: readonly Handler[] } = {},
): Change {
  return { kind: 'change', summary, apply, ...extra }
}
/** What `plan` returns when it cannot decide before an apply: counted as drift, never `ok`. */
export function unknownPlan(reason: string): UnknownPlan {
  return { kind: 'unknown', reason }
}

/** A handler runs once at the end of a play on each host where a change notified it. */
export interface Handler {
  readonly kind: 'handler'
  readonly name: string
  readonly run: (ctx: ApplyContext) => Promise<void>
}

/** Options every resource takes: handlers to notify, tags. */
export interface ResourceMeta {
  /** Handlers to queue when this resource changes something. */
  notify?: Handler | readonly Handler[]
  /** Tags for --tags; the role's name is added by the engine. */
  tags?: readonly string[]
}

/** One managed thing on a host: its id, the facts it probes, a pure plan, and how to apply it. */
export interface Resource<P extends ProbeSpec = ProbeSpec> {
  /** Unique within a host's play: "apt:nginx", "file:/etc/nginx/nginx.conf". */
  readonly id: string
  /** The resource type, for reports and JSON: "apt", "file", "service". */
  readonly type: string
  readonly probe: P
  /** Pure: compare observed state with the desired state. */
  plan(observed: Observed<P>): Plan
  readonly notify: readonly Handler[]
  readonly tags: readonly string[]
}

/** Build a resource with its metadata normalised. */
export function resource<P extends ProbeSpec>(def: {
  id: string
  type: string
  probe: P
  plan: (observed: Observed<P>) => Plan
  meta?: ResourceMeta | undefined
}): Resource<P> {
  const n = def.meta?.notify
  return {
    id: def.id,
    type: def.type,
    probe: def.probe,
    plan: def.plan,
    notify: n === undefined ? [] : Array.isArray(n) ? (n as readonly Handler[]) : [n as Handler],
    tags: def.meta?.tags ?? [],
  }
}
