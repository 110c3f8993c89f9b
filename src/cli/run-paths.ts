import { join, resolve } from 'node:path'
import { cacheDir } from '../core/cache-dir.ts'

/** Where a run keeps what the next run reads: the run log, the preconnect hint. */
export const stateDir = (): string => resolve(process.env.MUSTER_STATE_DIR ?? '.muster')

/** Which hashed known_hosts lines matched which host (known-hosts-memo.ts): rebuilt by any run, so a cache. */
export const knownHostsMemoFile = (): string => join(cacheDir(), 'known-hosts-memo.json')
