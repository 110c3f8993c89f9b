import { resource, type Plan, type Resource, type ResourceMeta } from '../../contract/resource.ts'
import { pathState, type PathState } from '../../facts/path.ts'
import { planFile } from '../file.ts'
import { planSymlink } from '../symlink.ts'
import { planSteps } from './steps.ts'

/** Options of `timezone()`. */
export type TimezoneOptions = ResourceMeta

const ZONEINFO = '/usr/share/zoneinfo'

/**
 * The system time zone as Debian keeps it: /etc/localtime a link into
 * /usr/share/zoneinfo and the name in /etc/timezone (what tzdata's own
 * configuration reads). A zone the host's tzdata does not have is an error at
 * plan time, before anything is touched.
 */
export function timezone(zone: string, opts: TimezoneOptions = {}): Resource {
  if (typeof zone !== 'string' || !/^[A-Za-z0-9_+-]+(\/[A-Za-z0-9_+-]+)*$/.test(zone)) throw new Error(`timezone ${JSON.stringify(zone)}: a zone name such as Europe/Berlin or Etc/UTC`)
  return resource({
    id: 'timezone',
    type: 'timezone',
    probe: { zone: pathState(`${ZONEINFO}/${zone}`), link: pathState('/etc/localtime'), file: pathState('/etc/timezone') },
    plan: ({ zone: z, link, file }) => planTimezone(zone, z, link, file),
    meta: opts,
  })
}

export function planTimezone(zone: string, zoneFile: PathState, link: PathState, file: PathState): Plan {
  if (zoneFile.type !== 'file' && zoneFile.type !== 'symlink') throw new Error(`timezone ${zone}: no such zone on this host (${ZONEINFO}/${zone} is ${zoneFile.type})`)
  const owner = { owner: 'root', group: 'root' }
  return planSteps(
    [
      { label: '/etc/localtime', plan: planSymlink('/etc/localtime', `${ZONEINFO}/${zone}`, owner, true, link) },
      { label: '/etc/timezone', plan: planFile({ path: '/etc/timezone', bytes: Buffer.from(`${zone}\n`), mode: '0644', ...owner }, file) },
    ],
    zone,
  )
}
