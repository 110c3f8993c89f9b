import { randomBytes } from 'node:crypto'
import { factId, type FactKind, type FactQuery } from '../contract/fact.ts'

/**
 * Every fact query of a host's play travels as ONE remote script, coalesced
 * by kind: one section per fact kind (or per key, for kinds that cannot
 * coalesce). Sections are delimited by a per-batch random marker, so nothing
 * a probe prints can be mistaken for a delimiter.
 */
/** First line of every probe script: the check-mode connection lets only read-only scripts through. */
/** How every probe script runs: `sh` reading the script from stdin (never in argv). */
export const PROBE_COMMAND = 'sh -s'

export const READ_ONLY_HEADER = '#!/bin/sh\n# muster: read-only probe\n'

export interface ProbeSection {
  kind: FactKind<unknown>
  keys: string[]
}

export interface ProbeBatch {
  script: string
  sections: ProbeSection[]
  marker: string
}

export function planSections(queries: readonly FactQuery<unknown>[]): ProbeSection[] {
  const byKind = new Map<FactKind<unknown>, string[]>()
  const seen = new Set<string>()
  for (const q of queries) {
    const id = factId(q)
    if (seen.has(id)) continue
    seen.add(id)
    const keys = byKind.get(q.kind)
    if (keys) keys.push(q.key)
    else byKind.set(q.kind, [q.key])
  }
  const sections: ProbeSection[] = []
  for (const [kind, keys] of byKind) {
    if (kind.coalesce) sections.push({ kind, keys })
    else for (const key of keys) sections.push({ kind, keys: [key] })
  }
  return sections
}

const MARKER = /__muster_[0-9a-f]{12}__/

function newMarker(): string {
  return `__muster_${randomBytes(6).toString('hex')}__`
}

export function buildBatch(queries: readonly FactQuery<unknown>[]): ProbeBatch {
  const marker = newMarker()
  const sections = planSections(queries)
  const lines = [READ_ONLY_HEADER + 'export LC_ALL=C']
  sections.forEach((s, i) => {
    lines.push(`printf '%s S %s\\n' '${marker}' ${i}`)
    // a subshell: a fragment's `exit` or `set -e` cannot end the batch
    lines.push(`(\n${s.kind.script(s.keys)}\n)`)
    lines.push(`printf '\\n%s E %s\\n' '${marker}' "$?"`)
  })
  return { script: lines.join('\n') + '\n', sections, marker }
}

export class ProbeParseError extends Error {
  constructor(message: string) {
    super(`probe output could not be read: ${message}`)
    this.name = 'ProbeParseError'
  }
}

/** Split the batch's stdout into sections and parse each with its kind. */
export function parseBatch(batch: ProbeBatch, stdout: string): Map<string, unknown> {
  const out = new Map<string, unknown>()
  const startRe = new RegExp(`^${batch.marker} S (\\d+)$`)
  const endRe = new RegExp(`^${batch.marker} E (\\d+)$`)
  const lines = stdout.split('\n')
  let current: number | null = null
  let buf: string[] = []
  const done = new Set<number>()
  // a marker line starts with the batch's marker: only those are tried against the patterns
  const head = batch.marker.charCodeAt(0)
  for (const line of lines) {
    const markerLine = line.charCodeAt(0) === head && line.startsWith(batch.marker)
    const s = markerLine ? startRe.exec(line) : null
    if (s) {
      current = Number(s[1])
      buf = []
      continue
    }
    const e = markerLine ? endRe.exec(line) : null
    if (e && current !== null) {
      const section = batch.sections[current]
      if (!section) throw new ProbeParseError(`unexpected section ${current}`)
      // the end marker's own leading newline ended the last line: joining the
      // lines gives back exactly what the fragment printed
      const parsed = section.kind.parse(buf.join('\n'), section.keys, Number(e[1]))
      for (const key of section.keys) {
        if (!parsed.has(key)) throw new ProbeParseError(`fact kind ${section.kind.name} gave no value for ${key}`)
        out.set(factId({ kind: section.kind, key }), parsed.get(key))
      }
      done.add(current)
      current = null
      continue
    }
    if (current !== null) buf.push(line)
  }
  if (done.size !== batch.sections.length) {
    const missing = batch.sections.map((s, i) => (done.has(i) ? null : s.kind.name)).filter(Boolean)
    throw new ProbeParseError(`the script ended before ${missing.join(', ')} reported`)
  }
  return out
}

/**
 * A recorded probe script made ready to send again, before this run has
 * planned anything (preconnect.ts): its marker replaced by a fresh one. Only a
 * read-only probe qualifies; anything else gives undefined and is not sent.
 */
export function remarkProbe(script: string): string | undefined {
  const old = MARKER.exec(script)?.[0]
  if (!old || !script.startsWith(READ_ONLY_HEADER)) return undefined
  return script.split(old).join(newMarker())
}

/**
 * The batch as the script sent ahead (remarkProbe), when that script is this
 * batch's but for its marker: the run then sends the very same text, and the
 * connection hands back the answer the host already gave to it. Otherwise the
 * batch as built.
 */
export function adoptSentAhead(batch: ProbeBatch, sent: string | undefined): ProbeBatch {
  const marker = sent === undefined ? undefined : MARKER.exec(sent)?.[0]
  if (marker === undefined) return batch
  const script = batch.script.split(batch.marker).join(marker)
  return script === sent ? { ...batch, script, marker } : batch
}
