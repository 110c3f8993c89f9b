import { FactCache } from './fact-cache.ts'
import { buildBatch, parseBatch } from './probe-batch.ts'
import { execProbe } from './probe-exec.ts'
import { isUnknown, unknown, predict, type FactQuery, type Prediction } from '../contract/fact.ts'
import { createApplyContext } from './apply-context.ts'
import type { Change, DiffRequest, Handler, Plan, Resource } from '../contract/resource.ts'
import type { Mode, MusterEvent, ResourceStatus } from './events.ts'
import type { PlannedItem } from './playbook.ts'
import type { HostInfo } from '../inventory/types.ts'
import { UnreachableError, type Connection } from '../ssh/connection.ts'
import { maskSecrets } from '../core/secret.ts'

export interface HostPlayInput {
  play: string
  host: HostInfo
  conn: Connection
  items: readonly PlannedItem[]
  /** Items not selected by --tags are reported skipped. */
  selected: (item: PlannedItem) => boolean
  mode: Mode
  /** Fetch old content and show diffs in apply mode (check mode always does). */
  wantDiff: boolean
  emit: (e: MusterEvent) => void
  connectTo: (hostName: string) => Promise<Connection>
  /** Each probe's deadline (probe-exec.ts): undefined for the default, 0 for none. */
  probeTimeoutMs?: number
  /**
   * What the engine believes about this host, kept across the host's plays so
   * a converged run probes each host once. The caller clears it when another
   * host's change may have made it stale.
   */
  cache?: FactCache
  /** Facts later plays will read on this host: fetched in the same round trip. */
  prefetch?: readonly FactQuery<unknown>[]
  /**
   * Why the run was interrupted ('Ctrl-C', 'output closed') once it was, in
   * apply: the resource in flight finishes, the rest are skipped, and the
   * handlers of what changed still run.
   */
  interrupted?: () => string | undefined
}

export interface HostPlayOutcome {
  status: 'ok' | 'failed' | 'unreachable'
  probeBatches: number
  message?: string
}

/**
 * One host through one play: probe (batched), plan, apply, in order; handlers
 * at the end. Check mode never calls apply: it lays each planned change's
 * predictions over the probed facts so later resources plan against the state
 * apply would produce.
 */
