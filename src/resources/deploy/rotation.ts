import { change, ok, resource, type ApplyContext, type Handler, type Resource } from '../../contract/resource.ts'
import { sh } from '../../core/sh.ts'
import { pathState, type PathState } from '../../facts/path.ts'
import type { Connection } from '../../ssh/connection.ts'
import { DEFAULT_HAPROXY_SOCKET, serverStat, setServerState, type ServerStat } from './haproxy-runtime.ts'
import { pollUntil } from './health.ts'
import { releaseState, type ReleaseState } from './release-state.ts'
import { describeDeploy, planDeploy, type DeployTarget } from './target.ts'

/** Where a backend server sits in HAProxy, and how long to wait on it. */
export interface BalancerOptions {
  /** Inventory host(s) running HAProxy: the server is taken out of (and put back into) each. */
  lb: string | readonly string[]
  /** The HAProxy backend (`backend web`). */
  backend: string
  /** The server's name in that backend (default: the inventory host's name). */
  server?: string
  /** The runtime API socket, `level admin` (default /run/haproxy/admin.sock). */
  socket?: string
  /** After `drain`, wait this long for the server's sessions to reach 0 (default 30 s). */
  drainTimeoutMs?: number
  /** What to do when they do not: fail the host (default), or go on (the app still finishes its requests on SIGTERM). */
  onDrainTimeout?: 'fail' | 'proceed'
  /** After `ready`, wait this long for HAProxy's health checks to say UP (default 60 s). */
  upTimeoutMs?: number
}

/** Options of `drainServer()`: the balancers, backend, the deploy it belongs to, and how long to wait. */
export interface DrainOptions extends BalancerOptions {
  /**
   * Drain only when this deploy has something to do on the host (its release
   * is not live yet). Without it, the server is drained on every run.
   */
  deploy?: { root: string; target: DeployTarget; unit?: string }
  tags?: readonly string[]
}

/**
 * Written on the host before it is drained and removed once it is back UP:
 * a deploy that dies in between (SIGKILL, lost controller) leaves it, and the
 * next run returns the server to rotation even when it has nothing to deploy.
 */
export function drainMarker(backend: string, server: string): string {
  return `/var/lib/muster/drained/${backend}--${server}`
}

const lbsOf = (o: BalancerOptions): string[] => (typeof o.lb === 'string' ? [o.lb] : [...o.lb])

/**
 * Take this host's server out of HAProxy (`set server B/S state drain` on
 * every balancer), then wait until its sessions reach 0. The returned
 * resource notifies its own handler, which puts the server back (`ready`) and
 * waits for HAProxy to see it UP: handlers run at the end of the host's play
 * even when a later step failed, so a host is never left out of rotation by
 * a failed deploy.
 */
export function drainServer(opts: DrainOptions & { host: string }): { drain: Resource; undrain: Handler } {
  const server = opts.server ?? opts.host
  const marker = drainMarker(opts.backend, server)
  const undrain = returnToRotation({ ...opts, server })
  const probe = {
    marker: pathState(marker),
    ...(opts.deploy ? { state: releaseState(opts.deploy.root, opts.deploy.unit) } : {}),
  }
  const r = resource({
    id: `drain:${opts.backend}/${server}`,
    type: 'drain',
    probe,
    plan(observed) {
      const o = observed as { marker: PathState; state?: ReleaseState }
      const leftOver = o.marker.type !== 'absent'
      const where = `${lbsOf(opts).join(', ')} ${opts.backend}/${server}`
      if (opts.deploy && o.state) {
        const d = planDeploy(opts.deploy.target, o.state, opts.host)
        if (d.kind === 'live') {
          if (!leftOver) return ok(`${describeDeploy(d)}: stays in rotation`)
          // an earlier deploy died while the server was out: bring it back, nothing else to do
          return change(`${describeDeploy(d)}: return ${where} to rotation (left drained by an interrupted deploy)`, (ctx) => undrainNow(ctx, { ...opts, server }))
        }
        return change(`drain ${where} for ${describeDeploy(d)}`, (ctx) => drainNow(ctx, { ...opts, server }))
      }
      return change(`drain ${where}`, (ctx) => drainNow(ctx, { ...opts, server }))
    },
    meta: { notify: undrain, ...(opts.tags ? { tags: opts.tags } : {}) },
  })
  return { drain: r, undrain }
}

