import { change, ok, resource, type Resource, type ResourceMeta } from '../contract/resource.ts'
import { predict } from '../contract/fact.ts'
import { sh } from '../core/sh.ts'
import { assertAccountName, groupState } from '../facts/group.ts'

/** Options of `group()`: a present group (system, gid) or an absent one. */
export type GroupOptions = ({ state?: 'present'; system?: boolean; gid?: number } | { state: 'absent' }) & ResourceMeta

/** A local group: created with groupadd, its gid set with groupmod, removed with groupdel. */
export function group(name: string, opts: GroupOptions = {}): Resource {
  assertAccountName(name, 'group name')
  const gid = 'gid' in opts ? opts.gid : undefined
  if (gid !== undefined && (!Number.isInteger(gid) || gid < 0)) throw new Error(`group ${name}: gid must be a whole number >= 0, got ${gid}`)
  return resource({
    id: `group:${name}`,
    type: 'group',
    probe: { group: groupState(name) },
    meta: opts,
    plan({ group: g }) {
      if (opts.state === 'absent') {
        if (!g.exists) return ok(`group ${name} absent`)
        return change(`remove group ${name}`, async (ctx) => void (await ctx.run(sh`groupdel ${name}`)), {
          predicts: [predict(groupState(name), { exists: false })],
        })
      }
      const system = 'system' in opts && opts.system === true
      if (!g.exists) {
        const flags = [...(system ? ['--system'] : []), ...(gid !== undefined ? ['--gid', String(gid)] : [])]
        return change(`create group ${name}${gid !== undefined ? ` (gid ${gid})` : ''}`, async (ctx) => void (await ctx.run(sh`groupadd ${[...flags, name]}`)), {
          predicts: [predict(groupState(name), { exists: true, gid: gid ?? null, members: [] })],
        })
      }
      if (gid !== undefined && g.gid !== gid) {
        return change(`group ${name}: gid ${g.gid} -> ${gid}`, async (ctx) => void (await ctx.run(sh`groupmod --gid ${gid} ${name}`)), {
          predicts: [predict(groupState(name), { ...g, gid })],
        })
      }
      return ok(`group ${name} (gid ${g.gid})`)
    },
  })
}
