import { change, ok, resource, type Plan, type Resource, type ResourceMeta } from '../contract/resource.ts'
import { shell, type ShellResult } from '../facts/shell.ts'
import { sh } from '../core/sh.ts'
import { DEFAULT_HAPROXY_SOCKET, haproxyCommand, HaproxyRuntimeError } from './deploy/haproxy-runtime.ts'

/** Options of `haproxyServers()`: which backend's servers to hold to their configured state, through which runtime API socket. */
export interface HaproxyServersOptions extends ResourceMeta {
  /** The backend whose servers are compared (`backend web`). */
  backend: string
  /** The runtime API socket, `level admin` (default /run/haproxy/admin.sock). */
  socket?: string
}

/** One server of `show servers state`, by the columns that matter here. */
export interface ServerRuntimeState {
  server: string
  /** srv_admin_state: a bit mask (see ADMIN). */
  admin: number
  /** The weight now (srv_uweight) and the one the config gives (srv_iweight). */
  weight: number
  configWeight: number
}

// srv_admin_state bits (HAProxy's enum srv_admin): forced by the runtime API, inherited, or from the config
const ADMIN = { FMAINT: 0x01, IMAINT: 0x02, CMAINT: 0x04, FDRAIN: 0x08, IDRAIN: 0x10, CDRAIN: 0x20 } as const
const NO_RUNTIME = '#muster-no-runtime'
const BACKEND = /^[A-Za-z0-9_.:-]+$/

/**
 * HAProxy's servers as the running process has them, against its config. The
 * runtime API can put a server in maintenance, drain it or change its weight,
 * and that lasts until the next reload while haproxy.cfg still says
 * otherwise: a site silently down to one server. This reads `show servers
 * state` (through socat, in the host's probe batch) and sets back what was
 * forced: `set server B/S state ready` and `set weight B/S <config weight>`.
 * A server drained by a deploy in progress is drift too, as it is: do not run
 * apply during a deploy (the deploy lock says when one runs).
 */
export function haproxyServers(opts: HaproxyServersOptions): Resource {
  if (!BACKEND.test(opts.backend)) throw new Error(`haproxy-servers: not a backend name: ${JSON.stringify(opts.backend)}`)
  const socket = opts.socket ?? DEFAULT_HAPROXY_SOCKET
  const { backend, socket: _s, ...meta } = opts
  const probe =
    sh`if ! command -v socat >/dev/null 2>&1 || [ ! -S ${socket} ]; then echo ${NO_RUNTIME}; exit 0; fi; ` +
    sh`echo ${`show servers state ${backend}`} | socat -t 5 stdio ${`UNIX-CONNECT:${socket}`}`
  return resource({
    id: `haproxy-servers:${backend}`,
    type: 'haproxy-servers',
    probe: { live: shell(probe) },
    plan: ({ live }) => planHaproxyServers(backend, live, socket),
    meta,
  })
}

/** `show servers state` (format 1): a version line, a `# ` header naming the columns, one line per server. */
export function parseServersState(stdout: string, backend: string): ServerRuntimeState[] {
  const lines = stdout.split('\n').filter((l) => l.trim() !== '')
  const header = lines.find((l) => l.startsWith('# '))
  if (!header) throw new Error(`haproxy show servers state: no header in ${JSON.stringify(stdout.slice(0, 200))}`)
  const cols = header.slice(2).split(' ')
  const at = (n: string): number => {
    const i = cols.indexOf(n)
    if (i < 0) throw new Error(`haproxy show servers state: no column ${n}`)
    return i
  }
  const [be, name, admin, uw, iw] = [at('be_name'), at('srv_name'), at('srv_admin_state'), at('srv_uweight'), at('srv_iweight')]
  return lines
    .filter((l) => !l.startsWith('#') && l.includes(' '))
    .map((l) => l.split(' '))
    .filter((f) => f[be] === backend)
    .map((f) => ({ server: f[name] ?? '', admin: Number(f[admin]), weight: Number(f[uw]), configWeight: Number(f[iw]) }))
}

const stateName = (admin: number): string =>
  admin & (ADMIN.FMAINT | ADMIN.IMAINT | ADMIN.CMAINT) ? 'MAINT' : admin & (ADMIN.FDRAIN | ADMIN.IDRAIN | ADMIN.CDRAIN) ? 'DRAIN' : 'ready'
const configState = (admin: number): string => (admin & ADMIN.CMAINT ? 'MAINT' : admin & ADMIN.CDRAIN ? 'DRAIN' : 'ready')

export function planHaproxyServers(backend: string, live: ShellResult, socket = DEFAULT_HAPROXY_SOCKET): Plan {
  if (live.stdout.trim() === NO_RUNTIME) return ok('HAProxy is not running (yet): it starts with haproxy.cfg\'s servers')
  // a stopped HAProxy leaves its socket behind: socat cannot connect and prints nothing (found by `muster test`)
  if (live.stdout.trim() === '' && live.code !== 0) return ok('HAProxy is not running (its socket answers nothing): it starts with haproxy.cfg\'s servers')
  if (/^Can't find backend/m.test(live.stdout)) return ok(`no backend ${backend} running yet: the next reload reads haproxy.cfg`)
  const servers = parseServersState(live.stdout, backend)
  const differs: string[] = []
  const commands: string[] = []
  for (const s of servers) {
    if (s.admin & (ADMIN.FMAINT | ADMIN.FDRAIN)) {
      differs.push(`${backend}/${s.server}: live ${stateName(s.admin)}, config ${configState(s.admin)}`)
      commands.push(`set server ${backend}/${s.server} state ${configState(s.admin) === 'ready' ? 'ready' : configState(s.admin).toLowerCase()}`)
    }
    if (s.weight !== s.configWeight) {
      differs.push(`${backend}/${s.server} weight: live ${s.weight}, config ${s.configWeight}`)
      commands.push(`set weight ${backend}/${s.server} ${s.configWeight}`)
    }
  }
  if (differs.length === 0) return ok(`${servers.length} servers of ${backend} as haproxy.cfg has them`)
  return change(differs.join('; '), async (ctx) => {
    for (const c of commands) {
      const answer = (await haproxyCommand(ctx.conn, c, socket)).trim()
      if (answer !== '') throw new HaproxyRuntimeError(ctx.host.name, c, answer)
    }
  })
}
