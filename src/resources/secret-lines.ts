import { Secret } from '../core/secret.ts'

/**
 * What a diff may show of a host's file rendered from Secrets.
 *
 * Reporters mask the text of every Secret the run knows, but a rotated
 * secret's old value, still in the host's file, is not one of them: `check
 * --diff` printed it. So a template is rendered once more with a placeholder
 * for each Secret; each line holding a placeholder becomes a pattern (its
 * literal text, the secrets as wildcards), and in the host's text a value in
 * a secret's place is shown as *** unless it is a current secret (which the
 * reporters mask anyway, and which must stay as it is so an unchanged line
 * stays unchanged). A changed password then shows as `-password = ***`,
 * `+password = ***`.
 */

export type Redactor = (hostText: string) => string

const MARK = '\u0001muster-secret-'
const markPattern = /\u0001muster-secret-\d+\u0001/g

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

/**
 * From the placeholder rendering: a redactor for the host's text, or
 * undefined when none can be trusted (a multi-line secret, or a rendering in
 * which no placeholder survived as written): then no diff is shown at all.
 */
export function secretLineRedactor(placeholderText: string, secrets: readonly Secret[]): Redactor | undefined {
  if (secrets.some((s) => s.reveal().includes('\n'))) return undefined
  const current = new Set(secrets.map((s) => s.reveal()))
  const patterns: RegExp[] = []
  for (const line of placeholderText.split('\n')) {
    if (!line.includes(MARK)) continue
    const literals = line.split(markPattern)
    patterns.push(new RegExp(`^${literals.map(escape).join('(.*?)')}$`))
  }
  if (patterns.length === 0) return undefined // the template transformed its secrets: their lines cannot be found
  return (hostText) =>
    hostText
      .split('\n')
      .map((line) => {
        for (const p of patterns) {
          const m = p.exec(line)
          if (!m) continue
          const literals = p.source.slice(1, -1).split('(.*?)')
          return literals
            .map((lit, i) => {
              const text = lit.replace(/\\(.)/g, '$1')
              const value = m[i + 1]
              return i < literals.length - 1 ? text + (value !== undefined && current.has(value) ? value : '***') : text
            })
            .join('')
        }
        return line
      })
      .join('\n')
}
