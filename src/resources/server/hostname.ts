import { predict } from '../../contract/fact.ts'
import { change, ok, resource, type Plan, type Resource, type ResourceMeta } from '../../contract/resource.ts'
import { sh } from '../../core/sh.ts'
import { sysctlValue, type SysctlValue } from '../../facts/sysctl.ts'
import { pathState, type PathState } from '../../facts/path.ts'
import { planFile } from '../file.ts'
import { planSteps } from './steps.ts'

/** Options of `hostname()`. */
export type HostnameOptions = ResourceMeta

/**
 * The host's name, live (the UTS name, read from /proc/sys/kernel/hostname in
 * the same read as any sysctl) and across boots (/etc/hostname). A live name
 * changed by hand is drift. /etc/hosts is left alone.
 */
export function hostname(name: string, opts: HostnameOptions = {}): Resource {
  if (typeof name !== 'string' || name.length > 64 || !/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i.test(name)) {
    throw new Error(`hostname ${JSON.stringify(name)}: letters, digits and inner hyphens, dot-separated labels, at most 64 characters`)
  }
  return resource({
    id: 'hostname',
    type: 'hostname',
    probe: { live: sysctlValue('kernel.hostname'), file: pathState('/etc/hostname') },
    plan: ({ live, file }) => planHostname(name, live, file),
    meta: opts,
  })
}

export function planHostname(name: string, live: SysctlValue, file: PathState): Plan {
  const setLive: Plan =
    live === name ? ok() : change(`live ${live ?? '(none)'} -> ${name}`, (ctx) => ctx.run(sh`hostname -- ${name}`).then(() => {}), { predicts: [predict(sysctlValue('kernel.hostname'), name)] })
  const bytes = Buffer.from(`${name}\n`, 'utf8')
  return planSteps([{ plan: setLive }, { label: '/etc/hostname', plan: planFile({ path: '/etc/hostname', bytes, mode: '0644', owner: 'root', group: 'root' }, file) }], name)
}
