import { isAbsolute, resolve } from 'node:path'
import { Secret } from '../core/secret.ts'
import { vault, type Vault } from '../vault/vault.ts'
import { VaultError } from '../vault/format.ts'
import { InventoryError, type SourcePosition, type Vars } from './types.ts'

/**
 * A var whose value is a secret kept elsewhere, as YAML and INI inventories
 * (and `-e`) write it: `!vault db-app-password`, an entry of the inventory's
 * vault file (the var `muster_vault`), or `!env DB_APP_PASSWORD`, an
 * environment variable. Resolved into a `Secret` when the inventory is built,
 * so a role sees the same value a TypeScript inventory's `vault(...).get()` gives.
 */
export class SecretRef {
  constructor(
    readonly from: 'vault' | 'env',
    readonly name: string,
    readonly position: SourcePosition,
  ) {}
  toString(): string {
    return `!${this.from} ${this.name}`
  }
}

/** The var naming the vault that `!vault` refers to; relative to the inventory file (to the working directory in `-e`). */
export const VAULT_VAR = 'muster_vault'

const REF = /^!(vault|env)(?:\s+(\S+))?\s*$/

/** `!vault NAME` / `!env NAME` written as plain text (INI, `-e`); other text is not a reference. */
export function secretRefIn(text: string, position: SourcePosition, host?: string): SecretRef | undefined {
  const m = REF.exec(text)
  if (!m) return undefined
  if (!m[2]) throw new InventoryError(`${text.trim()} needs a name: \`!${m[1]} NAME\``, position, host)
  return new SecretRef(m[1] as 'vault' | 'env', m[2], position)
}

export interface ResolveContext {
  /** The vault file, absolute; undefined when the inventory names none. */
  vaultFile: string | undefined
  host?: string
  /** Vaults opened so far, by file: each is decrypted once per run. */
  opened: Map<string, Vault>
}

/** Absolute path of a `muster_vault` value, or an error at `position`. */
export function vaultFileOf(value: unknown, baseDir: string, position: SourcePosition): string {
  if (typeof value !== 'string' || value.length === 0) throw new InventoryError(`${VAULT_VAR} must be a file path, got ${typeof value}`, position)
  return isAbsolute(value) ? value : resolve(baseDir, value)
}

/** `vars` with every SecretRef (at any depth) replaced by its Secret; `muster_vault` itself is taken out. */
export function resolveSecretRefs(vars: Vars, ctx: ResolveContext): Vars {
  const out: Vars = {}
  for (const [k, v] of Object.entries(vars)) if (k !== VAULT_VAR) out[k] = resolveValue(v, ctx)
  return out
}

function resolveValue(v: unknown, ctx: ResolveContext): unknown {
  if (v instanceof SecretRef) return secretOf(v, ctx)
  if (Array.isArray(v)) return v.some(hasRef) ? v.map((x) => resolveValue(x, ctx)) : v
  if (isPlainObject(v) && hasRef(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, resolveValue(x, ctx)]))
  return v
}

export function hasRef(v: unknown): boolean {
  if (v instanceof SecretRef) return true
  if (Array.isArray(v)) return v.some(hasRef)
  return isPlainObject(v) && Object.values(v).some(hasRef)
}

function secretOf(ref: SecretRef, ctx: ResolveContext): Secret {
  if (ref.from === 'env') {
    const value = process.env[ref.name]
    if (!value) throw new InventoryError(`${ref}: the environment variable ${ref.name} is not set`, ref.position, ctx.host)
    return new Secret(value)
  }
  if (!ctx.vaultFile) {
    throw new InventoryError(`${ref}: no vault to read it from; name one with ${VAULT_VAR}=FILE in the inventory's all vars (or -e ${VAULT_VAR}=FILE)`, ref.position, ctx.host)
  }
  let v = ctx.opened.get(ctx.vaultFile)
  if (!v) ctx.opened.set(ctx.vaultFile, (v = vault(ctx.vaultFile)))
  try {
    return v.get(ref.name)
  } catch (err) {
    if (err instanceof VaultError) throw new InventoryError(`${ref}: ${err.message}`, ref.position, ctx.host)
    throw err
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype
}
