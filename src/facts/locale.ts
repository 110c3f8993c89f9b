import { query, type FactKind, type FactQuery } from '../contract/fact.ts'

/**
 * Whether a locale is compiled on the host, from one `locale -a` for every
 * locale of the batch. `locale -a` writes names normalised (en_US.utf8), so
 * both sides are compared that way.
 */
export const normalLocale = (name: string): string => {
  const [lang, rest] = name.split('.', 2)
  if (rest === undefined) return name
  const [charset, modifier] = rest.split('@', 2)
  return `${lang}.${charset!.toLowerCase().replace(/[^a-z0-9]/g, '')}${modifier !== undefined ? `@${modifier}` : ''}`
}

export function assertLocaleName(name: string): string {
  if (typeof name !== 'string' || !/^[a-z]{2,3}_[A-Z]{2}(\.[A-Za-z0-9-]+)?(@[a-z]+)?$/.test(name)) {
    throw new Error(`locale ${JSON.stringify(name)}: a name such as en_US.UTF-8 or de_DE.UTF-8`)
  }
  return name
}

export const localeFact: FactKind<boolean> = {
  name: 'locale',
  coalesce: true,
  script: () => 'locale -a 2>/dev/null; true',
  parse(stdout, keys) {
    const have = new Set(stdout.split('\n').map((l) => l.trim()))
    return new Map(keys.map((k) => [k, have.has(normalLocale(k))]))
  },
}

/** Is `name` (en_US.UTF-8) compiled and usable on the host? */
export function localeGenerated(name: string): FactQuery<boolean> {
  return query(localeFact, assertLocaleName(name))
}
