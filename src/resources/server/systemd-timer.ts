import type { Resource, ResourceMeta } from '../../contract/resource.ts'
import { assertAccountName } from '../../facts/group.ts'
import { service } from '../service.ts'
import { systemdUnitFile } from '../systemd-unit-file.ts'

/** Options of `systemdTimer()`: the schedule (OnCalendar) and the service it starts. */
export interface SystemdTimerOptions extends ResourceMeta {
  /** systemd calendar expression(s): `daily`, `*-*-* 03:00:00`, `Mon..Fri 08:00`. */
  onCalendar: string | readonly string[]
  /** What runs: the service's ExecStart (an absolute path and its arguments). */
  command: string
  user?: string
  description?: string
  /** Run at boot a time that was missed while the host was down (default true). */
  persistent?: boolean
  randomizedDelaySec?: number
}

/**
 * The cron replacement: `<name>.service` (Type=oneshot, the command) and
 * `<name>.timer`, the timer enabled and started. Three resources, in the order
 * they must happen; the unit files predict their units, so check mode on a
 * bare host plans the timer's start exactly.
 */
export function systemdTimer(name: string, opts: SystemdTimerOptions): Resource[] {
  const id = `systemdTimer ${name}`
  if (!/^[A-Za-z0-9_:.-]+$/.test(name) || name.endsWith('.timer') || name.endsWith('.service')) throw new Error(`${id}: a unit name without its suffix`)
  const cal = typeof opts.onCalendar === 'string' ? [opts.onCalendar] : [...opts.onCalendar]
  if (cal.length === 0 || cal.some((c) => c.trim() === '' || /[\n]/.test(c))) throw new Error(`${id}: onCalendar is one or more one-line expressions`)
  if (!opts.command.startsWith('/') || opts.command.includes('\n')) throw new Error(`${id}: command must be one line starting with an absolute path`)
  if (opts.user !== undefined) assertAccountName(opts.user, 'user name')
  const d = (opts.description ?? `${name} (muster)`).replace(/\n/g, ' ')
  const svc = ['[Unit]', `Description=${d}`, '', '[Service]', 'Type=oneshot', ...(opts.user ? [`User=${opts.user}`] : []), `ExecStart=${opts.command}`, ''].join('\n')
  const timer = [
    '[Unit]',
    `Description=${d}: schedule`,
    '',
    '[Timer]',
    ...cal.map((c) => `OnCalendar=${c}`),
    `Persistent=${opts.persistent === false ? 'false' : 'true'}`,
    ...(opts.randomizedDelaySec !== undefined ? [`RandomizedDelaySec=${Math.floor(opts.randomizedDelaySec)}`] : []),
    '',
    '[Install]',
    'WantedBy=timers.target',
    '',
  ].join('\n')
  const { onCalendar: _o, command: _c, user: _u, description: _d, persistent: _p, randomizedDelaySec: _r, ...meta } = opts
  return [
    systemdUnitFile(`${name}.service`, { content: svc }),
    systemdUnitFile(`${name}.timer`, { content: timer, validate: { command: 'systemd-analyze calendar --iterations=1 -- ' + cal.map((c) => `'${c.replace(/'/g, "'\\''")}'`).join(' ') + ' >/dev/null', inPlace: true } }),
    service(`${name}.timer`, { running: true, enabled: true, ...meta }),
  ]
}
