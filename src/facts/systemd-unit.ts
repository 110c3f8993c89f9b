import { query, type FactKind, type FactQuery } from '../contract/fact.ts'
import { sh } from '../core/sh.ts'

/**
 * A systemd unit as `systemctl show` tells it. `loadState` is "not-found" for
 * a unit that does not exist and "masked" for a masked one; `unitFileState`
 * is empty for a unit with no unit file.
 */
export interface UnitState {
  id: string
  loadState: string
  activeState: string
  subState: string
  unitFileState: string
  /** When it last entered "active", in µs of CLOCK_MONOTONIC (0: never); a restart changes it. */
  activeEnterMonotonic: number
  mainPid: number
}

const SUFFIXES = ['service', 'socket', 'target', 'timer', 'mount', 'automount', 'path', 'slice', 'scope', 'swap', 'device']
const NAME = /^[A-Za-z0-9:_.\\@-]+$/

/** "nginx" -> "nginx.service"; a name with a unit suffix stays as it is. */
export function unitName(name: string): string {
  if (typeof name !== 'string' || !NAME.test(name) || name.startsWith('-')) {
    throw new Error(`not a systemd unit name: ${JSON.stringify(name)}`)
  }
  const suffix = name.slice(name.lastIndexOf('.') + 1)
  return name.includes('.') && SUFFIXES.includes(suffix) ? name : `${name}.service`
}

const PROPS = ['Id', 'LoadState', 'ActiveState', 'SubState', 'UnitFileState', 'ActiveEnterTimestampMonotonic', 'MainPID']

/**
 * One `systemctl show` for every unit of the batch: it prints one block per
 * argument, in argument order, blank-line separated, and answers for units
 * that do not exist too (LoadState=not-found), so blocks pair with keys by
 * position.
 */
function script(keys: readonly string[]): string {
  keys.forEach(unitName)
  return `systemctl show --no-pager -p ${PROPS.join(',')} ${sh`${keys}`}`
}

function parse(stdout: string, keys: readonly string[], code: number): Map<string, UnitState> {
  const blocks = stdout
    .split(/\n\s*\n/)
    .map((b) => b.trim())
    .filter((b) => b !== '')
  if (blocks.length !== keys.length) {
    throw new Error(
      `systemd-unit probe: systemctl show exited ${code} with ${blocks.length} answers for ${keys.length} units` +
        (blocks.length === 0 ? ' (is systemd running on this host?)' : ''),
    )
  }
  const out = new Map<string, UnitState>()
  keys.forEach((key, i) => {
    const p = new Map<string, string>()
    for (const line of blocks[i]!.split('\n')) {
      const eq = line.indexOf('=')
      if (eq > 0) p.set(line.slice(0, eq), line.slice(eq + 1))
    }
    const loadState = p.get('LoadState')
    if (loadState === undefined) throw new Error(`systemd-unit probe: no LoadState for ${key} in ${JSON.stringify(blocks[i])}`)
    out.set(key, {
      id: p.get('Id') || key,
      loadState,
      activeState: p.get('ActiveState') ?? '',
      subState: p.get('SubState') ?? '',
      unitFileState: p.get('UnitFileState') ?? '',
      activeEnterMonotonic: Number(p.get('ActiveEnterTimestampMonotonic') ?? 0) || 0,
      mainPid: Number(p.get('MainPID') ?? 0) || 0,
    })
  })
  return out
}

export const systemdUnitFact: FactKind<UnitState> = {
  name: 'systemd-unit',
  coalesce: true,
  script,
  parse,
}

/** The state of one systemd unit ("nginx" means nginx.service). */
export function systemdUnit(name: string): FactQuery<UnitState> {
  return query(systemdUnitFact, unitName(name))
}

export function unitExists(u: UnitState): boolean {
  return u.loadState !== 'not-found'
}

/** Running, or on its way there: a start now would have nothing to do. */
export function unitRunning(u: UnitState): boolean {
  return ['active', 'reloading', 'activating', 'refreshing'].includes(u.activeState)
}

/** How `systemctl enable` sees the unit file. */
export type Enablement = 'enabled' | 'disabled' | 'masked' | 'static' | 'none'

export function unitEnablement(u: UnitState): Enablement {
  switch (u.unitFileState) {
    case 'enabled':
    case 'enabled-runtime':
    case 'alias':
      return 'enabled'
    case 'disabled':
      return 'disabled'
    case 'masked':
    case 'masked-runtime':
      return 'masked'
    // no [Install] section, generated or transient: nothing to enable or disable
    case 'static':
    case 'indirect':
    case 'generated':
    case 'transient':
      return 'static'
    default:
      return u.loadState === 'masked' ? 'masked' : 'none'
  }
}
