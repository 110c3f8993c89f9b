import type { ApplyContext, Handler } from '../../contract/resource.ts'
import { sh } from '../../core/sh.ts'
import { HaproxyRuntimeError, DEFAULT_HAPROXY_SOCKET, serverStat } from './haproxy-runtime.ts'
import { waitForHealth } from './health.ts'
import { drainNow, undrainNow, type BalancerOptions } from './rotation.ts'

/** Options of `restartInRotation()`: the unit to restart, the balancers and backend to take the host out of meanwhile, and the health URL that must answer before it goes back. */
export interface RestartInRotationOptions extends BalancerOptions {
  /** The inventory host the handler is for (its server in the backend, unless `server` says otherwise). */
  host: string
  /** The systemd unit to restart (after `systemctl daemon-reload`). */
  unit: string
  /** Asked on the host after the restart: `http://127.0.0.1:3000/health`. */
  healthUrl: string
  /** How long the restarted service may take to answer healthy (default 30 s). */
  healthTimeoutMs?: number
  /** The handler's name in reports (default "restart <unit> in rotation"). */
  name?: string
}

/**
 * The hosts of one backend restart one at a time within a run: the chain of
 * restarts in flight, per backend, on the controller (handlers of different
 * hosts run in parallel, and two hosts out of rotation at once could leave
 * the balancer with nobody).
 */
const inFlight = new Map<string, Promise<void>>()

function oneAtATime(key: string, fn: () => Promise<void>): Promise<void> {
  const before = inFlight.get(key) ?? Promise.resolve()
  const mine = before.catch(() => {}).then(fn)
  inFlight.set(key, mine.catch(() => {}))
  return mine
}

/**
 * A handler that restarts a service behind HAProxy without a failed request:
 * out of rotation (drain on every balancer, sessions to 0), restart, healthy
 * on the host, back in rotation once HAProxy sees it UP; the hosts of one
 * backend take their turn one after another. A changed environment file (a
 * rotated password) takes effect this way. Where HAProxy does not balance the
 * server yet (a first provision: the balancer's play comes later), it is a
 * plain restart.
 */
export function restartInRotation(opts: RestartInRotationOptions): Handler {
  const server = opts.server ?? opts.host
  const balancer = { ...opts, server }
  return {
    kind: 'handler',
    name: opts.name ?? `restart ${opts.unit} in rotation`,
    run: (ctx) => oneAtATime(`${[opts.lb].flat().join(',')}/${opts.backend}`, () => restartNow(ctx, opts, balancer)),
  }
}

/**
 * How a restart treats the balancers, from what each says of the server now:
 * `rotate` (drain, restart, back once UP) while some balancer sends it
 * traffic; `plain` where HAProxy does not know it yet, or where no balancer
 * sends it traffic anyway: DOWN everywhere (its health check was failing
 * before the restart, e.g. a host rebuilt behind a running balancer whose
 * nginx is reloaded by a later handler), or in MAINT on one (an admin took it
 * out; `ready` would override that). Waiting for UP there would wait on
 * something the restart did not break and cannot fix.
 */
export function rotationFor(stats: readonly { lb: string; status: string }[] | undefined): { kind: 'rotate' } | { kind: 'plain'; why: string } {
  if (!stats || stats.length === 0) return { kind: 'plain', why: 'is not behind HAProxy yet' }
  const maint = stats.filter((s) => s.status.startsWith('MAINT'))
  if (maint.length > 0) return { kind: 'plain', why: `is in maintenance on ${maint.map((s) => s.lb).join(', ')} (left as it is)` }
  if (stats.every((s) => s.status === 'DOWN' || s.status.startsWith('DOWN '))) {
    return { kind: 'plain', why: `was already DOWN on ${stats.map((s) => s.lb).join(', ')} before the restart (its health check was failing; HAProxy's own checks bring it back)` }
  }
  return { kind: 'rotate' }
}

async function restartNow(ctx: ApplyContext, opts: RestartInRotationOptions, balancer: BalancerOptions & { server: string }): Promise<void> {
  const restart = sh`systemctl daemon-reload && systemctl restart ${opts.unit}`
  const health = (): Promise<number> => waitForHealth(ctx.conn, { url: opts.healthUrl, timeoutMs: opts.healthTimeoutMs ?? 30_000 })
  const stats = await statsOn(ctx, balancer)
  const how = rotationFor(stats)
  if (how.kind === 'plain') {
    ctx.log(`${balancer.backend}/${balancer.server} ${how.why}: a plain restart`)
    await ctx.run(restart)
    // behind a balancer, the restart must still come back healthy on the host
    if (stats) await health()
    return
  }
  await drainNow(ctx, balancer)
  await ctx.run(restart)
  await health()
  await undrainNow(ctx, balancer)
}

/** What every balancer says of the server, or undefined when one does not know it (HAProxy not installed, not running, not configured with it). */
async function statsOn(ctx: ApplyContext, b: BalancerOptions & { server: string }): Promise<{ lb: string; status: string }[] | undefined> {
  const lbs = typeof b.lb === 'string' ? [b.lb] : [...b.lb]
  if (lbs.length === 0) return undefined
  try {
    const out: { lb: string; status: string }[] = []
    for (const lb of lbs) out.push({ lb, status: (await serverStat(await ctx.connectTo(lb), b.backend, b.server, b.socket ?? DEFAULT_HAPROXY_SOCKET)).status })
    return out
  } catch (err) {
    // only "HAProxy is not there (yet)" means a plain restart; anything else is a real failure
    if (err instanceof HaproxyRuntimeError) return undefined
    throw err
  }
}
