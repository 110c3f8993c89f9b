import { existsSync, readFileSync } from 'node:fs'
import { SourceMap } from 'node:module'
import { dirname, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * The frames of an error's stack that are the user's own code (roles,
 * playbooks, inventories), not muster's or a package's or Node's. Their
 * bundles are compiled with linked source maps (ts-module.ts), and a frame in
 * one is mapped here, when an error is shown, to the user's .ts file and
 * line. Node's own source-map support (`setSourceMapsEnabled`) would do it
 * for every stack, at the price of reading and indexing the map of every
 * module loaded after it is on and scanning every `new Function` (each ejs
 * template) for a map comment: a sixth of a converged check's CPU, spent on
 * every run for errors that most runs never throw.
 */
export function userFrames(err: unknown): string[] {
  if (!(err instanceof Error) || typeof err.stack !== 'string') return []
  const frames: string[] = []
  for (const line of err.stack.split('\n')) {
    const m = /^\s+at (?:(.*?) \()?(.+?):(\d+):(\d+)\)?$/.exec(line)
    if (!m) continue
    const file = toPath(m[2]!)
    if (file === undefined || !isUsers(file)) continue
    const at = bundles.has(file) ? original(file, Number(m[3]), Number(m[4])) : undefined
    const fn = m[1] && m[1] !== '<anonymous>' ? `${m[1]} ` : ''
    frames.push(`${fn}${at ? `${shown(at.file)}:${at.line}:${at.column}` : `${shown(file)}:${m[3]}:${m[4]}`}`.replace(/^Object\./, ''))
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

/** Compiled bundles of the user's code imported by this thread (they may sit in node_modules/.cache). */
const bundles = new Set<string>()

/** Called as a bundle is imported, so its frames count as the user's and are mapped through its source map. */
export function registerBundle(file: string): void {
  bundles.add(file)
}

function isUsers(file: string): boolean {
  return bundles.has(file) || (!file.startsWith(own) && !file.includes(`${sep}node_modules${sep}`))
}

const maps = new Map<string, { map: SourceMap; dir: string } | null>()

/** The source position behind a generated one (1-based, as stacks print them), when `file` has a linked map. */
function original(file: string, line: number, column: number): { file: string; line: number; column: number } | undefined {
  let entry = maps.get(file)
  if (entry === undefined) {
    entry = null
    const mapFile = `${file}.map` // esbuild's linked map (ts-module.ts)
    try {
      if (existsSync(mapFile)) entry = { map: new SourceMap(JSON.parse(readFileSync(mapFile, 'utf8'))), dir: dirname(mapFile) }
    } catch {
      entry = null // an unreadable map: the generated position is still true, if less useful
    }
    maps.set(file, entry)
  }
  if (!entry) return undefined
  const found = entry.map.findEntry(line - 1, column - 1) as { originalSource?: string; originalLine?: number; originalColumn?: number }
  if (found.originalSource === undefined || found.originalLine === undefined || found.originalColumn === undefined) return undefined
  const source = found.originalSource.startsWith('file://') ? fileURLToPath(found.originalSource) : resolve(entry.dir, found.originalSource)
  return { file: source, line: found.originalLine + 1, column: found.originalColumn + 1 }
}

function shown(file: string): string {
  const rel = relative(process.cwd(), file)
  return rel.startsWith('..') ? file : rel
}
