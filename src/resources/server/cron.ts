import type { Resource, ResourceMeta } from '../../contract/resource.ts'
import { assertAccountName } from '../../facts/group.ts'
import { managedFile, type FileProbe } from '../file.ts'

/** Options of `cron()`: the /etc/cron.d entry (schedule, user, command). */
export interface CronOptions extends ResourceMeta {
  /** Five fields (`*\/5 * * * *`) or a keyword (`@daily`, `@reboot`). */
  schedule: string
  command: string
  /** Who runs it (default root). */
  user?: string
  /** Variables set for the job (`PATH`, `MAILTO`). */
  env?: Readonly<Record<string, string>>
}

const KEYWORDS = new Set(['@reboot', '@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly'])
const FIELD = /^[0-9A-Za-z*/,-]+$/

/**
 * A job in /etc/cron.d/<name>, root 0644 (cron ignores a file there that is
 * group- or world-writable, and names with a dot). Needs cron installed.
 */
export function cron(name: string, opts: CronOptions): Resource<FileProbe> {
  const id = `cron ${name}`
  if (!/^[A-Za-z0-9_-]+$/.test(name)) throw new Error(`${id}: a name is letters, digits, _ and - (cron skips files with a dot)`)
  const s = opts.schedule.trim()
  const fields = s.split(/\s+/)
  if (!(KEYWORDS.has(s) || (fields.length === 5 && fields.every((f) => FIELD.test(f))))) {
    throw new Error(`${id}: schedule ${JSON.stringify(opts.schedule)} is not five cron fields or an @keyword`)
  }
  const user = assertAccountName(opts.user ?? 'root', 'user name')
  if (typeof opts.command !== 'string' || opts.command.trim() === '' || opts.command.includes('\n')) throw new Error(`${id}: the command is one non-empty line`)
  const env = Object.entries(opts.env ?? {}).map(([k, v]) => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k) || v.includes('\n')) throw new Error(`${id}: env ${k} is not NAME=one line`)
    return `${k}=${v}`
  })
  const text = ['# managed by muster', ...env, `${s} ${user} ${opts.command}`, ''].join('\n')
  const { schedule: _s, command: _c, user: _u, env: _e, ...meta } = opts
  return managedFile('cron', `/etc/cron.d/${name}`, Buffer.from(text, 'utf8'), { ...meta, mode: '0644', owner: 'root', group: 'root' })
}