export async function runHostPlay(input: HostPlayInput): Promise<HostPlayOutcome> {
  const { host, conn, items, mode, play } = input
  const check = mode === 'check'
  const cache = input.cache ?? new FactCache()
  const queued: Handler[] = []
  let probeBatches = 0
  let failedAt: string | undefined
  // check mode buffers results until pending diffs are fetched in one batch
  const buffered: { event: Extract<MusterEvent, { type: 'resource:result' }>; diff?: DiffRequest }[] = []
  const emitResult = (
    item: PlannedItem,
    status: ResourceStatus,
    started: number,
    extra: { summary?: string; diff?: string | DiffRequest; error?: string } = {},
  ): void => {
    const event: Extract<MusterEvent, { type: 'resource:result' }> = {
      type: 'resource:result',
      play,
      host: host.name,
      resource: item.resource.id,
      resourceType: item.resource.type,
      status,
      durationMs: Date.now() - started,
      ...(extra.summary !== undefined ? { summary: maskSecrets(extra.summary) } : {}),
      ...(typeof extra.diff === 'string' ? { diff: maskSecrets(extra.diff) } : {}),
      ...(extra.error !== undefined ? { error: maskSecrets(extra.error) } : {}),
    }
    if (check) buffered.push({ event, ...(typeof extra.diff === 'object' ? { diff: extra.diff } : {}) })
    else input.emit(event)
  }

  const probe = async (queries: FactQuery<unknown>[]): Promise<Map<string, unknown>> => {
    const batch = buildBatch(queries)
    probeBatches++
    const res = await execProbe(conn, batch.script, input.probeTimeoutMs)
    return parseBatch(batch, res.stdout)
  }

  let changedHere = false
  try {
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!
      const r = item.resource
      const started = Date.now()
      if (!input.selected(item)) {
        emitResult(item, 'skipped', started, { summary: 'not selected by --tags' })
        continue
      }
      if (failedAt) {
        emitResult(item, 'skipped', started, { summary: `not run: ${failedAt} failed earlier on this host` })
        continue
      }
      const interruptedBy = input.interrupted?.()
      if (interruptedBy !== undefined) {
        emitResult(item, 'skipped', started, { summary: `not run: interrupted (${interruptedBy})` })
        continue
      }
      const queries = Object.values(r.probe) as FactQuery<unknown>[]
      if (queries.some((q) => !cache.has(q))) {
        // one round trip for every fact still to come that is not known now
        // later plays' facts ride along only while nothing changed: after a change the
        // engine drops every host's cache at the next play boundary, so they would be read for nothing
        const todo = items
          .slice(i)
          .filter((it) => input.selected(it))
          .flatMap((it) => Object.values(it.resource.probe) as FactQuery<unknown>[])
          .concat(changedHere ? [] : (input.prefetch ?? []))
          .filter((q) => !cache.has(q))
        cache.setAll(await probe(todo))
      }
      const observed: Record<string, unknown> = {}
      let unknownReason: string | undefined
      for (const [k, q] of Object.entries(r.probe)) {
        const v = cache.get(q)
        if (isUnknown(v)) unknownReason ??= v.reason
        observed[k] = v
      }
      if (unknownReason !== undefined) {
        emitResult(item, 'unknown', started, { summary: `unknown until applied: ${unknownReason}` })
        cache.overlay(ownFactsUnknown(r, `depends on ${r.id}, unknown until applied`))
        continue
      }
      let plan: Plan
      try {
        plan = r.plan(observed as never)
      } catch (err) {
        failedAt = r.id
        emitResult(item, 'failed', started, { error: messageOf(err) })
        input.emit({ type: 'host:failed', play, host: host.name, resource: r.id, message: maskSecrets(messageOf(err)) })
        continue
      }
      if (plan.kind === 'ok') {
        emitResult(item, 'ok', started, plan.detail ? { summary: plan.detail } : {})
        continue
      }
      if (plan.kind === 'unknown') {
        emitResult(item, 'unknown', started, { summary: `unknown until applied: ${plan.reason}` })
        cache.overlay(ownFactsUnknown(r, `${r.id} is unknown until applied`))
        continue
      }
      if (check) {
        emitResult(item, 'would-change', started, { summary: plan.summary, ...(plan.diff !== undefined ? { diff: plan.diff } : {}) })
        cache.overlay(predictionsOf(r, plan))
        queue(queued, [...r.notify, ...(plan.notify ?? [])])
        continue
      }
      let diff: string | undefined
      if (input.wantDiff && plan.diff !== undefined) diff = await resolveDiff(plan.diff, probe, cache)
      try {
        await plan.apply(
          createApplyContext(host, conn, {
            resource: r.id,
            log: (message) => input.emit({ type: 'log', host: host.name, message: maskSecrets(message) }),
            connectTo: input.connectTo,
          }),
        )
      } catch (err) {
        if (err instanceof UnreachableError) throw err
        failedAt = r.id
        emitResult(item, 'failed', started, { summary: plan.summary, error: messageOf(err) })
        input.emit({ type: 'host:failed', play, host: host.name, resource: r.id, message: maskSecrets(messageOf(err)) })
        // a failed apply may have changed anything; never plan on the old picture
        changedHere = true
        cache.clear()
        continue
      }
      emitResult(item, 'changed', started, { summary: plan.summary, ...(diff !== undefined ? { diff } : {}) })
      queue(queued, [...r.notify, ...(plan.notify ?? [])])
      changedHere = true
      // an earlier change can change what later probes see: re-probe before the next plan
      cache.clear()
    }

    // Handlers run even after a later failure on the host: a config that was
    // changed must take effect, or the next run (seeing the file converged)
    // would never reload it.
    if (check) {
      await flushCheckResults(buffered, probe, input.emit)
      buffered.length = 0
    }
    for (const h of queued) {
      if (check) {
        input.emit({ type: 'handler:result', play, host: host.name, handler: h.name, status: 'would-change' })
        continue
      }
      try {
        await h.run(createApplyContext(host, conn, { resource: `handler ${h.name}`, connectTo: input.connectTo }))
        input.emit({ type: 'handler:result', play, host: host.name, handler: h.name, status: 'changed' })
      } catch (err) {
        if (err instanceof UnreachableError) throw err
        failedAt ??= `handler ${h.name}`
        input.emit({ type: 'handler:result', play, host: host.name, handler: h.name, status: 'failed', error: maskSecrets(messageOf(err)) })
        input.emit({ type: 'host:failed', play, host: host.name, resource: `handler ${h.name}`, message: maskSecrets(messageOf(err)) })
      }
    }

  } catch (err) {
    if (check) for (const b of buffered) input.emit(b.event)
    if (err instanceof UnreachableError) {
      input.emit({ type: 'host:unreachable', play, host: host.name, message: maskSecrets(err.message) })
      return { status: 'unreachable', probeBatches, message: err.message }
    }
    failedAt ??= 'probe'
    input.emit({ type: 'host:failed', play, host: host.name, resource: failedAt, message: maskSecrets(messageOf(err)) })
    return { status: 'failed', probeBatches, message: messageOf(err) }
  }
  return failedAt ? { status: 'failed', probeBatches } : { status: 'ok', probeBatches }
}

