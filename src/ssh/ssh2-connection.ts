import net from 'node:net'
import { trace } from '../core/trace.ts'
import type { Duplex } from 'node:stream'
import { constants as osConstants } from 'node:os'
import pLimit, { type LimitFunction } from 'p-limit'
import { requirePackage } from '../core/require-package.ts'
import type { Client, ClientChannel, SFTPWrapper, ServerHostKeyAlgorithm } from 'ssh2'
import type { HostInfo } from '../inventory/types.ts'
import { authHandler, describeAuthFailure, planAuth, type KeyCache } from './auth.ts'
import { sealHolds, sealKeyOf, sealOf, type SealKey } from './seal.ts'
import { BecomeGate, becomeCommand, becomeOf, newMarks, usesBecome } from './become.ts'
import { gateChannel, type GatedChannel } from './become-channel.ts'
import { deadlineCommand } from './deadline.ts'
import {
  CommandTimeoutError,
  emptyStats,
  HostKeyError,
  UnreachableError,
  type Connection,
  type ExecOptions,
  type ExecResult,
  type SendAhead,
  type AheadOptions,
} from './connection.ts'
import { defaultKnownHostsFile, lookUpHostKey } from './host-key-check.ts'
import { expandHome } from './home.ts'
import { fingerprintSha256 } from './known-hosts.ts'

const ssh2 = requirePackage('ssh2') as typeof import('ssh2')

export interface ConnectOptions {
  /** known_hosts to use when the host has no ssh.knownHosts (default ~/.ssh/known_hosts). */
  knownHostsFile?: string
  /** Record the key of a host that is not in known_hosts yet. Never replaces a recorded key. */
  acceptNewHostKeys?: boolean
  /** TCP connect + handshake + authentication, when the host has no ssh.connectTimeoutMs (default 10000). */
  connectTimeoutMs?: number
  /** Default 5000. */
  keepaliveIntervalMs?: number
  /** Unanswered keepalives before the connection is declared lost (default 3). */
  keepaliveCountMax?: number
  /** Exec channels open at once on one connection (default 8: sshd's MaxSessions is 10, and SFTP holds one). */
  maxChannels?: number
  /** Reach the host through this connection (its bastion): a direct-tcpip channel instead of a TCP connect. */
  via?: Tunneller
  /** Key files read once per run, shared by every connection of the run (the pool's). */
  keyCache?: KeyCache
  /** Abandon the attempt: it fails at once, its socket closed (the pool's closeAll, for a handshake nobody will use). */
  signal?: AbortSignal
}

/** A connection that can open a TCP stream from its host to another (ssh -J). */
export interface Tunneller {
  readonly host: string
  tunnel(address: string, port: number): Promise<Duplex>
}

export const CONNECT_DEFAULTS = {
  connectTimeoutMs: 10_000,
  keepaliveIntervalMs: 5_000,
  keepaliveCountMax: 3,
  maxChannels: 8,
} as const

/** ssh2's own order, so a host with nothing recorded negotiates exactly as before. */
const DEFAULT_HOST_KEY_ALGORITHMS: readonly ServerHostKeyAlgorithm[] = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
]

type SshError = Error & { level?: string; code?: string | number }

const CLOSED_BY_US = 'closed by muster'

/** Tries to open a channel the server refused while none of ours was open (10 ms doubling: ~0.6 s in all). */
const OPEN_RETRIES = 6

/**
 * Open one SSH connection to `host`: TCP (Nagle off), handshake with the host
 * key checked against known_hosts, then authentication (auth.ts). Every
 * failure is an UnreachableError that says why; a host-key problem is its
 * HostKeyError subclass.
 */
