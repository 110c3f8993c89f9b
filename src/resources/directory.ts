import { predict } from '../contract/fact.ts'
import { change, ok, resource, type ApplyContext, type Plan, type Resource, type ResourceMeta } from '../contract/resource.ts'
import { sh } from '../core/sh.ts'
import { pathState, assertHostPath, type PathState } from '../facts/path.ts'
import { chownSpec, normalizeOwnership, ownershipDrift, type NormalOwnership, type Ownership } from './file-mode.ts'

/** Options of `directory()`: mode, owner, group, and the common resource options. */
export type DirectoryOptions = Ownership & ResourceMeta

export type DirectoryProbe = { state: ReturnType<typeof pathState> }

/** A directory (parents created as needed) with the mode and owner asked for. */
export function directory(path: string, opts: DirectoryOptions = {}): Resource<DirectoryProbe> {
  const id = `directory:${path}`
  assertHostPath(path, id)
  const want = normalizeOwnership(opts, id)
  return resource({ id, type: 'directory', probe: { state: pathState(path) }, plan: ({ state }) => planDirectory(path, want, state), meta: opts })
}

/** Pure. A new directory is 0755 and belongs to the login user (root) unless asked otherwise. */
export function planDirectory(path: string, want: NormalOwnership, have: PathState): Plan {
  if (have.type === 'absent') {
    const mode = want.mode ?? '0755'
    const predicted: PathState = {
      type: 'directory',
      mode,
      owner: want.owner ?? 'root',
      group: want.group ?? 'root',
      mtime: Number.NaN,
    }
    return change('create', (ctx) => createDirectory(ctx, path, { ...want, mode }), {
      predicts: [predict(pathState(path), predicted)],
    })
  }
  if (have.type !== 'directory') {
    const what = have.type === 'symlink' ? `a symlink (-> ${have.target})` : have.type === 'file' ? 'a file' : 'not a directory'
    throw new Error(`${path} is ${what}; a directory resource will not replace it`)
  }
  const drift = ownershipDrift(have, want)
  if (drift.length === 0) return ok()
  const after: PathState = { ...have, mode: want.mode ?? have.mode, owner: want.owner ?? have.owner, group: want.group ?? have.group }
  return change(drift.join(', '), (ctx) => fixDirectory(ctx, path, want, have.mode), {
    predicts: [predict(pathState(path), after)],
  })
}

// mkdir -m sets the mode from the start, so a 0700 directory is never briefly open
async function createDirectory(ctx: ApplyContext, path: string, want: NormalOwnership & { mode: string }): Promise<void> {
  const owner = chownSpec(want)
  const mk = sh`mkdir -p -m ${want.mode} -- ${path}`
  await ctx.run(owner === undefined ? mk : `${mk} && ${sh`chown -- ${owner} ${path} && chmod -- ${want.mode} ${path}`}`)
}

async function fixDirectory(ctx: ApplyContext, path: string, want: NormalOwnership, haveMode: string): Promise<void> {
  const owner = chownSpec(want)
  const mode = want.mode ?? haveMode // chown clears setgid on some systems: set the mode after it
  await ctx.run(owner === undefined ? sh`chmod -- ${mode} ${path}` : sh`chown -- ${owner} ${path} && chmod -- ${mode} ${path}`)
}
