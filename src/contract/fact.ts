/**
 * A fact is one read-only question about a host ("what is the state of
 * package nginx?"). Facts of one kind are coalesced: the kind prints the
 * answer for every key asked in one shell fragment (one dpkg-query for all
 * packages, one find for all paths), so a host's whole play is probed by one
 * remote script. See probe-batch.ts.
 */
export interface FactKind<T> {
  /** Unique name, also the section label in the batched script. */
  readonly name: string
  /**
   * true: `script` gets every key of the batch at once and prints them all.
   * false: each key gets a section of its own (for arbitrary shell checks).
   */
  readonly coalesce: boolean
  /** Read-only POSIX shell that prints the state of `keys`. Must not write anything on the host. */
  script(keys: readonly string[]): string
  /** Parse the section's stdout (and the fragment's exit code) into one value per key; every key must get a value. */
  parse(stdout: string, keys: readonly string[], code: number): Map<string, T>
}

/** One fact of one kind about one key (a path, a package), as a resource probes it. */
export interface FactQuery<T> {
  readonly kind: FactKind<T>
  readonly key: string
}

/** Ask for one fact of a kind about one key (what a resource's `probe` lists). */
export function query<T>(kind: FactKind<T>, key: string): FactQuery<T> {
  return { kind, key }
}

export function factId(q: { kind: { name: string }; key: string }): string {
  return `${q.kind.name}\u0000${q.key}`
}

/**
 * In check mode a fact may be impossible to predict (a path a package might
 * create, a SQL state only a running server can tell). Such a value makes every
 * resource that reads it "unknown until applied", never "ok".
 */
export class Unknown {
  constructor(readonly reason: string) {}
}
/** A fact value that cannot be known before an apply, with the reason shown. */
export const unknown = (reason: string): Unknown => new Unknown(reason)
/** Whether a predicted fact is `unknown` (cannot be known before an apply). */
export function isUnknown(v: unknown): v is Unknown {
  return v instanceof Unknown
}

/** One predicted fact: after a change, `query` will answer `value`. */
export interface ExactPrediction<T = unknown> {
  readonly query: FactQuery<T>
  readonly value: T | Unknown
}
/**
 * Every key of `kind` that starts with `prefix` becomes unknown (e.g. paths
 * under a package's config dir); with `rewrite`, a value already probed
 * becomes what `rewrite` makes of it instead (it may keep it), and only keys
 * not probed yet become unknown.
 */
export interface PrefixPrediction {
  readonly kind: FactKind<unknown>
  readonly prefix: string
  readonly value: Unknown
  readonly rewrite?: (before: unknown) => unknown
}
/** What a planned change says about the facts after it: one fact, or all under a prefix. */
export type Prediction = ExactPrediction | PrefixPrediction

/** A prediction that a planned change makes a fact exactly `value` (or `unknown`). */
export function predict<T>(q: FactQuery<T>, value: T | Unknown): ExactPrediction<T> {
  return { query: q, value }
}
/** A prediction that every fact of a kind under `prefix` is unknown until applied (a package's new tree), or, with `rewrite`, each fact rewritten from what the host has. */
export function predictUnder<T>(kind: FactKind<T>, prefix: string, reason: string, rewrite?: (before: T) => T | Unknown): PrefixPrediction {
  return { kind: kind as FactKind<unknown>, prefix, value: new Unknown(reason), ...(rewrite ? { rewrite: rewrite as (before: unknown) => unknown } : {}) }
}