export async function connect(host: HostInfo, opts: ConnectOptions = {}): Promise<Ssh2Connection> {
  const timeoutMs = host.ssh.connectTimeoutMs ?? opts.connectTimeoutMs ?? CONNECT_DEFAULTS.connectTimeoutMs
  const knownHostsFile = expandHome(host.ssh.knownHosts ?? opts.knownHostsFile ?? defaultKnownHostsFile())
  const plan = await planAuth(host, undefined, opts.keyCache)
  // one search of known_hosts per connection: the recorded key types steer the handshake, and the same lines judge the key
  const hostKey = await lookUpHostKey({ host: host.name, address: host.address, port: host.port, file: knownHostsFile, acceptNew: !!opts.acceptNewHostKeys })
  const recorded = hostKey.algorithms as ServerHostKeyAlgorithm[]
  const serverHostKey = [...recorded, ...DEFAULT_HOST_KEY_ALGORITHMS.filter((a) => !recorded.includes(a))]
  const endpoint = `${host.address}:${host.port}`

  const via = opts.via
  return new Promise<Ssh2Connection>((resolve, reject) => {
    const client = new ssh2.Client()
    let socket: Duplex | undefined
    let phase = via ? `while opening a tunnel to ${endpoint} through ${via.host}` : `while connecting to ${endpoint}`
    let hostKeyError: HostKeyError | undefined
    let acceptedKey: Buffer | undefined
    const tried: string[] = []
    const notes: string[] = []
    let settled = false

    const fail = (err: UnreachableError): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      opts.signal?.removeEventListener('abort', abandon)
      socket?.destroy()
      reject(err)
    }
    const failBecause = (message: string, cause?: unknown): void =>
      fail(new UnreachableError(host.name, notes.length ? `${message} (${notes.join('; ')})` : message, cause))
    const abandon = (): void => failBecause(`abandoned ${phase}: the run had closed its connections`)
    const timer = setTimeout(() => failBecause(`timed out after ${timeoutMs} ms ${phase}`), timeoutMs)
    if (opts.signal?.aborted) return abandon()
    opts.signal?.addEventListener('abort', abandon, { once: true })

    client.on('error', (e: SshError) => {
      if (settled) return
      if (hostKeyError) return fail(hostKeyError)
      if (e.level === 'client-socket') return failBecause(socketErrorText(e, endpoint), e)
      if (e.level === 'agent' || (e.level === 'client-authentication' && !/methods failed/.test(e.message))) {
        // ssh2 goes on with the next credential after these
        notes.push(`${e.level}: ${e.message}`)
        return
      }
      if (e.level === 'client-authentication') return failBecause(describeAuthFailure(host.user, plan, tried), e)
      failBecause(`SSH handshake with ${endpoint} failed: ${e.message}`, e)
    })
    client.once('close', () => failBecause(`the connection was closed ${phase}`))
    client.once('handshake', () => {
      phase = `while authenticating as ${host.user} on ${endpoint}`
    })
    client.once('ready', () => {
      if (settled) {
        client.end()
        return
      }
      settled = true
      clearTimeout(timer)
      opts.signal?.removeEventListener('abort', abandon)
      resolve(new Ssh2Connection(host, client, socket!, opts, sealKeyOf(plan, tried)))
    })

    const start = (sock: Duplex): void => {
      socket = sock
      if (settled) return void sock.destroy()
      phase = `during the SSH handshake with ${endpoint}${via ? ` (through ${via.host})` : ''}`
      client.connect({
        sock,
        username: host.user,
        authHandler: authHandler(host.user, plan, tried),
        algorithms: { serverHostKey },
        readyTimeout: 0, // the timer above covers connect, handshake and auth as one budget
        keepaliveInterval: opts.keepaliveIntervalMs ?? CONNECT_DEFAULTS.keepaliveIntervalMs,
        keepaliveCountMax: opts.keepaliveCountMax ?? CONNECT_DEFAULTS.keepaliveCountMax,
        hostVerifier: (key: Buffer, verify: (ok: boolean) => void) => {
          // A re-key presents the key again: it must be the one accepted at first.
          if (acceptedKey) return verify(acceptedKey.equals(key))
          hostKey.verify(key).then(
            () => {
              acceptedKey = Buffer.from(key)
              verify(true)
            },
            (e: unknown) => {
              hostKeyError =
                e instanceof HostKeyError
                  ? e
                  : new HostKeyError(host.name, `cannot check the host key against ${knownHostsFile}: ${(e as Error).message}`, fingerprintSha256(key))
              verify(false)
            },
          )
        },
      })
    }
    if (via) {
      via.tunnel(host.address, host.port).then(
        (stream) => {
          stream.on('error', (e: SshError) => failBecause(`the tunnel through ${via.host} to ${endpoint} failed: ${e.message}`, e))
          start(stream)
        },
        (e: Error) => failBecause(`${via.host} could not open a tunnel to ${endpoint}: ${e.message}`, e),
      )
    } else {
      const tcp = net.connect({ host: host.address, port: host.port })
      // Without this every small request waits for the previous ACK: ~40 ms per exec.
      tcp.setNoDelay(true)
      socket = tcp
      tcp.on('error', (e: SshError) => failBecause(socketErrorText(e, endpoint), e))
      tcp.once('connect', () => start(tcp))
    }
  })
}

