import { posix } from 'node:path'
import { predict } from '../../contract/fact.ts'
import { change, ok, resource, type Resource } from '../../contract/resource.ts'
import { sh } from '../../core/sh.ts'
import { pathState, type PathState } from '../../facts/path.ts'
import { releasePaths, type Release } from '../release.ts'

/** Options of `sharedLinks()`: where releases live, and which release paths link to `shared/`. */
export interface SharedLinksOptions {
  root: string
  /**
   * Paths inside the release -> names under `<root>/shared/`: what outlives
   * a release (uploads, logs, local config). `{ 'public/uploads': 'uploads' }`
   */
  links: Readonly<Record<string, string>>
  tags?: readonly string[]
}

/**
 * Link a release's paths to `<root>/shared/`. Whatever the release shipped at
 * such a path is replaced by the link (the shared copy is the one that
 * lives). Only for a release that is being deployed: a rollback's release
 * got its links when it was deployed.
 */
export function sharedLinks(release: Release | string, opts: SharedLinksOptions): Resource {
  const id = typeof release === 'string' ? release : release.id
  const p = releasePaths(opts.root, id)
  const entries = Object.entries(opts.links).map(([inRelease, shared]) => {
    for (const [what, v] of [['path in the release', inRelease], ['shared name', shared]] as const) {
      if (v === '' || v.startsWith('/') || v.split('/').includes('..') || /[\n\0]/.test(v)) throw new Error(`sharedLinks: ${what} ${JSON.stringify(v)} must be relative, without '..'`)
    }
    return { path: `${p.release}/${inRelease.replace(/\/+$/, '')}`, target: `${p.shared}/${shared.replace(/\/+$/, '')}` }
  })
  const probe = Object.fromEntries(entries.map((e, i) => [`l${i}`, pathState(e.path)]))
  return resource({
    id: `shared-links:${p.release}`,
    type: 'shared-links',
    probe,
    plan(observed) {
      const o = observed as Record<string, PathState>
      const todo = entries.filter((e, i) => {
        const s = o[`l${i}`]!
        return !(s.type === 'symlink' && s.target === e.target)
      })
      if (todo.length === 0) return ok(`release ${id}: ${entries.length} shared link(s) in place`)
      return change(
        `release ${id}: link ${todo.map((e) => `${posix.relative(p.release!, e.path)} -> ${e.target}`).join(', ')}`,
        async (ctx) => {
          const lines = ['set -eu']
          for (const e of todo) {
            const tmp = `${e.path}.muster-link`
            lines.push(
              sh`mkdir -p -- ${posix.dirname(e.path)} ${e.target}`,
              sh`rm -rf -- ${tmp} && ln -s -- ${e.target} ${tmp}`,
              // a directory in the way cannot be renamed over: it goes first
              sh`if [ -d ${e.path} ] && [ ! -L ${e.path} ]; then rm -rf -- ${e.path}; fi`,
              sh`mv -fT -- ${tmp} ${e.path}`,
            )
          }
          await ctx.run(lines.join('\n'))
        },
        { predicts: todo.map((e) => predict(pathState(e.path), { type: 'symlink', target: e.target, owner: 'root', group: 'root', mtime: Number.NaN })) },
      )
    },
    meta: opts.tags ? { tags: opts.tags } : {},
  })
}
