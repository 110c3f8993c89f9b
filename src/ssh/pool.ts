import { setMaxListeners } from 'node:events'
import pLimit, { type LimitFunction } from 'p-limit'
import type { HostInfo } from '../inventory/types.ts'
import { emptyStats, HostKeyError, UnreachableError, type Connection, type ConnectionStats, type SendAhead } from './connection.ts'
import { connect, type ConnectOptions, type Tunneller } from './ssh2-connection.ts'
import { endpointOf, hostOfEndpoint, sameEndpoint, type Endpoint } from './endpoint.ts'

export interface PoolOptions extends ConnectOptions {
  /** SSH handshakes in flight at once (default 10): each costs the controller CPU, and sshd's MaxStartups drops the excess. */
  maxHandshakes?: number
  /** How to open one connection; tests pass a fake. */
  connect?: (host: HostInfo, opts: ConnectOptions) => Promise<Connection>
}

/**
 * One connection per host for the whole run. A host is connected at most once:
 * later callers share the same promise, and a failed connect stays that host's
 * UnreachableError for the rest of the run instead of being retried per play.
 */
export class ConnectionPool {
  readonly #connections = new Map<string, Promise<Connection>>()
  readonly #open = new Map<string, Connection>()
  /** The run's own view of each host it asked for, as connections were opened. */
  readonly #hosts = new Map<string, HostInfo>()
  /** Connections opened ahead of the run (preconnect), not yet asked for. */
  readonly #early = new Map<string, { endpoint: Endpoint; conn: Promise<Connection> }>()
  readonly #handshakes: LimitFunction
  readonly #connect: (host: HostInfo, opts: ConnectOptions) => Promise<Connection>
  /** Aborted by closeAll: a handshake still in flight then is abandoned, not waited for. */
  #closing = closingSignal()

  private readonly opts: PoolOptions

  constructor(opts: PoolOptions = {}) {
    this.#handshakes = pLimit(opts.maxHandshakes ?? 10)
    this.opts = { ...opts, keyCache: opts.keyCache ?? new Map() }
    const open = opts.connect ?? connect
    this.#connect = (host, o) => open(host, { ...o, signal: this.#closing.signal })
  }

  get(host: HostInfo): Promise<Connection> {
    let conn = this.#connections.get(host.name)
    if (!conn) {
      this.#hosts.set(host.name, host)
      conn = (this.#adopt(host) ?? this.#open1(host)).then(
        (c) => {
          this.#open.set(host.name, c)
          return c
        },
        (e: unknown) => {
          throw e instanceof UnreachableError ? e : new UnreachableError(host.name, (e as Error)?.message ?? String(e), e)
        },
      )
      // A remembered failure must not count as an unhandled rejection before anyone asks again.
      conn.catch(() => undefined)
      this.#connections.set(host.name, conn)
    }
    return conn
  }

  #open1(host: HostInfo): Promise<Connection> {
    // the bastion first, outside the handshake limit: hosts waiting for it must not hold every slot it needs
    const via = host.jump ? this.#bastion(host, host.jump) : Promise.resolve(undefined)
    return via.then((v) => this.#handshakes(() => this.#connect(host, v ? { ...this.opts, via: v } : this.opts)))
  }

