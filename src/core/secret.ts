/**
 * A secret renders into templates and SQL but prints as `***` everywhere else.
 * Every secret's text is also registered so reporters can mask it wherever it
 * leaks into command output, diffs or error messages.
 */
const registry = new Set<string>()

/** A value that renders into templates, files and SQL but prints as `***` everywhere else. */
export class Secret {
  readonly #value: string
  constructor(value: string) {
    if (typeof value !== 'string' || value.length === 0) throw new Error('a secret needs a non-empty string value')
    this.#value = value
    registry.add(value)
    // a multi-line secret (a private key) shows up line by line in diffs and logs: mask each line too
    if (value.includes('\n')) for (const line of value.split('\n')) if (line.trim().length >= 8 && !/^-----(BEGIN|END) /.test(line)) registry.add(line)
  }
  /** The real text: only for rendering into content that travels on stdin or into 0600 files. */
  reveal(): string {
    return this.#value
  }
  toString(): string {
    return '***'
  }
  toJSON(): string {
    return '***'
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return 'Secret(***)'
  }
}

/** Wrap text as a `Secret`: it renders into files and SQL and prints as `***`. */
export function secret(value: string): Secret {
  return new Secret(value)
}

/** Whether a value is a `Secret`. */
export function isSecret(v: unknown): v is Secret {
  return v instanceof Secret
}

/** Whether any registered secret's text (of 3 characters or more, as maskSecrets) appears in `text`. */
export function containsSecret(text: string): boolean {
  for (const s of registry) if (s.length >= 3 && text.includes(s)) return true
  return false
}

/** Replace every registered secret's text in `text` by `***`. */
export function maskSecrets(text: string): string {
  if (registry.size === 0 || !text) return text
  let out = text
  // longest first, so a secret that contains another is masked whole
  for (const s of [...registry].sort((a, b) => b.length - a.length)) {
    if (s.length < 3) continue // masking one or two characters would shred ordinary output
    out = out.split(s).join('***')
  }
  return out
}

/** Deeply replace Secret values by their revealed text (for template rendering). */
export function revealDeep(value: unknown): unknown {
  if (value instanceof Secret) return value.reveal()
  if (Array.isArray(value)) return value.map(revealDeep)
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) out[k] = revealDeep(v)
    return out
  }
  return value
}
