import type { Connection } from '../../ssh/connection.ts'
import { sh } from '../../core/sh.ts'

/** The runtime API socket the reference haproxy role configures (`stats socket ... level admin`). */
export const DEFAULT_HAPROXY_SOCKET = '/run/haproxy/admin.sock'

/** One server of a backend, as HAProxy's `show stat` sees it. */
export interface ServerStat {
  readonly backend: string
  readonly server: string
  /** UP, DOWN, DRAIN, MAINT, NOLB, or a transition such as "UP 1/2", "DOWN 1/2". */
  readonly status: string
  /** Sessions (requests or connections) on the server right now. */
  readonly sessions: number
  /** Requests queued for it. */
  readonly queued: number
}

/** HAProxy's runtime API refused a command or was unreachable. */
export class HaproxyRuntimeError extends Error {
  constructor(
    readonly lb: string,
    readonly command: string,
    detail: string,
  ) {
    super(`${lb}: HAProxy runtime API, \`${command}\`: ${detail}`)
    this.name = 'HaproxyRuntimeError'
  }
}

/**
 * Send one command to HAProxy's runtime API through socat on the balancer
 * (the command travels on stdin, so nothing of it is in a process's argv).
 */
export async function haproxyCommand(conn: Connection, command: string, socket = DEFAULT_HAPROXY_SOCKET): Promise<string> {
  if (/[\n\r;]/.test(command)) throw new HaproxyRuntimeError(conn.host, command, 'one command at a time, without newlines or `;`')
  const res = await conn.exec(sh`socat -t 10 stdio ${`UNIX-CONNECT:${socket}`}`, { stdin: `${command}\n`, timeoutMs: 20_000 })
  if (res.code !== 0) {
    const why = res.code === 127 ? 'socat is not installed on the balancer (apt install socat)' : `socat exited ${res.code}: ${(res.stderr || res.stdout).trim()}`
    throw new HaproxyRuntimeError(conn.host, command, why)
  }
  return res.stdout
}

/** `set server B/S state ready|drain|maint`: HAProxy answers nothing when it worked, a sentence when not. */
export async function setServerState(conn: Connection, backend: string, server: string, state: 'ready' | 'drain' | 'maint', socket = DEFAULT_HAPROXY_SOCKET): Promise<void> {
  checkName(backend, 'backend')
  checkName(server, 'server')
  const cmd = `set server ${backend}/${server} state ${state}`
  const answer = (await haproxyCommand(conn, cmd, socket)).trim()
  if (answer !== '') throw new HaproxyRuntimeError(conn.host, cmd, answer)
}

/** One server's line of HAProxy's `show stat`: its state and sessions. */
export async function serverStat(conn: Connection, backend: string, server: string, socket = DEFAULT_HAPROXY_SOCKET): Promise<ServerStat> {
  const csv = await haproxyCommand(conn, 'show stat', socket)
  const stat = parseShowStat(csv).find((s) => s.backend === backend && s.server === server)
  if (!stat) throw new HaproxyRuntimeError(conn.host, 'show stat', `no server ${backend}/${server} (is the server named after the inventory host?)`)
  return stat
}

/** Parse `show stat` CSV by its header line (columns move between HAProxy versions); BACKEND/FRONTEND rows are left out. */
export function parseShowStat(csv: string): ServerStat[] {
  const lines = csv.split('\n').filter((l) => l.trim() !== '')
  const header = lines.find((l) => l.startsWith('# '))
  if (!header) throw new Error(`show stat: no header line in ${JSON.stringify(csv.slice(0, 200))}`)
  const cols = header.slice(2).split(',')
  const at = (name: string): number => {
    const i = cols.indexOf(name)
    if (i < 0) throw new Error(`show stat: no column ${name}`)
    return i
  }
  const [px, sv, status, scur, qcur] = [at('pxname'), at('svname'), at('status'), at('scur'), at('qcur')]
  const out: ServerStat[] = []
  for (const line of lines) {
    if (line.startsWith('#')) continue
    const f = line.split(',')
    const server = f[sv] ?? ''
    if (server === 'BACKEND' || server === 'FRONTEND') continue
    out.push({ backend: f[px] ?? '', server, status: f[status] ?? '', sessions: Number(f[scur] || 0), queued: Number(f[qcur] || 0) })
  }
  return out
}

function checkName(name: string, what: string): void {
  if (!/^[A-Za-z0-9_.:-]+$/.test(name)) throw new Error(`HAProxy ${what} name ${JSON.stringify(name)}: only letters, digits, '_', '.', ':' and '-'`)
}
