import { factId, isUnknown, Unknown, type FactQuery, type Prediction } from '../contract/fact.ts'

/**
 * What the engine currently believes about one host. Probed values come from
 * the host; in check mode, predictions of planned changes are laid over them so
 * later resources plan against the state apply would produce.
 */
export class FactCache {
  private readonly values = new Map<string, unknown>()
  private readonly prefixes: { kind: string; prefix: string; value: Unknown }[] = []

  has(q: FactQuery<unknown>): boolean {
    return this.values.has(factId(q)) || this.prefixFor(q) !== undefined
  }

  get<T>(q: FactQuery<T>): T | Unknown {
    const id = factId(q)
    if (this.values.has(id)) return this.values.get(id) as T | Unknown
    const p = this.prefixFor(q)
    if (p) return p
    throw new Error(`fact ${q.kind.name}:${q.key} was never probed`)
  }

  setAll(values: Map<string, unknown>): void {
    for (const [k, v] of values) this.values.set(k, v)
  }

  /** After a real change: everything may be stale; the next resource re-probes. */
  clear(): void {
    this.values.clear()
    this.prefixes.length = 0
  }

  /** Check mode: lay a change's predictions over the probed state. */
  overlay(predictions: readonly Prediction[]): void {
    // broad "unknown under this prefix" first, so exact predictions of the same change win over them
    const ordered = [...predictions.filter((p) => !('query' in p)), ...predictions.filter((p) => 'query' in p)]
    for (const p of ordered) {
      if ('query' in p) this.values.set(factId(p.query), p.value)
      else {
        this.prefixes.push({ kind: p.kind.name, prefix: p.prefix, value: p.value })
        // exact facts already cached under the prefix are no longer trustworthy
        for (const id of [...this.values.keys()]) {
          const [kind, key] = id.split('\u0000') as [string, string]
          const before = this.values.get(id)
          if (kind === p.kind.name && key.startsWith(p.prefix) && !isUnknown(before)) this.values.set(id, p.rewrite ? p.rewrite(before) : p.value)
        }
      }
    }
  }

  private prefixFor(q: FactQuery<unknown>): Unknown | undefined {
    // the most recent prediction wins
    for (let i = this.prefixes.length - 1; i >= 0; i--) {
      const p = this.prefixes[i]!
      if (p.kind === q.kind.name && q.key.startsWith(p.prefix)) return p.value
    }
    return undefined
  }
}
