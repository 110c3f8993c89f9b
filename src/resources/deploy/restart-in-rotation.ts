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

async function restartNow(ctx: ApplyContext, opts: RestartInRotationOptions, balancer: BalancerOptions & { server: string }): Promise<void> {
  const restart = sh`systemctl daemon-reload && systemctl restart ${opts.unit}`
  const health = (): Promise<number> => waitForHealth(ctx.conn, { url: opts.healthUrl, timeoutMs: opts.healthTimeoutMs ?? 30_000 })
  if (!(await balanced(ctx, balancer))) {
    ctx.log(`${balancer.backend}/${balancer.server} is not behind HAProxy yet: a plain restart`)
    await ctx.run(restart)
    return
  }
  await drainNow(ctx, balancer)
  await ctx.run(restart)
  await health()
  await undrainNow(ctx, balancer)
}

/** Does every balancer know the server (HAProxy installed, running, configured with it)? */
async function balanced(ctx: ApplyContext, b: BalancerOptions & { server: string }): Promise<boolean> {
  const lbs = typeof b.lb === 'string' ? [b.lb] : [...b.lb]
  if (lbs.length === 0) return false
  try {
    for (const lb of lbs) await serverStat(await ctx.connectTo(lb), b.backend, b.server, b.socket ?? DEFAULT_HAPROXY_SOCKET)
    return true
  } catch (err) {
    // only "HAProxy is not there (yet)" means a plain restart; anything else is a real failure
    if (err instanceof HaproxyRuntimeError) return false
    throw err
  }
}
