import { createHash } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { mysqlNativeHash } from '../../src/resources/mysql.ts'
import { FIXTURES_DIR } from './record-probes.ts'

/**
 * The lab's passwords are its own (random, in the lab's dir): their hashes are
 * replaced by those of fixed fixture passwords, so no credential of any host is
 * committed and the tests know which password matches. Shared by the Debian 12
 * and Debian 13 recorders of the mysql fact's fixtures.
 */
export const FIXTURE_PASSWORDS = { app: 'fixture-app-password', repl: 'fixture-repl-password' }
/** The app account's second password in the 'primary-rotating' fixture (a fixture's, set for seconds). */
export const FIXTURE_NEXT_APP = 'fixture-app-password-next'
/** The password db-03's master.info holds in the 'replica-drifted' fixture (a fixture's, set for seconds, replication stopped meanwhile). */
export const STORED_BY_HAND = 'fixture-repl-password-by-hand'

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex')

/** Rewrite `<FIXTURES_DIR>/<dir>/<name>.txt` so it holds only fixture passwords' hashes and lab 0's addresses. */
export function scrubHashes(dir: string, name: string): void {
  const file = join(FIXTURES_DIR, dir, `${name}.txt`)
  let text = readFileSync(file, 'utf8')
  // a fixture's own hash (set by a recorder) stays as it is
  const ours = [...Object.values(FIXTURE_PASSWORDS), FIXTURE_NEXT_APP].map((p) => mysqlNativeHash(p).reveal())
  for (const [user, pw] of Object.entries(FIXTURE_PASSWORDS)) {
    const fake = mysqlNativeHash(pw).reveal()
    const line = new RegExp(`^user\tmysql_native_password\t(\\*[0-9A-F]{40})$`, 'm')
    const block = text.split(`#muster-key\tuser:${user}@%\n`)[1]
    const real = block ? line.exec(block)?.[1] : undefined
    if (real && !ours.includes(real)) text = text.split(real).join(fake)
  }
  // lab N's subnet is 10.(77+N).0.0/24: written as lab 0's, so the tests do not depend on which lab recorded them
  text = text.replace(/\b10\.(7[7-9]|8[0-6])\.0\.(\d+)\b/g, '10.77.0.$2')
  // the replication password a replica stores, hashed on the host: the lab's real one becomes the fixture's
  text = text.replace(/^(#muster-replica-password\n)([0-9a-f]{64})$/m, (_, head: string, real: string) => (real === sha256(STORED_BY_HAND) ? `${head}${real}` : `${head}${sha256(FIXTURE_PASSWORDS.repl)}`))
  const known = ours.map((h) => h.replace('*', '\\*'))
  if (/\*[0-9A-F]{40}/.test(text.replace(new RegExp(known.join('|'), 'g'), ''))) {
    throw new Error(`${file}: a password hash is left that is not a fixture's`)
  }
  writeFileSync(file, text)
}