function socketErrorText(e: SshError, endpoint: string): string {
  switch (e.code) {
    case 'ECONNREFUSED':
      return `connection refused by ${endpoint} (is sshd running on that port?)`
    case 'ETIMEDOUT':
      return `TCP connection to ${endpoint} timed out`
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `no route to ${endpoint}`
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `cannot resolve ${endpoint.replace(/:\d+$/, '')}`
    case 'ECONNRESET':
      return `${endpoint} reset the connection`
    default:
      return `${endpoint}: ${e.message}`
  }
}

/** A channel openAhead opened: `answer` when a script was sent on it at once. */
interface AheadChannel {
  ch: ClientChannel
  /** when the channel was asked for, as Date.now() counts: the host's deadline for its command runs from about then */
  openedAt: number
  gone: () => boolean
  answer?: AheadAnswer
}

interface AheadAnswer {
  result: Promise<ExecResult>
  /** the channel is gone: its session slot is free */
  closed: Promise<void>
}

/** Settles a caller's promise once, however many of exit, timeout and loss race for it. */
interface Outcome<T> {
  resolve(value: T): void
  reject(err: Error): void
  readonly done: boolean
}

/**
 * One ssh2 connection, used for the whole run: exec channels (at most
 * maxChannels at a time, the rest queue), one lazily opened SFTP session, and
 * keepalive. Once the connection is lost, every pending and later call
 * rejects with the same UnreachableError.
 */
/** Writes up to this size fit one SFTP packet (ssh2's default max packet is 32 KiB, less headers). */
const SFTP_ONE_PACKET = 30 * 1024

export class Ssh2Connection implements Connection {
  readonly stats = emptyStats()
  readonly host: string
  #lost: UnreachableError | undefined
  readonly #pending = new Set<(e: UnreachableError) => void>()
  readonly #limit: LimitFunction
  #sftp: Promise<SFTPWrapper> | undefined
  #channelsOpen = 0
  readonly #closeWaiters: (() => void)[] = []
  #socketClosed = false
  readonly #closed: Promise<void>