function queue(queued: Handler[], handlers: readonly Handler[]): void {
  for (const h of handlers) if (!queued.includes(h)) queued.push(h)
}

/** A change with no prediction for a fact it reads leaves that fact unknown: never guess. */
function predictionsOf(r: Resource, plan: Change): Prediction[] {
  const preds: Prediction[] = [...(plan.predicts ?? [])]
  const predicted = new Set(preds.flatMap((p) => ('query' in p ? [`${p.query.kind.name}\u0000${p.query.key}`] : [])))
  for (const q of Object.values(r.probe) as FactQuery<unknown>[]) {
    if (!predicted.has(`${q.kind.name}\u0000${q.key}`)) preds.push(predict(q, unknown(`changed by ${r.id}`)))
  }
  return preds
}

function ownFactsUnknown(r: Resource, reason: string): Prediction[] {
  return (Object.values(r.probe) as FactQuery<unknown>[]).map((q) => predict(q, unknown(reason)))
}

async function resolveDiff(
  d: string | DiffRequest,
  probe: (qs: FactQuery<unknown>[]) => Promise<Map<string, unknown>>,
  _cache: FactCache,
): Promise<string> {
  if (typeof d === 'string') return d
  const got = await probe([d.query as FactQuery<unknown>])
  return d.render((got.values().next().value as string | null | undefined) ?? null)
}

/** Fetch every pending diff of the host in one batch, then emit the results in order. */
async function flushCheckResults(
  buffered: { event: Extract<MusterEvent, { type: 'resource:result' }>; diff?: DiffRequest }[],
  probe: (qs: FactQuery<unknown>[]) => Promise<Map<string, unknown>>,
  emit: (e: MusterEvent) => void,
): Promise<void> {
  const pending = buffered.filter((b) => b.diff)
  if (pending.length > 0) {
    const got = await probe(pending.map((b) => b.diff!.query as FactQuery<unknown>))
    for (const b of pending) {
      const q = b.diff!.query
      const before = got.get(`${q.kind.name}\u0000${q.key}`) as string | null | undefined
      b.event.diff = maskSecrets(b.diff!.render(before ?? null))
    }
  }
  for (const b of buffered) emit(b.event)
}

export function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message
  return String(err)
}
