import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { secret, type Secret } from '../core/secret.ts'
import { labDir } from './layout.ts'

/**
 * A secret for the lab's inventory: from `envVar` when set, else a random one
 * generated once and kept (mode 0600) in the lab's own directory, never in a
 * repository.
 */
export function labSecret(name: string, envVar?: string): Secret {
  const fromEnv = envVar ? process.env[envVar] : undefined
  if (fromEnv) return secret(fromEnv)
  const dir = join(labDir(), 'secrets')
  const file = join(dir, name)
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 })
    // 'wx': two runs starting at once must not each write their own
    try {
      writeFileSync(file, `${randomBytes(18).toString('hex')}\n`, { mode: 0o600, flag: 'wx' })
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    }
  }
  return secret(readFileSync(file, 'utf8').trim())
}