  constructor(
    public info: HostInfo,
    private readonly client: Client,
    private readonly socket: Duplex,
    private readonly opts: ConnectOptions = {},
    private readonly sealKey?: SealKey,
  ) {
    this.host = info.name
    this.#limit = pLimit(opts.maxChannels ?? CONNECT_DEFAULTS.maxChannels)
    // recorded once, here: a channel's 'close' fires once, and its `destroyed` may never turn true
    this.#closed = new Promise<void>((resolve) => {
      if (socket.destroyed) {
        this.#socketClosed = true
        return resolve()
      }
      socket.once('close', () => {
        this.#socketClosed = true
        resolve()
      })
    })
    client.on('error', (e: SshError) => this.#lose(lossReason(e, opts)))
    client.on('close', () => this.#lose('the connection was closed'))
  }

  /**
   * An exec channel opened ahead of the run's first command (openAhead), and
   * whether sshd has closed it since; with `sent`, the script already written
   * on it and the answer being gathered.
   */
  #ahead: { command: string; remote: string; sent?: string; channel: Promise<AheadChannel | undefined> } | undefined

  /**
   * Open an exec channel for `command` now, to serve the next exec() of
   * exactly that command, without become: the pool's preconnect opens `sh -s`,
   * which reads its script from stdin, so nothing runs until that exec()
   * writes the run's first probe script. The session's set-up on the host
   * (PAM, logind, the shell's start) then overlaps loading the playbook. Any
   * other exec() first closes it unused (sh reads end-of-file and exits).
   *
   * With `send`: the last identical run's first probe, sealed by this
   * connection's own key, is written at once, so the host runs it while the
   * playbook loads. The run's exec() takes its answer only if it sends exactly
   * that script; any other first exec() leaves it unread. Settles once the
   * channel is open (and the script written), or could not be opened.
   *
   * With `timeoutMs`, the command runs under the host's deadline exactly as an
   * exec() with that timeout would run it (deadline.ts), and only such an
   * exec() takes the channel; its own deadline then counts from the channel's
   * opening, so ours always strikes before the host's.
   */
  openAhead(command: string, send?: SendAhead, opts: AheadOptions = {}): Promise<void> {
    if (this.#lost || this.#ahead || usesBecome(this.info, undefined)) return Promise.resolve()
    const sent = send && this.sealKey && sealHolds(this.sealKey, this.host, send.script, send.seal) ? send.prepare(send.script) : undefined
    const remote = opts.timeoutMs ? deadlineCommand(command, opts.timeoutMs) : command
    const openedAt = Date.now()
    const channel = new Promise<AheadChannel | undefined>((resolve) => {
      try {
        this.client.exec(remote, (err, ch) => {
          if (err) return resolve(undefined)
          let closed = false
          ch.once('close', () => (closed = true))
          resolve({ ch, openedAt, gone: () => closed, ...(sent !== undefined ? { answer: this.#sendAhead(ch, sent) } : {}) })
        })
      } catch {
        resolve(undefined) // the socket is no longer writable: exec() will say so
      }
    })
    this.#ahead = { command, remote, ...(sent !== undefined ? { sent } : {}), channel }
    if (sent !== undefined) trace(`${this.host}: the last run's first probe is sent ahead`)
    return channel.then(() => undefined)
  }

  sentAhead(command: string): string | undefined {
    return this.#ahead?.command === command ? this.#ahead.sent : undefined
  }

  seal(text: string): string | undefined {
    return this.sealKey ? sealOf(this.sealKey, this.host, text) : undefined
  }

  /** Write the script and gather its answer now, as exec() would; the channel holds a session slot until it closes. */
  #sendAhead(ch: ClientChannel, script: string): AheadAnswer {
    // settled once, and rejected if the connection is lost before the answer is in (as any exec)
    const taken: { settle?: Outcome<ExecResult> } = {}
    const result = this.#track<ExecResult>((outcome) => (taken.settle = outcome))
    result.catch(() => undefined) // read by the exec() that takes it, or by no one
    const settle = taken.settle
    if (!settle) {
      ch.close() // lost already: nothing is sent
      return { result, closed: Promise.resolve() }
    }
    this.#channelsOpen++
    this.stats.bytesSent += Buffer.byteLength(script)
    let gone!: () => void
    const closed = new Promise<void>((resolve) => (gone = resolve))
    this.#collect(ch, settle, () => {
      this.#channelsOpen--
      for (const wake of this.#closeWaiters.splice(0)) wake()
      gone()
    })
    ch.end(script)
    return { result, closed }
  }

  /**
   * The channel opened ahead, if this exec may take it; any other exec closes it first (and never reads what was sent on
   * it). Under a deadline, one opened more than half of it ago is not taken: the host's deadline counts from its opening.
   */
  #takeAhead(remote: string, opts: ExecOptions, gated: boolean): Promise<AheadChannel | undefined> | undefined {
    const ahead = this.#ahead
    if (!ahead) return undefined
    this.#ahead = undefined
    const stdin = opts.stdin
    const fits = ahead.remote === remote && !gated && (ahead.sent === undefined || (stdin !== undefined && stdin.toString() === ahead.sent))
    return ahead.channel.then((got) => {
      const fresh = !opts.timeoutMs || (got !== undefined && Date.now() - got.openedAt < opts.timeoutMs / 2)
      if (got && fits && fresh && (got.answer || !got.gone())) {
        trace(`${this.host}: the channel opened ahead runs ${ahead.command}${got.answer ? ', its script sent ahead' : ''}`)
        return got
      }
      if (got?.answer) {
        this.stats.execs++ // it ran: a script this run did not use is still an exec on the host
        trace(`${this.host}: the script sent ahead is not this run's first: its answer is not read`)
      }
      if (got && !got.gone()) got.ch.close()
      return undefined
    })
  }

  rebind(info: HostInfo): void {
    if (info.name !== this.host) throw new Error(`a connection to ${this.host} cannot be handed to ${info.name}`)
    this.info = info
  }

  /** Why this connection can no longer be used, if it cannot. */
  get lost(): UnreachableError | undefined {
    return this.#lost
  }

  /**
   * A TCP stream from this host to address:port (a direct-tcpip channel): how a
   * host behind this one as its bastion is reached. sshd counts these apart
   * from MaxSessions, so they do not take the exec channels' places.
   */
  tunnel(address: string, port: number): Promise<Duplex> {
    if (this.#lost) return Promise.reject(this.#lost)
    return new Promise((resolve, reject) => {
      try {
        this.client.forwardOut('127.0.0.1', 0, address, port, (err, stream) => {
          if (!err) {
            // the host's end went away (EOF): an SSH transport has nothing left to say either. Closing
            // our side too is what makes sshd close the channel, and the host's connection see 'close'.
            stream.once('end', () => stream.destroy())
            return resolve(stream)
          }
          // RFC 4254 5.1 reason codes: ssh2's message alone says only "open failed"
          const reason = (err as Error & { reason?: number }).reason
          const why =
            reason === 1
              ? 'its sshd refused to forward (administratively prohibited: is AllowTcpForwarding on in its sshd_config?)'
              : reason === 2
                ? `it could not connect to ${address}:${port}`
                : err.message
          reject(new Error(why, { cause: err }))
        })
      } catch (err) {
        reject(this.#lost ?? (err as Error)) // ssh2 throws when the socket is no longer writable
      }
    })
  }

  exec(command: string, opts: ExecOptions = {}): Promise<ExecResult> {
    // The deadline goes inside sudo, so `timeout` runs as root and can kill what the command started.
    const bounded = opts.timeoutMs ? deadlineCommand(command, opts.timeoutMs) : command
    if (!usesBecome(this.info, opts.become)) return this.#track<ExecResult>((outcome) => this.#limit(() => this.#runChannel(command, bounded, opts, outcome)))
    const how = becomeOf(this.info)
    // a password travels only on the channel's stdin, answered to the tool's prompt (become.ts)
    const marks = how.password ? newMarks() : undefined
    const gate = how.password && marks ? new BecomeGate({ ...how, password: how.password }, marks) : undefined
    const remote = becomeCommand(bounded, how, marks)
    return this.#track<ExecResult>((outcome) => this.#limit(() => this.#runChannel(command, remote, opts, outcome, gate)))
  }

  /**
   * Write `remotePath` over the shared SFTP session, as the login user: SFTP
   * cannot use sudo. With become and a non-root user, upload to a temp path
   * the user can write and move it into place with a become exec.
   */
  async put(content: Buffer | string, remotePath: string, opts: { mode?: number } = {}): Promise<void> {
    const data = typeof content === 'string' ? Buffer.from(content, 'utf8') : content
    const sftp = await this.#sftpSession()
    await this.#track<void>((outcome) => {
      this.stats.sftpOps++
      this.stats.bytesSent += data.length
      const fail = (op: string) => (err: Error) => outcome.reject(this.#lost ?? new Error(`${this.host}: sftp ${op} ${remotePath}: ${err.message}`, { cause: err }))
      // Created with its mode, so a secret is never readable by others, not even for a moment.
      sftp.open(remotePath, 'w', opts.mode === undefined ? {} : { mode: opts.mode }, (err, handle) => {
        if (err) return fail('open')(err)
        // A small file's write, chmod and close go out together: the server runs them in order, one
        // round trip. ssh2 splits a larger write into packets, sending each when the one before is
        // acknowledged, so a close sent alongside would overtake them: wait for the write first.
        const write = sftpCall((cb) => sftp.write(handle, data, 0, data.length, 0, cb)).catch(fail('write'))
        const rest = (): Promise<void>[] => [
          ...(opts.mode === undefined ? [] : [sftpCall((cb) => sftp.fchmod(handle, opts.mode!, cb)).catch(fail('chmod'))]),
          sftpCall((cb) => sftp.close(handle, cb)).catch(fail('close')),
        ]
        const steps = data.length <= SFTP_ONE_PACKET ? Promise.all([write, ...rest()]) : write.then(() => Promise.all(rest()))
        void steps.then(() => outcome.resolve())
      })
    })
  }

  async get(remotePath: string): Promise<Buffer> {
    const sftp = await this.#sftpSession()
    return this.#track<Buffer>((outcome) => {
      this.stats.sftpOps++
      sftp.readFile(remotePath, (err, data) => {
        if (err) return outcome.reject(this.#lost ?? new Error(`${this.host}: sftp get ${remotePath}: ${err.message}`, { cause: err }))
        this.stats.bytesReceived += data.length
        outcome.resolve(data)
      })
    })
  }

  async close(opts: { wait?: boolean } = {}): Promise<void> {
    if (this.#socketClosed) return
    this.#lose(CLOSED_BY_US)
    this.client.end()
    // the goodbye is in the kernel's buffer; sshd's answer comes after its session teardown (PAM, logind)
    if (opts.wait === false && this.socket instanceof net.Socket) return void this.socket.unref()
    // A peer that never answers our disconnect must not hold the run open. The wait ends
    // at 2 s whatever the socket does: a tunnel (an ssh2 channel through a bastion) that
    // already closed never says 'close' again, and `destroyed` stays false on it.
    let force: NodeJS.Timeout | undefined
    await Promise.race([
      this.#closed,
      new Promise<void>((resolve) => {
        force = setTimeout(() => {
          this.socket.destroy()
          resolve()
        }, 2_000)
      }),
    ])
    clearTimeout(force)
  }

  /** Run `work` with a caller-facing outcome that also rejects if the connection is lost meanwhile. */
  #track<T>(work: (outcome: Outcome<T>) => unknown): Promise<T> {
    if (this.#lost) return Promise.reject(this.#lost)
    return new Promise<T>((resolve, reject) => {
      let done = false
      const finish = (): boolean => {
        if (done) return false
        done = true
        this.#pending.delete(onLost)
        return true
      }
      const onLost = (e: UnreachableError): void => {
        if (finish()) reject(e)
      }
      this.#pending.add(onLost)
      const outcome: Outcome<T> = {
        resolve: (v) => finish() && resolve(v),
        reject: (e) => finish() && reject(e),
        get done() {
          return done
        },
      }
      try {
        work(outcome)
      } catch (e) {
        outcome.reject(e instanceof Error ? e : new Error(String(e)))
      }
    })
  }

  /**
   * One exec channel. The promise it returns ends when the channel is gone,
   * which is what frees a slot: a timed-out command's caller is answered at
   * once, but its channel still counts against MaxSessions until it closes.
   */
  #runChannel(command: string, remote: string, opts: ExecOptions, outcome: Outcome<ExecResult>, gate?: BecomeGate): Promise<void> {
    return new Promise<void>((released) => {
      if (this.#lost) {
        outcome.reject(this.#lost)
        return released()
      }
      if (outcome.done) return released()
      this.stats.execs++
      let channel: ClientChannel | undefined
      let timer: NodeJS.Timeout | undefined
      /** Our deadline, `after` ms from now: always before the host's (deadline.ts), which has a grace over it. */
      const arm = (after: number): void => {
        clearTimeout(timer)
        const ms = opts.timeoutMs!
        timer = setTimeout(() => {
          outcome.reject(new CommandTimeoutError(this.host, command, ms))
          if (channel) kill(channel)
        }, after)
      }
      if (opts.timeoutMs) arm(opts.timeoutMs)
      const openFailed = (e: Error): void => {
        clearTimeout(timer)
        outcome.reject(this.#lost ?? new UnreachableError(this.host, `cannot open a session channel: ${e.message}`, e))
        released()
      }
      const opened = (ch: ClientChannel): void => {
        this.#channelsOpen++
        channel = ch
        if (outcome.done) kill(ch) // timed out or lost while the channel was opening
        const sendStdin = (): void => {
          if (opts.stdin !== undefined) this.stats.bytesSent += Buffer.byteLength(opts.stdin)
          ch.end(opts.stdin)
        }
        // with a become password, stdin waits until the tool has taken the password and the command runs
        const gated = gate ? gateChannel(ch, gate, this.host, { start: sendStdin, fail: (e) => outcome.reject(e), kill: () => kill(ch) }) : undefined
        this.#collect(ch, outcome, () => {
          clearTimeout(timer)
          this.#channelsOpen--
          for (const wake of this.#closeWaiters.splice(0)) wake()
          released()
        }, gated)
        if (!gated) sendStdin()
      }
      const attempt = (refusals: number): void => {
        if (outcome.done) {
          clearTimeout(timer)
          return released()
        }
        try {
          this.client.exec(remote, (err, ch) => {
            if (err) {
              const refused = (err as { reason?: unknown }).reason !== undefined && !this.#lost
              // sshd frees a closed session only on its next loop turn, and an admin may set MaxSessions
              // below our cap: while our other channels run, wait for one to close and try again.
              if (refused && this.#channelsOpen > 0) return void this.#nextChannelClose().then(() => attempt(refusals))
              if (refused && refusals < OPEN_RETRIES) return void setTimeout(() => attempt(refusals + 1), 10 * 2 ** refusals)
              return openFailed(err)
            }
            opened(ch)
          })
        } catch (e) {
          openFailed(e as Error) // ssh2 throws when the socket is no longer writable
        }
      }
      const ahead = this.#takeAhead(remote, opts, gate !== undefined)
      if (!ahead) return attempt(0)
      void ahead.then((got) => {
        if (!got) return attempt(0)
        // the host's deadline for a channel opened ahead counts from its opening: so does ours
        if (opts.timeoutMs) arm(Math.max(0, opts.timeoutMs - (Date.now() - got.openedAt)))
        if (got.answer) {
          // the script went with the channel: its answer, maybe already here, is this exec's
          channel = got.ch
          got.answer.result.then(outcome.resolve, outcome.reject)
          return void got.answer.closed.then(() => {
            clearTimeout(timer)
            released()
          })
        }
        if (this.#lost || outcome.done) {
          got.ch.close()
          if (!outcome.done) outcome.reject(this.#lost!)
          clearTimeout(timer)
          return released()
        }
        opened(got.ch)
      })
    })
  }

  /** Gather a channel's output and exit status into the caller's outcome; `closed` runs once the channel is gone. */
  #collect(ch: ClientChannel, outcome: Outcome<ExecResult>, closed: () => void, gated?: GatedChannel): void {
    const out: Buffer[] = []
    const errOut: Buffer[] = []
    let code: number | undefined
    ch.on('data', (d: Buffer) => out.push(d))
    ch.stderr.on('data', (d: Buffer) => {
      const kept = gated ? gated.stderr(d) : d
      if (kept) errOut.push(kept)
    })
    ch.on('exit', (status: number | null, signal?: string) => {
      code = status ?? signalExitCode(signal)
    })
    ch.on('error', (e: Error) => outcome.reject(this.#lost ?? new Error(`${this.host}: exec channel: ${e.message}`, { cause: e })))
    const finish = (): void => {
      closed()
      if (this.#lost) return outcome.reject(this.#lost)
      const notStarted = gated?.ended(code ?? 255)
      if (notStarted) return outcome.reject(notStarted)
      const stdout = Buffer.concat(out)
      const stderr = Buffer.concat(errOut)
      this.stats.bytesReceived += stdout.length + stderr.length
      // No exit status at all is what `ssh` reports as 255.
      outcome.resolve({ code: code ?? 255, stdout: stdout.toString('utf8'), stderr: stderr.toString('utf8') })
    }
    // stderr may still hold data when the channel closes; wait for its end.
    ch.on('close', () => (ch.stderr.readableEnded ? finish() : ch.stderr.once('end', finish)))
  }

  /** Resolves when one of our exec channels closes (or after a second, in case none does). */
  #nextChannelClose(): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, 1_000)
      this.#closeWaiters.push(() => {
        clearTimeout(t)
        // let sshd run its loop once and free the session before we ask again
        setTimeout(resolve, 2)
      })
    })
  }

  /** One SFTP session per connection, opened on first use: opening costs several round trips. */
  #sftpSession(): Promise<SFTPWrapper> {
    if (this.#lost) return Promise.reject(this.#lost)
    if (!this.#sftp) {
      const opening = this.#track<SFTPWrapper>((outcome) => {
        this.client.sftp((err, sftp) => {
          if (err) return outcome.reject(this.#lost ?? new UnreachableError(this.host, `cannot open an SFTP session: ${err.message}`, err))
          // A broken session is dropped and the next put/get opens a new one.
          const forget = (): void => {
            if (this.#sftp === opening) this.#sftp = undefined
          }
          sftp.on('close', forget)
          sftp.on('error', forget)
          outcome.resolve(sftp)
        })
      })
      this.#sftp = opening
      opening.catch(() => {
        if (this.#sftp === opening) this.#sftp = undefined
      })
    }
    return this.#sftp
  }

  #lose(reason: string): void {
    if (this.#lost) return
    this.#lost = new UnreachableError(this.host, reason === CLOSED_BY_US ? 'the connection was closed by muster' : `connection lost: ${reason}`)
    for (const reject of [...this.#pending]) reject(this.#lost)
    this.#pending.clear()
    if (reason !== CLOSED_BY_US) this.socket.destroy()
  }
}

function lossReason(e: SshError, opts: ConnectOptions): string {
  if (e.level === 'client-timeout' && /keepalive/i.test(e.message)) {
    const every = opts.keepaliveIntervalMs ?? CONNECT_DEFAULTS.keepaliveIntervalMs
    const count = opts.keepaliveCountMax ?? CONNECT_DEFAULTS.keepaliveCountMax
    return `no answer to ${count} keepalives sent every ${every} ms`
  }
  return e.message
}

/** Exit code the way a shell reports a signal death: 128 + its number. */
function signalExitCode(signal: string | undefined): number {
  const n = signal ? osConstants.signals[signal as NodeJS.Signals] : undefined
  return n === undefined ? 255 : 128 + n
}

/** What ssh2 exposes inside a channel; only used to send a signal after our stdin EOF. */
interface ChannelInternals {
  outgoing: { id: number; state: string }
  _client: { _protocol: { signal(channelId: number, name: string): void } }
}

/**
 * Kill the remote command and close the channel. ssh2's public signal() refuses
 * once we have sent EOF (always, for us), but the protocol allows the request
 * until the channel closes. sshd honours it only for non-root logins and
 * delivers it as the login user, so commands under sudo survive it: the
 * remote deadline (deadline.ts) is what stops those.
 */
function kill(ch: ClientChannel): void {
  const inner = ch as unknown as ChannelInternals
  if (inner.outgoing.state === 'open' || inner.outgoing.state === 'eof') inner._client._protocol.signal(inner.outgoing.id, 'KILL')
  ch.close()
}

function sftpCall(start: (cb: (err: Error | null | undefined) => void) => void): Promise<void> {
  return new Promise((resolve, reject) => start((err) => (err ? reject(err) : resolve())))
}
