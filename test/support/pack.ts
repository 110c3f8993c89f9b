import { execFile } from 'node:child_process'
import { mkdtempSync, readdirSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { promisify } from 'node:util'
import { repoRoot } from './cli.ts'

const run = promisify(execFile)
let packed: Promise<string> | undefined

/**
 * muster as its users get it: `npm pack` of this checkout (which builds dist/
 * and its types through `prepare`), once per test process. Returns the tarball.
 */
export function packMuster(): Promise<string> {
  packed ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), 'muster-pack-'))
    const { stdout } = await run('npm', ['pack', '--pack-destination', dir, '--loglevel=error'], { cwd: repoRoot, maxBuffer: 16 << 20 })
    return join(dir, stdout.trim().split('\n').pop()!)
  })()
  return packed
}

/** npm, run as a user would run it, with the machine's npm cache preferred (no network when it has every package). */
export async function npm(args: string[], cwd: string, env: Record<string, string> = {}): Promise<string> {
  const { stdout } = await run('npm', [...args, '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], {
    cwd,
    env: { ...process.env, ...env },
    maxBuffer: 16 << 20,
    timeout: 300_000,
  })
  return stdout
}

/** Every file under `dir` with its size, mode and mtime: equal snapshots mean nothing was written. */
export function snapshotTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {}
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name)
      const st = statSync(p)
      out[relative(dir, p)] = `${st.size} ${st.mode.toString(8)} ${st.mtimeMs}`
      if (e.isDirectory()) walk(p)
    }
  }
  walk(dir)
  return out
}
