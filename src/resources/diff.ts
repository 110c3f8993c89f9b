import { requirePackage } from '../core/require-package.ts'

// jsdiff is loaded on the first diff, not when muster starts: a converged run shows none (~20-45 ms of start-up)
let jsdiff: typeof import('diff') | undefined
const loadDiff = (): typeof import('diff') => (jsdiff ??= requirePackage('diff') as typeof import('diff'))

const utf8 = new TextDecoder('utf-8', { fatal: true })

/** Content that a line diff would garble: NUL bytes, or bytes that are not UTF-8. */
export function isBinary(content: string | Buffer): boolean {
  if (typeof content === 'string') return content.includes('\0') || content.includes('\uFFFD')
  if (content.includes(0)) return true
  try {
    utf8.decode(content)
    return false
  } catch {
    return true // not UTF-8: that is the answer, not an error
  }
}

/**
 * A unified diff from the host's content (`before`, null when the file does
 * not exist) to muster's. Headers name the two sides so a reader knows which
 * is which: `--- path (host)` / `+++ path (muster)`. Empty when equal.
 */
export function unifiedDiff(path: string, before: string | null, after: string): string {
  if (before === after) return ''
  const patch = loadDiff().createTwoFilesPatch(`${path} (host)`, `${path} (muster)`, before ?? '', after, undefined, undefined, {
    context: 3,
  })
  // jsdiff opens with a row of '=' (an svn-style index line) that diff(1) does not print
  return patch.replace(/^=+\n/, '')
}

/** Like unifiedDiff, but says "binary content differs" where a line diff would be noise. */
export function contentDiff(path: string, before: string | null, after: string | Buffer): string {
  if (isBinary(after) || (before !== null && isBinary(before))) {
    const same = before !== null && Buffer.from(before).equals(Buffer.from(after))
    return same ? '' : `binary content differs: ${path}`
  }
  return unifiedDiff(path, before, typeof after === 'string' ? after : after.toString('utf8'))
}
