import { predict, predictUnder } from '../contract/fact.ts'
import { change, ok, resource, type Plan, type Resource, type ResourceMeta } from '../contract/resource.ts'
import { sh } from '../core/sh.ts'
import { pathFact, pathStatFact, pathState, assertHostPath, type PathState } from '../facts/path.ts'
import { fileContent, fileContentFact } from '../facts/file-content.ts'

/** Options of `absent()`: the common resource options. */
export interface AbsentOptions extends ResourceMeta {
  /** Remove a directory with everything in it. Without it, only an empty directory is removed. */
  recursive?: boolean
}

export type AbsentProbe = { state: ReturnType<typeof pathState> }

/** Nothing at `path`: a file or symlink is removed (never what a symlink points to), a directory only if empty or `recursive`. */
export function absent(path: string, opts: AbsentOptions = {}): Resource<AbsentProbe> {
  const id = `absent:${path}`
  assertHostPath(path, id)
  if (path === '/') throw new Error(`${id}: refusing to remove /`)
  return resource({ id, type: 'absent', probe: { state: pathState(path) }, plan: ({ state }) => planAbsent(path, opts.recursive ?? false, state), meta: opts })
}

export function planAbsent(path: string, recursive: boolean, have: PathState): Plan {
  const gone = [predict(pathState(path), { type: 'absent' } as PathState), predict(fileContent(path), null)]
  switch (have.type) {
    case 'absent':
      return ok()
    case 'directory': {
      if (!recursive) return change('remove directory', (ctx) => ctx.run(sh`rmdir -- ${path}`).then(() => {}), { predicts: gone })
      const under = `${path.replace(/\/+$/, '')}/`
      return change('remove directory recursively', (ctx) => ctx.run(sh`rm -rf -- ${path}`).then(() => {}), {
        // everything under it goes too; prefix predictions can only say "unknown", never "absent"
        predicts: [...gone, predictUnder(pathFact, under, `${path} is removed`), predictUnder(pathStatFact, under, `${path} is removed`), predictUnder(fileContentFact, under, `${path} is removed`)],
      })
    }
    default:
      return change(`remove ${have.type === 'other' ? 'special file' : have.type}`, (ctx) => ctx.run(sh`rm -f -- ${path}`).then(() => {}), {
        predicts: gone,
      })
  }
}
