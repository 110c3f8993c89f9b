import { spawn } from 'node:child_process'

/**
 * Answers muster's remote scripts (`sh -s`, the script on stdin) the way a
 * converged host would, at almost no cost to the simulated host: the first
 * time a script is seen it is run for real (against the prepared local root,
 * with a fake `systemctl` first on PATH), and its output is kept; every later
 * copy of the same script, on any simulated host, gets that output back.
 *
 * A probe batch carries a random marker (`__muster_<12 hex>__`) that its
 * output repeats; scripts are keyed with the marker blanked out, and the
 * recorded output gets the asking script's own marker substituted.
 */
export interface Reply {
  code: number
  stdout: string
  stderr: string
}

const MARKER = /__muster_[0-9a-f]{12}__/
const PLACEHOLDER = '\u0000MARKER\u0000'

export type ScriptRunner = (script: string) => Promise<Reply>

export class ProbeReplayer {
  readonly #recorded = new Map<string, Promise<Reply>>()
  #hits = 0
  #misses = 0

  constructor(private readonly run: ScriptRunner) {}

  get hits(): number {
    return this.#hits
  }

  get misses(): number {
    return this.#misses
  }

  async answer(script: string): Promise<Reply> {
    const marker = MARKER.exec(script)?.[0]
    const key = marker ? script.split(marker).join(PLACEHOLDER) : script
    let recorded = this.#recorded.get(key)
    if (recorded) this.#hits++
    else {
      this.#misses++
      recorded = this.run(script).then((r) =>
        marker ? { code: r.code, stdout: r.stdout.split(marker).join(PLACEHOLDER), stderr: r.stderr.split(marker).join(PLACEHOLDER) } : r,
      )
      this.#recorded.set(key, recorded)
    }
    const r = await recorded
    if (!marker) return r
    return { code: r.code, stdout: r.stdout.split(PLACEHOLDER).join(marker), stderr: r.stderr.split(PLACEHOLDER).join(marker) }
  }
}

/** Run a script with `sh -s`, `shimDir` first on PATH. */
export function localScriptRunner(shimDir: string): ScriptRunner {
  return (script) =>
    new Promise((resolve, reject) => {
      const child = spawn('/bin/sh', ['-s'], {
        env: { ...process.env, PATH: `${shimDir}:${process.env.PATH ?? '/usr/bin:/bin'}`, LC_ALL: 'C' },
        stdio: ['pipe', 'pipe', 'pipe'],
      })
      const out: Buffer[] = []
      const err: Buffer[] = []
      child.stdout.on('data', (d: Buffer) => out.push(d))
      child.stderr.on('data', (d: Buffer) => err.push(d))
      child.on('error', reject)
      child.on('close', (code) => resolve({ code: code ?? 255, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }))
      child.stdin.end(script)
    })
}
