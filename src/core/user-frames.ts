import { relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * The frames of an error's stack that are the user's own code (roles,
 * playbooks, inventories), not muster's or a package's or Node's. Their
 * bundles are compiled with source maps (ts-module.ts), so these frames name
 * the user's .ts file and line.
 */
export function userFrames(err: unknown): string[] {
  if (!(err instanceof Error) || typeof err.stack !== 'string') return []
  const frames: string[] = []
  for (const line of err.stack.split('\n')) {
    const m = /^\s+at (?:(.*?) \()?(.+?):(\d+):(\d+)\)?$/.exec(line)
    if (!m) continue
    const file = toPath(m[2]!)
    if (file === undefined || !isUsers(file)) continue
    const fn = m[1] && m[1] !== '<anonymous>' ? `${m[1]} ` : ''
    frames.push(`${fn}${shown(file)}:${m[3]}:${m[4]}`.replace(/^Object\./, ''))
  }
  return frames
}

/** "roles/web/index.ts:12:5": where the user's code threw, or undefined when no frame of theirs is in the stack. */
export function userLocation(err: unknown): string | undefined {
  const first = userFrames(err)[0]
  return first?.split(' ').pop()
}

// muster's own code: dist/ when installed or built, src/ in a checkout under test
const own = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? '../' : './', import.meta.url))

function toPath(location: string): string | undefined {
  if (location.startsWith('node:') || location.startsWith('internal/') || location === '<anonymous>') return undefined
  if (location.startsWith('file://')) return fileURLToPath(location.replace(/\?.*$/, ''))
  return location.startsWith('/') ? location : undefined
}

function isUsers(file: string): boolean {
  return !file.startsWith(own) && !file.includes(`${sep}node_modules${sep}`)
}

function shown(file: string): string {
  const rel = relative(process.cwd(), file)
  return rel.startsWith('..') ? file : rel
}
