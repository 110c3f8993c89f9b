import { existsSync, readFileSync } from 'node:fs'
import { LabError } from './errors.ts'

/**
 * The Debian mirror the machine already uses, read from its apt
 * configuration: the lab never names a registry host of its own.
 * MUSTER_LAB_MIRROR overrides it.
 */

const deb822File = '/etc/apt/sources.list.d/debian.sources'
const listFile = '/etc/apt/sources.list'

export function aptMirror(files = { deb822: deb822File, list: listFile }): string {
  const override = process.env.MUSTER_LAB_MIRROR
  if (override) return override
  const fromDeb822 = existsSync(files.deb822) ? mirrorFromDeb822(readFileSync(files.deb822, 'utf8')) : undefined
  if (fromDeb822) return fromDeb822
  const fromList = existsSync(files.list) ? mirrorFromSourcesList(readFileSync(files.list, 'utf8')) : undefined
  if (fromList) return fromList
  throw new LabError(
    `found no Debian mirror in ${files.deb822} or ${files.list}`,
    'set MUSTER_LAB_MIRROR to the URL of a Debian mirror (the one your machine uses for apt)',
  )
}

/** A main suite is a bare codename (bookworm), not bookworm-updates or bookworm-security. */
const isMainSuite = (suite: string): boolean => /^[a-z]+$/.test(suite)

/** deb822 stanzas (`Types: deb`, `URIs:`, `Suites:`), as in debian.sources. */
export function mirrorFromDeb822(text: string): string | undefined {
  for (const stanza of text.split(/\n\s*\n/)) {
    const fields = new Map<string, string>()
    for (const line of stanza.split('\n')) {
      const m = /^([A-Za-z-]+):\s*(.*)$/.exec(line)
      if (m) fields.set(m[1].toLowerCase(), m[2].trim())
    }
    const types = (fields.get('types') ?? '').split(/\s+/)
    const suites = (fields.get('suites') ?? '').split(/\s+/)
    const uri = (fields.get('uris') ?? '').split(/\s+/)[0]
    if (fields.get('enabled') === 'no') continue
    if (types.includes('deb') && suites.some(isMainSuite) && uri) return uri
  }
  return undefined
}

/** One-line style: `deb [options] URI SUITE COMPONENTS...`. */
export function mirrorFromSourcesList(text: string): string | undefined {
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim()
    const m = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)/.exec(line)
    if (m && isMainSuite(m[2])) return m[1]
  }
  return undefined
}