  /**
   * Start connecting to these hosts now, before the run asks for them: the
   * handshakes then overlap loading the playbook and inventory (the CLI's
   * preconnect.ts names them from the last identical run). Nothing runs on
   * these connections but, with `sendAhead`, the last identical run's sealed,
   * read-only first probe. get() takes one over only if the run's host has the
   * very same endpoint; the rest are closed unused by closeAll(). A host key
   * not yet in known_hosts is never accepted here, whatever acceptNewHostKeys
   * says: get() then connects again as the run asked. `openAhead`: a command
   * whose channel each connection opens as soon as it is up, for the run's
   * first exec of it (the probe's `sh -s`, waiting for its script on stdin);
   * `sendAhead`: the script to write on it at once, host by host (the last
   * identical run's first probe, sealed: Connection.openAhead), and
   * `aheadTimeoutMs` the deadline the run's exec of it will ask for.
   *
   * Settles once every one of them is up, with its channel open and its
   * script written, or has failed; never rejects (early.ts waits on it).
   */
  preconnect(endpoints: readonly Endpoint[], opts: { openAhead?: string; aheadTimeoutMs?: number; sendAhead?: (host: string) => SendAhead | undefined } = {}): Promise<void> {
    const settled: Promise<unknown>[] = []
    for (const endpoint of endpoints) {
      if (this.#connections.has(endpoint.name) || this.#early.has(endpoint.name)) continue
      let ahead: Promise<void> | undefined
      const conn = this.#handshakes(() => this.#connect(hostOfEndpoint(endpoint), { ...this.opts, acceptNewHostKeys: false })).then((c) => {
        if (opts.openAhead !== undefined) ahead = c.openAhead?.(opts.openAhead, opts.sendAhead?.(endpoint.name), opts.aheadTimeoutMs ? { timeoutMs: opts.aheadTimeoutMs } : {})
        return c
      })
      conn.catch(() => undefined) // judged when the run asks for the host, or never
      this.#early.set(endpoint.name, { endpoint, conn })
      this.preconnected.opened++
      settled.push(conn.then(() => ahead, () => undefined))
    }
    return Promise.all(settled).then(() => undefined)
  }

  /** How many preconnected hosts the run has taken over so far, of how many opened. */
  readonly preconnected = { opened: 0, used: 0 }

  /** The preconnected connection for this host, if it is one the run may use. */
  #adopt(host: HostInfo): Promise<Connection> | undefined {
    const early = this.#early.get(host.name)
    if (!early) return undefined
    this.#early.delete(host.name)
    const wanted = endpointOf(host)
    if (!wanted || !sameEndpoint(wanted, early.endpoint)) {
      void early.conn.then((c) => c.close(), () => undefined)
      return undefined
    }
    return early.conn.then(
      (c) => {
        const lost = (c as { lost?: unknown }).lost
        if (!c.rebind || lost) {
          void c.close()
          return this.#open1(host)
        }
        c.rebind(host)
        this.preconnected.used++
        return c
      },
      // a key the early connection refused to learn: connect again, as the run asked (acceptNewHostKeys)
      (e: unknown) => (e instanceof HostKeyError ? this.#open1(host) : Promise.reject(e)),
    )
  }

  /** The hosts this pool has connected, as the run described them (for the next run's preconnect). */
  connectedHosts(): HostInfo[] {
    return [...this.#open.keys()].map((name) => this.#hosts.get(name)!).filter(Boolean)
  }

  /** The host's connection's seal over `text` (Connection.seal), if it is open and logged in with a key file. */
  seal(name: string, text: string): string | undefined {
    return this.#open.get(name)?.seal?.(text)
  }

  /** Bastions by how many hops from here they are (1: reached directly). */
  readonly #bastions = new Map<string, number>()

  async #bastion(host: HostInfo, jump: HostInfo): Promise<Tunneller> {
    let hops = 1
    for (let j = jump.jump; j; j = j.jump) hops++
    this.#bastions.set(jump.name, hops)
    let c: Connection
    try {
      c = await this.get(jump)
    } catch (e) {
      throw new UnreachableError(host.name, `its bastion ${jump.name} is unreachable: ${(e as Error).message}`, e)
    }
    if (!('tunnel' in c)) throw new UnreachableError(host.name, `its bastion ${jump.name} cannot open tunnels`)
    return c as Connection & Tunneller
  }

  /** What this host's connection has cost so far (zeros if it never connected). */
  statsOf(name: string): ConnectionStats {
    return this.#open.get(name)?.stats ?? emptyStats()
  }

  /**
   * Between the checks of `check --watch`: forget hosts whose connect failed
   * or whose connection was lost, so the next get() tries them again.
   */
  async forgetBroken(): Promise<void> {
    for (const [name, p] of [...this.#connections]) {
      const broken = await p.then(
        (c) => 'lost' in c && Boolean((c as { lost?: unknown }).lost),
        () => true,
      )
      if (broken) {
        this.#connections.delete(name)
        this.#open.delete(name)
      }
    }
  }

  /**
   * Close every connection. A handshake still in flight is abandoned (its
   * socket closed at once), so none is left open behind the caller and none
   * holds it up until its timeout. Stats stay readable; a later get() reconnects.
   * `wait: false` (the CLI, once a run is over): goodbyes are sent but the
   * hosts' answers are not waited for, so the process can exit at once.
   */
  async closeAll(opts: { wait?: boolean } = {}): Promise<void> {
    // a handshake still in flight (an early connection the run never took, a host still connecting when the run
    // was interrupted) would otherwise hold the exit until its timeout
    this.#closing.abort()
    this.#closing = closingSignal()
    const all = [...this.#connections.entries(), ...[...this.#early].map(([name, e]) => [name, e.conn] as const)]
    this.#connections.clear()
    this.#early.clear()
    const settled = await Promise.allSettled(all.map(([, c]) => c))
    const open = settled.flatMap((r, i) => (r.status === 'fulfilled' ? [{ name: all[i]![0], conn: r.value }] : []))
    // the hosts behind a bastion first, then bastions from the farthest in: closing a bastion
    // first would cut the tunnels of what is behind it mid-goodbye
    const depth = (name: string): number => this.#bastions.get(name) ?? Infinity
    const waves = [...new Set(open.map((o) => depth(o.name)))].sort((a, b) => b - a)
    for (const d of waves) await Promise.all(open.filter((o) => depth(o.name) === d).map((o) => o.conn.close(opts)))
  }
}

/** One signal for every handshake of a pool, so any number of them may listen. */
function closingSignal(): AbortController {
  const c = new AbortController()
  setMaxListeners(0, c.signal)
  return c
}
