import { Secret } from '../core/secret.ts'

/**
 * What a diff may show of a host's file rendered from Secrets.
 *
 * Reporters mask the text of every Secret the run knows, but a rotated
 * secret's old value, still in the host's file, is not one of them: `check
 * --diff` printed it. So a template is rendered once more with a placeholder
 * for each Secret, and the host's text is shown line by line as:
 * - a line the new content also has: as it is (reporters mask a current secret);
 * - a line in the shape of one of the template's secret lines (its literal
 *   text, the secrets as wildcards): with whatever stands in a secret's place
 *   as ***, so a changed password shows as `-password = ***`, `+password = ***`;
 * - any other line (an old layout, a value that moved): *** as a whole, since
 *   nothing says it holds no secret. What it becomes shows on the `+` side.
 */

export type Redactor = (hostText: string) => string

const MARK = '\u0001muster-secret-'
const markPattern = /\u0001muster-secret-(\d+)\u0001/g

/** Every Secret inside vars (plain objects and arrays), in a stable order. */
export function secretsIn(value: unknown, out: Secret[] = []): Secret[] {
  if (value instanceof Secret) out.push(value)
  else if (Array.isArray(value)) for (const v of value) secretsIn(v, out)
  else if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) for (const v of Object.values(value)) secretsIn(v, out)
  return out
}

/** vars with each Secret replaced by a placeholder string. */
export function withPlaceholders(value: unknown, secrets: Secret[]): unknown {
  if (value instanceof Secret) return `${MARK}${secrets.indexOf(value)}\u0001`
  if (Array.isArray(value)) return value.map((v) => withPlaceholders(v, secrets))
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withPlaceholders(v, secrets)]))
  }
  return value
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

interface SecretLine {
  pattern: RegExp
  literals: string[]
}

/**
 * From the placeholder rendering and the real one: a redactor for the host's
 * text, or undefined when none can be trusted (a multi-line secret, or a
 * template that does more with a secret than print it: then putting the
 * values back into the placeholders does not give the real text). Undefined
 * means no diff is shown at all.
 */
export function secretLineRedactor(placeholderText: string, secrets: readonly Secret[], realText: string): Redactor | undefined {
  if (secrets.some((s) => s.reveal().includes('\n'))) return undefined
  if (placeholderText.replace(markPattern, (_, i: string) => secrets[Number(i)]!.reveal()) !== realText) return undefined
  const current = new Set(secrets.map((s) => s.reveal()))
  const wanted = new Set(realText.split('\n').map((l) => l.replace(/\r$/, '')))
  const lines: SecretLine[] = []
  for (const line of placeholderText.split('\n')) {
    if (!line.includes(MARK)) continue
    const literals = line.replace(/\r$/, '').split(markPattern).filter((_, i) => i % 2 === 0) // split keeps the captured index: drop it
    lines.push({ literals, pattern: new RegExp(`^${literals.map(escape).join('(.*?)')}$`, 's') })
  }
  const redactLine = (line: string): string => {
    if (wanted.has(line)) return line
    for (const { pattern, literals } of lines) {
      const m = pattern.exec(line)
      if (!m) continue
      return literals.map((lit, i) => (i === 0 ? lit : `${current.has(m[i]!) ? m[i] : '***'}${lit}`)).join('')
    }
    return line === '' ? line : '***'
  }
  return (hostText) =>
    hostText
      .split('\n')
      .map((raw) => {
        const cr = raw.endsWith('\r') ? '\r' : ''
        return redactLine(cr ? raw.slice(0, -1) : raw) + cr
      })
      .join('\n')
}
