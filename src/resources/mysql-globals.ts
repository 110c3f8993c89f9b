import { predict } from '../contract/fact.ts'
import { change, ok, resource, type Handler, type Plan, type Resource, type ResourceMeta } from '../contract/resource.ts'
import { assertVariableName, mysqlVariable, type MysqlVariableInfo } from '../facts/mysql.ts'
import { runSql, sqlString } from './mysql-sql.ts'

/** A setting as written in a server's config file: `read_only = ON`, `server_id = 3`, `max_connections = 200`. */
export type MysqlSettingValue = string | number | boolean

/** Options of `mysqlGlobals()`: the settings the running server must have, the restart handler for those SET GLOBAL cannot change, and the config file named in summaries. */
export interface MysqlGlobalsOptions extends ResourceMeta {
  /**
   * The settings the config file gives the server, by variable name, with the
   * value the running server should report (log_bin: 'ON', not the file name).
   */
  settings: Record<string, MysqlSettingValue>
  /**
   * Queued when a setting SET GLOBAL cannot change differs (the server must
   * re-read its file): the same handler the config file notifies, so a file
   * change and a stale setting restart the server once.
   */
  restart: Handler
  /** The config file named in summaries (default "config"). */
  file?: string
}

/**
 * The running server's global variables against the settings its config file
 * gives it. A file says what the server does after its next restart; `SET
 * GLOBAL` changes what it does now and leaves no trace in any file, so a
 * server can run with `read_only = OFF` while its file says ON, and a check
 * of the file alone calls it in sync. This compares the live values (read in
 * the host's one probe batch, with the mysql fact's other keys), sets the
 * ones the server allows at once (SET GLOBAL), and queues `restart` for the
 * rest. The file itself is the config template's business.
 */
export function mysqlGlobals(opts: MysqlGlobalsOptions): Resource {
  const id = 'mysql-globals'
  const entries = Object.entries(opts.settings).map(([name, v]) => {
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') throw new Error(`${id}: ${name} must be a string, number or boolean, got ${JSON.stringify(v)}`)
    return [assertVariableName(name), v] as const
  })
  if (entries.length === 0) throw new Error(`${id}: no settings to compare`)
  const probe = Object.fromEntries(entries.map(([n]) => [n, mysqlVariable(n)]))
  const { settings: _s, restart, file, ...meta } = opts
  return resource({
    id,
    type: 'mysql-globals',
    probe,
    plan: (observed) => planGlobals(new Map(entries), observed as Record<string, MysqlVariableInfo>, restart, file ?? 'config'),
    meta,
  })
}

const SIZE = /^(\d+)([KMGTP])$/i
const BOOLEAN_WORD: Record<string, string> = { TRUE: 'ON', FALSE: 'OFF', YES: 'ON', NO: 'OFF' }

/** The value as the server prints it: ON/OFF for switches, bytes for sizes; compared without regard to case. */
export function normalizeSetting(want: MysqlSettingValue, live: string): string {
  if (typeof want === 'boolean') return want ? 'ON' : 'OFF'
  const s = String(want).trim()
  const switchLike = live === 'ON' || live === 'OFF'
  if (switchLike && (s === '1' || s === '0')) return s === '1' ? 'ON' : 'OFF'
  const m = SIZE.exec(s)
  if (m && /^\d+$/.test(live)) return String(BigInt(m[1]!) * 1024n ** BigInt('KMGTP'.indexOf(m[2]!.toUpperCase()) + 1))
  return switchLike ? (BOOLEAN_WORD[s.toUpperCase()] ?? s) : s
}

interface Differs {
  name: string
  live: string
  want: string
  dynamic: boolean
}

export function planGlobals(want: ReadonlyMap<string, MysqlSettingValue>, have: Record<string, MysqlVariableInfo>, restart: Handler, file: string): Plan {
  const first = Object.values(have)[0]
  // not running (or not installed yet): it reads the file when it starts, and the file is compared on its own
  if (first && first.server !== 'up') return ok(`server ${first.server === 'absent' ? 'not installed' : 'not running'}: it starts with ${file}'s settings`)
  const differs: Differs[] = []
  const unknownNames: string[] = []
  for (const [name, w] of want) {
    const v = have[name]!
    if (!v.known) {
      unknownNames.push(name)
      continue
    }
    const live = v.value ?? ''
    const wanted = normalizeSetting(w, live.toUpperCase())
    if (live.toUpperCase() !== wanted.toUpperCase()) differs.push({ name, live: v.value ?? '', want: wanted, dynamic: v.dynamic === true })
  }
  const notCompared = unknownNames.length > 0 ? ` (not server variables, not compared: ${unknownNames.join(', ')})` : ''
  if (differs.length === 0) return ok(`${want.size - unknownNames.length} settings live as in ${file}${notCompared}`)
  const summary = differs.map((d) => `${d.name}: live ${d.live || "''"}, ${file} ${d.want}${d.dynamic ? '' : ' (restart)'}`).join('; ')
  const now = differs.filter((d) => d.dynamic)
  const later = differs.filter((d) => !d.dynamic)
  const sql = now.map((d) => `SET GLOBAL ${d.name} = ${/^\d+$/.test(d.want) ? d.want : sqlString(d.want)};`).join('\n')
  return change(summary, async (ctx) => void (now.length > 0 ? await runSql(ctx, sql + '\n') : undefined), {
    predicts: now.map((d) => predict(mysqlVariable(d.name), { server: 'up', known: true, value: d.want, dynamic: true } satisfies MysqlVariableInfo)),
    ...(later.length > 0 ? { notify: [restart] } : {}),
  })
}
