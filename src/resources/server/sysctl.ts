import { predict } from '../../contract/fact.ts'
import { change, ok, resource, type Plan, type Resource, type ResourceMeta } from '../../contract/resource.ts'
import { sh } from '../../core/sh.ts'
import { assertSysctlKey, normalSysctl, sysctlValue, type SysctlValue } from '../../facts/sysctl.ts'
import { pathState, type PathState } from '../../facts/path.ts'
import { planFile } from '../file.ts'
import { planSteps } from './steps.ts'

/** Options of `sysctl()`: the settings for the /etc/sysctl.d file and the live kernel values. */
export interface SysctlOptions extends ResourceMeta {
  /** The file under /etc/sysctl.d that keeps it across boots (default `90-muster-<key>.conf`). */
  file?: string
}

/**
 * A kernel parameter, live and across boots: a one-line file in /etc/sysctl.d
 * (systemd-sysctl applies it at boot) and the live value in /proc/sys. A live
 * value changed by hand is drift like a changed file. The live value is set
 * first: a value the kernel refuses then fails the resource before the file
 * that would apply it at every boot is written.
 *
 * Beware: on a container or network namespace only `net.*` parameters are the
 * host's own; `vm.*` and `kernel.*` belong to the machine under it.
 */
export function sysctl(key: string, value: string | number, opts: SysctlOptions = {}): Resource {
  assertSysctlKey(key)
  const want = normalSysctl(String(value))
  if (want === '' || /[\n=]/.test(want)) throw new Error(`sysctl ${key}: the value ${JSON.stringify(value)} is empty or has a newline or '='`)
  const name = opts.file ?? `90-muster-${key}.conf`
  if (!/^[A-Za-z0-9_.-]+\.conf$/.test(name)) throw new Error(`sysctl ${key}: file ${JSON.stringify(name)} must be a plain name ending in .conf`)
  const path = `/etc/sysctl.d/${name}`
  const bytes = Buffer.from(`# managed by muster\n${key} = ${want}\n`, 'utf8')
  const { file: _file, ...meta } = opts
  return resource({
    id: `sysctl:${key}`,
    type: 'sysctl',
    probe: { live: sysctlValue(key), file: pathState(path) },
    plan: ({ live, file }) => planSysctl(key, want, path, bytes, live, file),
    meta,
  })
}

/** Pure: set the live value (first) and write the file, whichever differs. */
export function planSysctl(key: string, want: string, path: string, bytes: Buffer, live: SysctlValue, file: PathState): Plan {
  if (live === null) throw new Error(`sysctl ${key}: this host has no such parameter (no ${key.split('.').join('/')} under /proc/sys)`)
  const setLive: Plan =
    live === want
      ? ok()
      : change(`live ${live} -> ${want}`, (ctx) => ctx.run(sh`sysctl -q -w ${`${key}=${want}`}`).then(() => {}), {
          predicts: [predict(sysctlValue(key), want)],
        })
  return planSteps([{ plan: setLive }, { label: path, plan: planFile({ path, bytes, mode: '0644', owner: 'root', group: 'root' }, file) }], `${key} = ${want}`)
}
