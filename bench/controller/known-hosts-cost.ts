import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { lookUpHostKey, rememberHashedLines, saveHashedLineMemo } from '../../src/ssh/host-key-check.ts'
import { writeKnownHosts, type KnownHostsStyle } from './keys.ts'

/**
 * What muster's host-key handling costs one connection, by known_hosts size:
 * `connect()`'s one look-up (recorded algorithms, then the key judged
 * against the same lines) for hosts not asked about before in the run (the
 * file is parsed and indexed once per version). Measured apart from any
 * SSH, so the per-connection figure is this alone.
 *
 * `hashed-remembered` is the same hosts' next run on the hashed file: the
 * memo the first run wrote (known-hosts-memo.ts) read, checked against the
 * file and used, and written back at the end, all of it inside the timed span.
 */
export interface KnownHostsCost {
  style: KnownHostsStyle | 'hashed-remembered'
  lines: number
  msPerConnection: number
}

export async function knownHostsCost(
  hostPublicKey: string,
  endpoints: (n: number) => { address: string; port: number }[],
  sizes: readonly number[],
): Promise<KnownHostsCost[]> {
  const dir = mkdtempSync(join(tmpdir(), 'muster-bench-kh-'))
  const blob = Buffer.from(hostPublicKey.split(' ')[1]!, 'base64')
  const out: KnownHostsCost[] = []
  try {
    for (const style of ['plain', 'hashed'] as const) {
      for (const n of sizes) {
        const file = join(dir, `known_hosts-${style}-${n}`)
        const memo = join(dir, `memo-${style}-${n}.json`)
        const eps = endpoints(n)
        writeKnownHosts(file, eps, hostPublicKey, style)
        const reps = Math.min(n, 200)
        const pass = async (): Promise<number> => {
          rememberHashedLines(memo) // a run begins: the file is read afresh, with the memo if there is one
          const t0 = performance.now()
          for (let i = 0; i < reps; i++) {
            const ep = eps[Math.floor((i * n) / reps)]!
            const found = await lookUpHostKey({ host: `h${i}`, address: ep.address, port: ep.port, file, acceptNew: false })
            await found.verify(blob)
          }
          await saveHashedLineMemo() // the run's end writes what it learnt: part of its cost
          return (performance.now() - t0) / reps
        }
        out.push({ style, lines: n, msPerConnection: await pass() })
        if (style === 'hashed') out.push({ style: 'hashed-remembered', lines: n, msPerConnection: await pass() })
      }
    }
  } finally {
    rememberHashedLines(undefined)
    rmSync(dir, { recursive: true, force: true })
  }
  return out
}
