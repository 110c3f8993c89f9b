import type { Vars } from '../../inventory/types.ts'

/**
 * Where a host's releases live and which service runs them, from its vars:
 * `appRoot` (default /srv/app) and `appUnit` (default app.service). The
 * deploy playbook and `muster releases` / the deploy report read the same.
 */
export interface DeploySettings {
  root: string
  unit: string
}

/** Where a host's releases live (`appRoot`) and which unit runs them (`appUnit`), from its vars. */
export function deploySettings(vars: Vars): DeploySettings {
  const root = vars.appRoot ?? '/srv/app'
  const unit = vars.appUnit ?? 'app.service'
  if (typeof root !== 'string' || !root.startsWith('/')) throw new Error(`appRoot must be an absolute path, got ${JSON.stringify(root)}`)
  if (typeof unit !== 'string' || unit === '') throw new Error(`appUnit must be a unit name, got ${JSON.stringify(unit)}`)
  return { root: root.replace(/\/+$/, '') || '/', unit: unit.includes('.') ? unit : `${unit}.service` }
}
