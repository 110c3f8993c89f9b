import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/**
 * Temporary directories a suite makes in its `before` and removes in its
 * `after`: only those that were really made. A `before` that failed halfway
 * then reports its own error once, instead of a second one from an `after`
 * cleaning a directory that never existed.
 */
export interface ScratchDirs {
  /** A new empty directory under the system's temp dir, e.g. make('muster-e2e-root-'). */
  make(prefix: string): string
  /** Remove every directory made so far (and nothing else). */
  removeAll(): void
}

export function scratchDirs(): ScratchDirs {
  const made: string[] = []
  return {
    make(prefix) {
      const dir = mkdtempSync(join(tmpdir(), prefix))
      made.push(dir)
      return dir
    },
    removeAll() {
      for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true })
    },
  }
}
