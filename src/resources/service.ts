import { change, ok, resource, type ApplyContext, type Handler, type Resource, type ResourceMeta } from '../contract/resource.ts'
import { predict } from '../contract/fact.ts'
import { sh } from '../core/sh.ts'
import { systemdUnit, unitEnablement, unitExists, unitName, unitRunning, type UnitState } from '../facts/systemd-unit.ts'

/** Options of `service()`: running or stopped, enabled or not. */
export interface ServiceOptions extends ResourceMeta {
  /** true: started; false: stopped; unset: left as it is. */
  running?: boolean
  /** true: starts at boot; false: does not; unset: left as it is. */
  enabled?: boolean
}

/**
 * A systemd unit, running or stopped, enabled or disabled: only what differs
 * is changed, in one `systemctl` round trip. A unit the host does not know is
 * a failure at plan time (in check mode, a package installed earlier in the
 * play predicts its unit, so this only fails when apply would fail too).
 */
export function service(name: string, opts: ServiceOptions = {}): Resource {
  const unit = unitName(name)
  if (opts.running === undefined && opts.enabled === undefined) {
    throw new Error(`service ${unit}: say what it should be (running and/or enabled)`)
  }
  return resource({
    id: `service:${unit}`,
    type: 'service',
    probe: { unit: systemdUnit(unit) },
    meta: opts,
    plan({ unit: u }) {
      if (!unitExists(u)) throw new Error(`service ${unit}: no such unit on this host (systemctl: LoadState=${u.loadState})`)
      const enablement = unitEnablement(u)
      const steps: string[] = []
      const next: UnitState = { ...u }
      if (opts.enabled !== undefined) {
        const want = opts.enabled ? 'enabled' : 'disabled'
        if (enablement === 'masked') {
          if (opts.enabled) throw new Error(`service ${unit}: the unit is masked; unmask it (systemctl unmask ${unit}) before enabling it`)
        } else if (enablement === 'static') {
          // no [Install] section: `systemctl enable` would do nothing, and saying "would enable" every run would be a lie
        } else if ((enablement === 'enabled') !== opts.enabled) {
          steps.push(opts.enabled ? 'enable' : 'disable')
          next.unitFileState = want
        }
      }
      if (opts.running !== undefined && unitRunning(u) !== opts.running) {
        if (opts.running && enablement === 'masked') {
          throw new Error(`service ${unit}: the unit is masked and cannot be started; unmask it (systemctl unmask ${unit})`)
        }
        steps.push(opts.running ? 'start' : 'stop')
        next.activeState = opts.running ? 'active' : 'inactive'
        next.subState = opts.running ? 'running' : 'dead'
      }
      if (steps.length === 0) return ok(describe(u))
      const commands = steps.map((s) => sh`systemctl ${s} ${unit}`)
      return change(`${steps.join(' and ')} ${unit}`, async (ctx) => void (await ctx.run(commands.join(' && '))), {
        predicts: [predict(systemdUnit(unit), next)],
      })
    },
  })
}

function describe(u: UnitState): string {
  return `${u.id} ${u.activeState} (${u.subState}), ${u.unitFileState || 'no unit file state'}`
}

/**
 * A handler: runs once at the end of the play on each host where a change
 * notified it. `run` is a function, a shell command, or another handler to
 * run under this name.
 */
export function handler(name: string, run: Handler | string | ((ctx: ApplyContext) => Promise<void>)): Handler {
  if (typeof run === 'string') {
    const command = run
    return { kind: 'handler', name, run: async (ctx) => void (await ctx.run(command)) }
  }
  if (typeof run === 'function') return { kind: 'handler', name, run }
  return { kind: 'handler', name, run: run.run }
}

// The engine runs a queued handler once, by identity: two roles that both
// notify reload('nginx') must get the same object.
const systemctlHandlers = new Map<string, Handler>()

function systemctlHandler(verb: 'reload' | 'restart', name: string): Handler {
  const unit = unitName(name)
  const key = `${verb} ${unit}`
  let h = systemctlHandlers.get(key)
  if (!h) {
    h = handler(key, verb === 'reload' ? reloadAndSettle(unit) : sh`systemctl ${verb} ${unit}`)
    systemctlHandlers.set(key, h)
  }
  return h
}

/**
 * `systemctl reload` returns once ExecReload has run, and a Type=notify
 * service (HAProxy's) stays "reloading" until it says READY=1 again; a reload
 * that went wrong can leave the unit failed. So the handler waits for the
 * unit to settle (up to 60 s) and fails unless it is active then: a run ends
 * on hosts that are done changing, and never reports a reload that did not take.
 */
function reloadAndSettle(unit: string): string {
  const state = sh`systemctl show --value -p ActiveState ${unit}`
  return [
    sh`systemctl reload ${unit} || exit $?`,
    `i=0; while [ "$(${state})" = reloading ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done`,
    `s=$(${state}); [ "$s" = active ] || { echo ${sh`${unit}`} "is $s after its reload" >&2; exit 1; }`,
  ].join('; ')
}

/** `systemctl reload <unit>`, as a handler named "reload <unit>" (fails if the unit is not running, as systemctl does, or is not active once the reload has settled). */
export function reload(name: string): Handler {
  return systemctlHandler('reload', name)
}

/** `systemctl restart <unit>`, as a handler named "restart <unit>" (starts a stopped unit, as systemctl does). */
export function restart(name: string): Handler {
  return systemctlHandler('restart', name)
}
