import { change, ok, resource, type Resource, type ResourceMeta } from '../contract/resource.ts'
import { predict, type Prediction } from '../contract/fact.ts'
import { sh } from '../core/sh.ts'
import { userState, type UserState } from '../facts/user.ts'
import { assertAccountName, groupState, type GroupState } from '../facts/group.ts'

/** Options of `user()`: a present user (system, home, shell, groups) or an absent one. */
export type UserOptions = (
  | {
      state?: 'present'
      /** A system account (uid below UID_MIN, no aging); only decides at creation. */
      system?: boolean
      home?: string
      shell?: string
      /** Primary group; default: a group of the user's own name (created when missing). */
      group?: string
      /** Supplementary groups, exactly: memberships not listed are removed. Unset: left alone. */
      groups?: readonly string[]
      /** Create the home directory at creation (default: not for system users). */
      createHome?: boolean
    }
  | { state: 'absent' }
) &
  ResourceMeta

type Present = Extract<UserOptions, { system?: boolean }>

/**
 * A local user account, managed with useradd/usermod/userdel. Only what
 * differs is changed; a removed user keeps its home directory (removing data
 * is not something to do as a side effect).
 */
export function user(name: string, opts: UserOptions = {}): Resource {
  assertAccountName(name, 'user name')
  const o: Present = opts.state === 'absent' ? {} : (opts as Present)
  o.groups?.forEach((g) => assertAccountName(g, 'group name'))
  if (o.group !== undefined) assertAccountName(o.group, 'group name')
  for (const [k, v] of [['home', o.home], ['shell', o.shell]] as const) {
    if (v !== undefined && (!v.startsWith('/') || /[\n:]/.test(v))) throw new Error(`user ${name}: ${k} must be an absolute path without ':' or newline, got ${JSON.stringify(v)}`)
  }
  const wantGroups = o.groups ? [...new Set(o.groups)].sort() : undefined

  return resource({
    id: `user:${name}`,
    type: 'user',
    // the user's own-name group decides between useradd --user-group and --gid
    probe: { user: userState(name), ownGroup: groupState(name) },
    meta: opts,
    plan({ user: u, ownGroup }) {
      if (opts.state === 'absent') {
        if (!u.exists) return ok(`user ${name} absent`)
        return change(`remove user ${name}`, async (ctx) => void (await ctx.run(sh`userdel ${name}`)), {
          // userdel also removes the user's own group when nobody else is in it (USERGROUPS_ENAB)
          predicts: [predict(userState(name), { exists: false }), predict(groupState(name), ownGroupAfterDel(name, u, ownGroup))],
        })
      }
      if (!u.exists) return create(name, o, wantGroups, ownGroup)

      const diffs: string[] = []
      const flags: string[] = []
      const next = { ...u }
      if (o.home !== undefined && u.home !== o.home) {
        diffs.push(`home ${u.home} -> ${o.home}`)
        flags.push('--home', o.home)
        next.home = o.home
      }
      if (o.shell !== undefined && u.shell !== o.shell) {
        diffs.push(`shell ${u.shell} -> ${o.shell}`)
        flags.push('--shell', o.shell)
        next.shell = o.shell
      }
      if (o.group !== undefined && u.group !== o.group) {
        diffs.push(`group ${u.group ?? u.gid} -> ${o.group}`)
        flags.push('--gid', o.group)
        next.group = o.group
        next.gid = null
      }
      if (wantGroups && wantGroups.join(',') !== u.groups.join(',')) {
        diffs.push(`groups [${u.groups.join(', ')}] -> [${wantGroups.join(', ')}]`)
        flags.push('--groups', wantGroups.join(','))
        next.groups = wantGroups
      }
      if (diffs.length === 0) return ok(`user ${name} (uid ${u.uid})`)
      return change(`user ${name}: ${diffs.join(', ')}`, async (ctx) => void (await ctx.run(sh`usermod ${[...flags, name]}`)), {
        predicts: [predict(userState(name), next), predict(groupState(name), ownGroup)],
      })
    },
  })
}

function create(name: string, o: Present, groups: string[] | undefined, ownGroup: GroupState) {
  const system = o.system === true
  const createHome = o.createHome ?? !system
  // useradd refuses --user-group when a group of that name exists: join it instead
  const primary = o.group ?? name
  const makeOwnGroup = o.group === undefined && !ownGroup.exists
  const flags = [
    ...(system ? ['--system'] : []),
    ...(o.home !== undefined ? ['--home-dir', o.home] : []),
    createHome ? '--create-home' : '--no-create-home',
    ...(o.shell !== undefined ? ['--shell', o.shell] : []),
    ...(makeOwnGroup ? ['--user-group'] : ['--gid', primary]),
    ...(groups && groups.length > 0 ? ['--groups', groups.join(',')] : []),
  ]
  const predicts: Prediction[] = [
    predict(userState(name), {
      exists: true,
      uid: null,
      gid: null,
      group: primary,
      gecos: '',
      home: o.home ?? `/home/${name}`,
      // Debian's /etc/default/useradd has SHELL=/bin/sh
      shell: o.shell ?? '/bin/sh',
      groups: groups ?? [],
    }),
    predict(groupState(name), makeOwnGroup ? { exists: true, gid: null, members: [] } : ownGroup),
  ]
  return change(`create ${system ? 'system ' : ''}user ${name}`, async (ctx) => void (await ctx.run(sh`useradd ${[...flags, name]}`)), { predicts })
}

function ownGroupAfterDel(name: string, u: Extract<UserState, { exists: true }>, g: GroupState): GroupState {
  if (!g.exists) return g
  return u.group === name && g.members.length === 0 ? { exists: false } : g
}
