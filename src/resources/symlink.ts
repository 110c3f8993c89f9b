import { posix } from 'node:path'
import { predict } from '../contract/fact.ts'
import { change, ok, resource, type ApplyContext, type Plan, type Resource, type ResourceMeta } from '../contract/resource.ts'
import { sh } from '../core/sh.ts'
import { pathState, assertHostPath, type PathState } from '../facts/path.ts'
import { relabel } from './write-file.ts'
import { chownSpec, normalizeOwnership, ownershipDrift, type NormalOwnership } from './file-mode.ts'

/** Options of `symlink()`: the common resource options (the link is replaced when it points elsewhere). */
export interface SymlinkOptions extends ResourceMeta {
  owner?: string
  group?: string
  /** Replace a regular file or an empty directory found at `path`. Without it, either fails the resource. */
  force?: boolean
}

export type SymlinkProbe = { state: ReturnType<typeof pathState> }

/** `path` is a symbolic link to `target` (stored as written: relative targets stay relative). */
export function symlink(path: string, target: string, opts: SymlinkOptions = {}): Resource<SymlinkProbe> {
  const id = `symlink:${path}`
  assertHostPath(path, id)
  if (typeof target !== 'string' || target === '' || /[\n\0]/.test(target)) {
    throw new Error(`${id}: the target must be a non-empty one-line string, got ${JSON.stringify(target)}`)
  }
  const want = normalizeOwnership({ ...(opts.owner ? { owner: opts.owner } : {}), ...(opts.group ? { group: opts.group } : {}) }, id)
  return resource({
    id,
    type: 'symlink',
    probe: { state: pathState(path) },
    plan: ({ state }) => planSymlink(path, target, want, opts.force ?? false, state),
    meta: opts,
  })
}

export function planSymlink(path: string, target: string, want: NormalOwnership, force: boolean, have: PathState): Plan {
  const predicted: PathState = {
    type: 'symlink',
    target,
    owner: want.owner ?? (have.type === 'symlink' ? have.owner : 'root'),
    group: want.group ?? (have.type === 'symlink' ? have.group : 'root'),
    mtime: Number.NaN,
  }
  const predicts = [predict(pathState(path), predicted)]
  const link = (replace?: 'file' | 'directory') => (ctx: ApplyContext) => replaceLink(ctx, path, target, want, replace)
  switch (have.type) {
    case 'absent':
      return change(`create -> ${target}`, link(), { predicts })
    case 'symlink': {
      if (have.target !== target) return change(`target ${have.target} -> ${target}`, link(), { predicts })
      const drift = ownershipDrift(have, want)
      if (drift.length === 0) return ok()
      return change(drift.join(', '), (ctx) => ctx.run(sh`chown -h -- ${chownSpec(want) ?? ''} ${path}`).then(() => {}), { predicts })
    }
    case 'file':
    case 'directory':
      if (!force) {
        throw new Error(`${path} is a ${have.type === 'file' ? 'regular file' : 'directory'}, not a symlink; set force: true to replace it`)
      }
      return change(`replace ${have.type} with symlink -> ${target}`, link(have.type), { predicts })
    case 'other':
      throw new Error(`${path} is a special file (fifo, socket or device); a symlink resource will not replace it`)
  }
}

/**
 * The new link is made under a temp name beside the old one and renamed over
 * it (`mv -T`): whoever follows the path sees the old target or the new one,
 * never nothing. A directory in the way is removed only if empty (rmdir).
 */
async function replaceLink(ctx: ApplyContext, path: string, target: string, want: NormalOwnership, replace?: 'file' | 'directory'): Promise<void> {
  const tmp = `${posix.dirname(path)}/.${posix.basename(path)}.muster-link-${process.pid}-${Date.now().toString(36)}`
  const owner = chownSpec(want)
  const lines = [
    'set -eu',
    `tmp=${sh`${tmp}`}`,
    `trap 'rc=$?; rm -f -- "$tmp"; exit $rc' EXIT`,
    "trap 'exit 129' HUP INT TERM",
    `ln -s -- ${sh`${target}`} "$tmp"`,
    ...(owner !== undefined ? [`chown -h -- ${sh`${owner}`} "$tmp"`] : []),
    ...(replace === 'directory' ? [sh`rmdir -- ${path}`] : []),
    `mv -fT -- "$tmp" ${sh`${path}`}`,
  ]
  await ctx.run(lines.join('\n')).catch((err: unknown) => {
    throw relabel(err, `ln -s ${target} ${path}`)
  })
}
