/**
 * A child process that plays many SSH hosts: one ssh2 Server, listening on
 * one loopback address per simulated host, that accepts the bench's client
 * key and answers muster's `sh -s` scripts from a ProbeReplayer. It runs
 * apart from the controller being measured so the controller's CPU and memory
 * figures are its own.
 *
 * Started with fork(); the parent sends its ServerConfig as the first
 * message, and gets back 'ready' (or 'failed'); later 'stats' messages are
 * answered with ServerStats.
 */
import net from 'node:net'
import { readFileSync } from 'node:fs'
import ssh2 from 'ssh2'
import type { Connection as ServerClient, ParsedKey } from 'ssh2'
import { ProbeReplayer, localScriptRunner } from './replay.ts'

export interface ServerConfig {
  endpoints: { address: string; port: number }[]
  hostKeyFile: string
  clientPublicKey: string
  shimDir: string
}

export interface ServerStats {
  connections: number
  execs: number
  unexpected: string[]
  replayHits: number
  replayMisses: number
  cpuUserMs: number
  cpuSystemMs: number
  rssMb: number
}

export type ServerMessage = { type: 'ready' } | { type: 'failed'; message: string } | { type: 'stats'; stats: ServerStats }

type ParentMessage = { type: 'config'; config: ServerConfig } | { type: 'stats' }

const PROBE_COMMAND = 'sh -s'

function start(config: ServerConfig): Promise<() => ServerStats> {
  const allowed = firstKey(ssh2.utils.parseKey(config.clientPublicKey))
  const allowedBlob = allowed.getPublicSSH()
  const replayer = new ProbeReplayer(localScriptRunner(config.shimDir))
  let connections = 0
  let execs = 0
  const unexpected: string[] = []

  const ssh = new ssh2.Server({ hostKeys: [readFileSync(config.hostKeyFile)] }, (client: ServerClient) => {
    connections++
    client.on('error', () => undefined) // a controller closing its side mid-packet is no news here
    client.on('authentication', (ctx) => {
      if (ctx.method !== 'publickey' || ctx.key.algo !== allowed.type || !ctx.key.data.equals(allowedBlob)) return ctx.reject(['publickey'])
      if (!ctx.signature) return ctx.accept() // "would this key do?": yes
      if (allowed.verify(ctx.blob!, ctx.signature, ctx.hashAlgo) === true) return ctx.accept()
      ctx.reject(['publickey'])
    })
    client.on('ready', () => {
      client.on('session', (acceptSession) => {
        const session = acceptSession()
        session.on('exec', (acceptExec, _reject, info) => {
          execs++
          const ch = acceptExec()
          const input: Buffer[] = []
          ch.on('data', (d: Buffer) => input.push(d))
          ch.on('end', () => {
            if (info.command !== PROBE_COMMAND) {
              // only probes are simulated: an apply means the plan was not converged, and the run must show it
              if (unexpected.length < 20) unexpected.push(info.command)
              ch.stderr.write(`bench server: only probe scripts are simulated, not: ${info.command}\n`)
              ch.exit(127)
              ch.end()
              return
            }
            replayer.answer(Buffer.concat(input).toString('utf8')).then(
              (r) => {
                if (r.stdout) ch.write(r.stdout)
                if (r.stderr) ch.stderr.write(r.stderr)
                ch.exit(r.code)
                ch.end()
              },
              (e: unknown) => {
                ch.stderr.write(`bench server: ${(e as Error).message}\n`)
                ch.exit(255)
                ch.end()
              },
            )
          })
        })
        session.on('subsystem', (_accept, reject) => reject())
        session.on('pty', (_accept, reject) => reject?.())
      })
    })
  })

  const listeners = config.endpoints.map(
    ({ address, port }) =>
      new Promise<void>((resolve, reject) => {
        const srv = net.createServer({ noDelay: true }, (sock) => ssh.injectSocket(sock))
        srv.once('error', reject)
        srv.listen({ host: address, port, backlog: 1024 }, () => resolve())
      }),
  )
  return Promise.all(listeners).then(() => () => {
    const cpu = process.cpuUsage()
    return {
      connections,
      execs,
      unexpected: [...unexpected],
      replayHits: replayer.hits,
      replayMisses: replayer.misses,
      cpuUserMs: cpu.user / 1000,
      cpuSystemMs: cpu.system / 1000,
      rssMb: process.memoryUsage().rss / 2 ** 20,
    }
  })
}

function firstKey(k: ParsedKey | ParsedKey[] | Error): ParsedKey {
  if (k instanceof Error) throw k
  return Array.isArray(k) ? k[0]! : k
}

function send(m: ServerMessage): void {
  process.send?.(m)
}

let stats: (() => ServerStats) | undefined
process.on('message', (m: ParentMessage) => {
  if (m.type === 'config') {
    start(m.config).then(
      (s) => {
        stats = s
        send({ type: 'ready' })
      },
      (e: unknown) => send({ type: 'failed', message: (e as Error).message }),
    )
  } else if (m.type === 'stats' && stats) send({ type: 'stats', stats: stats() })
})
// the parent's end is ours: no server outlives the bench
process.on('disconnect', () => process.exit(0))
