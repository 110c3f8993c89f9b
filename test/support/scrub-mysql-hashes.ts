import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { mysqlNativeHash } from '../../src/resources/mysql.ts'
import { FIXTURES_DIR } from './record-probes.ts'

/**
 * The lab's passwords are its own (random, in the lab's dir): their hashes are
 * replaced by those of fixed fixture passwords, so no credential of any host is
 * committed and the tests know which password matches.
 */
export const FIXTURE_PASSWORDS = { app: 'fixture-app-password', repl: 'fixture-repl-password' }

export function scrubHashes(dir: string, name: string): void {
  const file = join(FIXTURES_DIR, dir, `${name}.txt`)
  let text = readFileSync(file, 'utf8')
  for (const [user, pw] of Object.entries(FIXTURE_PASSWORDS)) {
    const fake = mysqlNativeHash(pw).reveal()
    const line = new RegExp(`^user\tmysql_native_password\t(\\*[0-9A-F]{40})$`, 'm')
    const block = text.split(`#muster-key\tuser:${user}@%\n`)[1]
    const real = block ? line.exec(block)?.[1] : undefined
    if (real) text = text.split(real).join(fake)
  }
  if (/\*[0-9A-F]{40}/.test(text.replace(new RegExp(Object.values(FIXTURE_PASSWORDS).map((p) => mysqlNativeHash(p).reveal().replace('*', '\\*')).join('|'), 'g'), ''))) {
    throw new Error(`${file}: a password hash is left that is not a fixture's`)
  }
  writeFileSync(file, text)
}

