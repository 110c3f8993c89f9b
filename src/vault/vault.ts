import { closeSync, fsyncSync, openSync, readFileSync, realpathSync, renameSync, rmSync, statSync, writeSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { secret, type Secret } from '../core/secret.ts'
import { decryptVault, encryptVault, VaultError, type VaultEntries } from './format.ts'

/**
 * Vault files from an inventory's point of view: `vault(file).get(name)` is a
 * Secret. The password comes from MUSTER_VAULT_PASSWORD_FILE (a file holding
 * it, the way to go: mode 0600, outside the repository) or
 * MUSTER_VAULT_PASSWORD, never from an argument (argv is visible in `ps`).
 */

export interface VaultOptions {
  /** The password itself (for code that gets it elsewhere); default: the environment. */
  password?: string | Secret
}

/** An opened vault file: its entries as Secrets, decrypted once on first use. */
export interface Vault {
  readonly file: string
  /** The secret called `name`; throws naming the file and the names it has when there is none. */
  get(name: string): Secret
  has(name: string): boolean
  names(): string[]
}

export function vaultPath(file: string | URL): string {
  return file instanceof URL ? fileURLToPath(file) : file
}

let taken: string | undefined

/** A password kept in a file (one trailing newline dropped); `label` names where it was asked for in errors. */
export function readPasswordFile(file: string, label: string = file): string {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    throw new VaultError(`${label}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`)
  }
  const password = text.replace(/\r?\n$/, '')
  if (!password) throw new VaultError(`${label} is empty`)
  return password
}

/** For tests: forget a MUSTER_VAULT_PASSWORD taken earlier in this process. */
export function forgetTakenPassword(): void {
  taken = undefined
}

/**
 * The vault password from the environment, or undefined when none is set.
 * MUSTER_VAULT_PASSWORD is taken out of this process's environment once read,
 * so no child (an editor, a local command, a build) inherits it.
 */
export function passwordFromEnv(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const file = env.MUSTER_VAULT_PASSWORD_FILE
  if (file) return readPasswordFile(file, `MUSTER_VAULT_PASSWORD_FILE=${file}`)
  if (env !== process.env) return env.MUSTER_VAULT_PASSWORD || undefined
  if (process.env.MUSTER_VAULT_PASSWORD) {
    taken = process.env.MUSTER_VAULT_PASSWORD
    delete process.env.MUSTER_VAULT_PASSWORD
  }
  return taken
}

const noPassword = (file: string): VaultError =>
  new VaultError(`${file} is a vault: set MUSTER_VAULT_PASSWORD_FILE to a file holding its password (or MUSTER_VAULT_PASSWORD)`)

/** Read and decrypt a vault file. */
export function readVault(file: string, password: string): VaultEntries {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    throw new VaultError(`${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such vault file' : (err as Error).message}`)
  }
  return decryptVault(text, password, file)
}

/** Encrypt and write a vault file whole: a crash mid-write leaves the old file, never half a vault. */
export function writeVault(file: string, entries: VaultEntries, password: string): void {
  let mode = 0o600
  let target = file
  try {
    target = realpathSync(file) // a vault that is a symlink stays one: its target is replaced
    mode = statSync(target).mode & 0o777
  } catch {
    // a new vault: private until its owner decides otherwise
  }
  const tmp = `${target}.muster-${process.pid}.tmp`
  try {
    const fd = openSync(tmp, 'wx', mode)
    try {
      writeSync(fd, encryptVault(entries, password))
      fsyncSync(fd) // on disk before it replaces the old vault: a crash leaves one or the other, whole
    } finally {
      closeSync(fd)
    }
    renameSync(tmp, target)
  } catch (err) {
    rmSync(tmp, { force: true })
    throw new VaultError(`${file}: cannot write: ${(err as Error).message}`)
  }
}

/** A vault for an inventory: decrypted once, on first use; every value a Secret. */
export function vault(file: string | URL, opts: VaultOptions = {}): Vault {
  const path = vaultPath(file)
  let entries: VaultEntries | undefined
  const load = (): VaultEntries => {
    if (entries) return entries
    const given = opts.password
    const password = given === undefined ? passwordFromEnv() : typeof given === 'string' ? given : given.reveal()
    if (!password) throw noPassword(path)
    entries = readVault(path, password)
    return entries
  }
  return {
    file: path,
    get(name) {
      const all = load()
      const v = Object.hasOwn(all, name) ? all[name] : undefined
      if (v === undefined) {
        const have = Object.keys(all)
        throw new VaultError(`${path}: no secret "${name}" (it has ${have.length ? have.join(', ') : 'none'}); add it with \`muster vault set ${path} ${name}\``)
      }
      return secret(v)
    },
    has: (name) => Object.hasOwn(load(), name),
    names: () => Object.keys(load()).sort(),
  }
}