/** The handler that returns the server to rotation: `ready`, then wait for UP, then forget the marker. */
export function returnToRotation(opts: BalancerOptions & { server: string }): Handler {
  return { kind: 'handler', name: `return ${opts.backend}/${opts.server} to rotation`, run: (ctx) => undrainNow(ctx, opts) }
}

async function balancers(ctx: ApplyContext, opts: BalancerOptions): Promise<[string, Connection][]> {
  return Promise.all(lbsOf(opts).map(async (name) => [name, await ctx.connectTo(name)] as [string, Connection]))
}

export async function drainNow(ctx: ApplyContext, opts: BalancerOptions & { server: string }): Promise<void> {
  const socket = opts.socket ?? DEFAULT_HAPROXY_SOCKET
  const marker = drainMarker(opts.backend, opts.server)
  await ctx.run(sh`mkdir -p -- /var/lib/muster/drained && printf '%s\n' ${`${lbsOf(opts).join(' ')} ${new Date().toISOString()}`} > ${marker}`)
  const lbs = await balancers(ctx, opts)
  const started = Date.now()
  for (const [, conn] of lbs) await setServerState(conn, opts.backend, opts.server, 'drain', socket)
  const timeoutMs = opts.drainTimeoutMs ?? 30_000
  let last: ServerStat[] = []
  try {
    await pollUntil(
      timeoutMs,
      100,
      async () => {
        last = await Promise.all(lbs.map(([, c]) => serverStat(c, opts.backend, opts.server, socket)))
        return last.every((s) => s.sessions === 0 && s.queued === 0) ? true : undefined
      },
      () => new Error(`${ctx.host.name}: ${opts.backend}/${opts.server} still has ${last.map((s) => s.sessions).join('+')} session(s) after ${timeoutMs / 1000} s of draining`),
    )
  } catch (err) {
    if (opts.onDrainTimeout !== 'proceed') throw err
    ctx.log(`${(err as Error).message}; proceeding (onDrainTimeout: proceed)`)
    return
  }
  ctx.log(`${opts.backend}/${opts.server} drained on ${lbs.map(([n]) => n).join(', ')}: 0 sessions after ${((Date.now() - started) / 1000).toFixed(1)} s`)
}

export async function undrainNow(ctx: ApplyContext, opts: BalancerOptions & { server: string }): Promise<void> {
  const socket = opts.socket ?? DEFAULT_HAPROXY_SOCKET
  const lbs = await balancers(ctx, opts)
  const started = Date.now()
  for (const [, conn] of lbs) await setServerState(conn, opts.backend, opts.server, 'ready', socket)
  const timeoutMs = opts.upTimeoutMs ?? 60_000
  let last: ServerStat[] = []
  await pollUntil(
    timeoutMs,
    100,
    async () => {
      last = await Promise.all(lbs.map(([, c]) => serverStat(c, opts.backend, opts.server, socket)))
      return last.every((s) => s.status === 'UP') ? true : undefined
    },
    () => new Error(`${ctx.host.name}: ${opts.backend}/${opts.server} back in rotation but not UP after ${timeoutMs / 1000} s (HAProxy says ${last.map((s) => s.status).join(', ')}): its health check fails`),
  )
  await ctx.run(sh`rm -f -- ${drainMarker(opts.backend, opts.server)}`)
  ctx.log(`${opts.backend}/${opts.server} UP on ${lbs.map(([n]) => n).join(', ')} after ${((Date.now() - started) / 1000).toFixed(1)} s`)
}
