import { predict } from '../../contract/fact.ts'
import { change, ok, resource, type Plan, type Resource, type ResourceMeta } from '../../contract/resource.ts'
import { sh } from '../../core/sh.ts'
import { pathState, type PathState } from '../../facts/path.ts'
import { procTable, type ProcTable } from '../../facts/proc-table.ts'
import { planAbsent } from '../absent.ts'
import { planFile } from '../file.ts'
import { planSteps } from './steps.ts'

/** Where kernelModule() talks to the kernel: the real commands and table, or stand-ins a test points it at. */
export interface KernelModuleVia {
  /** The command that loads (`<modprobe> -- name`) and unloads (`<modprobe> -r -- name`) a module (default `modprobe`). */
  modprobe?: string
  /** The table of loaded modules, one per line, its name first (default `/proc/modules`). */
  modules?: string
}

/** Options of `kernelModule()`: loaded now and at every boot, or neither. */
export interface KernelModuleOptions extends ResourceMeta {
  /** `present` (default): loaded and listed in /etc/modules-load.d; `absent`: unloaded and the file removed. */
  state?: 'present' | 'absent'
  /**
   * Stand-ins for the kernel-facing command and table, for a test on a host
   * that shares its kernel (a container, a lab host): loading a module there
   * would load it into the machine under it.
   */
  via?: KernelModuleVia
}

const commandPath = /^\/?[A-Za-z0-9_.+/-]+$/

/**
 * A kernel module, loaded now and at every boot: the module loaded (read from
 * /proc/modules, where a module unloaded by hand is drift) and a one-line
 * /etc/modules-load.d/NAME.conf that systemd-modules-load reads at boot. It
 * is loaded first: a module modprobe cannot find fails the resource before a
 * file that would fail at every boot is written. `state: 'absent'` unloads it
 * (`modprobe -r`, which refuses a module in use) and removes the file. A
 * module built into the kernel is not in /proc/modules and would always read
 * as not loaded: do not declare those. Dashes and underscores are the same in
 * module names; /proc/modules shows underscores, and so does this resource.
 */
export function kernelModule(name: string, opts: KernelModuleOptions = {}): Resource {
  if (typeof name !== 'string' || !/^[A-Za-z0-9_-]+$/.test(name)) throw new Error(`kernelModule ${JSON.stringify(name)}: a module name is letters, digits, _ and - only`)
  const mod = name.replace(/-/g, '_')
  const id = `kernel-module:${mod}`
  const modprobe = opts.via?.modprobe ?? 'modprobe'
  const table = opts.via?.modules ?? '/proc/modules'
  if (!commandPath.test(modprobe)) throw new Error(`${id}: via.modprobe ${JSON.stringify(modprobe)} must be a command name or path`)
  const path = `/etc/modules-load.d/${mod}.conf`
  const present = (opts.state ?? 'present') === 'present'
  const { state: _s, via: _v, ...meta } = opts
  return resource({
    id,
    type: 'kernel-module',
    probe: { loaded: procTable(table), file: pathState(path) },
    plan: ({ loaded, file }) => planKernelModule({ mod, present, modprobe, table, path }, loaded, file),
    meta,
  })
}

/** Pure: load (first) and list, or unload (first) and remove the file. */
export function planKernelModule(w: { mod: string; present: boolean; modprobe: string; table: string; path: string }, loaded: ProcTable, file: PathState): Plan {
  if (loaded === null) throw new Error(`kernel-module:${w.mod}: cannot read ${w.table} on this host`)
  const isLoaded = loaded.includes(w.mod)
  let live: Plan = ok()
  if (w.present && !isLoaded) {
    live = change('load', (ctx) => ctx.run(sh`${w.modprobe} -- ${w.mod}`).then(() => {}), { predicts: [predict(procTable(w.table), [...loaded, w.mod])] })
  } else if (!w.present && isLoaded) {
    live = change('unload', (ctx) => ctx.run(sh`${w.modprobe} -r -- ${w.mod}`).then(() => {}), { predicts: [predict(procTable(w.table), loaded.filter((m) => m !== w.mod))] })
  }
  const filePlan = w.present
    ? planFile({ path: w.path, bytes: Buffer.from(`# managed by muster\n${w.mod}\n`, 'utf8'), mode: '0644', owner: 'root', group: 'root' }, file)
    : planAbsent(w.path, false, file)
  return planSteps([{ plan: live }, { label: w.path, plan: filePlan }], w.present ? 'loaded' : 'absent', [predict(procTable(w.table), loaded), predict(pathState(w.path), file)])
}
