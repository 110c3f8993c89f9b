import { Secret } from './secret.ts'

/** Quote one value for POSIX sh: safe words stay bare, everything else is single-quoted. */
export function quote(value: string | number): string {
  const s = String(value)
  if (s === '') return "''"
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(s)) return s
  return `'${s.replace(/'/g, `'\\''`)}'`
}

export class SecretInCommandError extends Error {
  constructor() {
    super('a secret was interpolated into a shell command; secrets must travel on stdin or in a 0600 file, never in argv')
    this.name = 'SecretInCommandError'
  }
}

/** Marks a string as already-safe shell text (a fragment built by `sh`). */
export class Raw {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text
  }
}
/** Text that `sh` inserts as is, unquoted: only for shell syntax you wrote yourself. */
export const raw = (text: string): Raw => new Raw(text)

type ShValue = string | number | Raw | readonly (string | number | Raw)[]

/**
 * Build a shell command in which every interpolated value is quoted by
 * construction. Arrays become space-separated quoted words. A Secret throws:
 * argv is visible to every user of the host through `ps`.
 */
export function sh(strings: TemplateStringsArray, ...values: (ShValue | Secret)[]): string {
  let out = strings[0] ?? ''
  values.forEach((v, i) => {
    out += render(v) + (strings[i + 1] ?? '')
  })
  return out
}

function render(v: ShValue | Secret): string {
  if (v instanceof Secret) throw new SecretInCommandError()
  if (v instanceof Raw) return v.text
  if (Array.isArray(v)) return v.map((x) => render(x)).join(' ')
  return quote(v as string | number)
}
