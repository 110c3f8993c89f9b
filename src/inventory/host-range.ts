import { InventoryError, type SourcePosition } from './types.ts'

/**
 * A host as Ansible's YAML and INI inventories spell it: a name that may hold
 * ranges (`web-[01:03]`, `db-[a:c]`, `n[0:10:5]`) and may end in `:port`.
 */
export function parseHostPattern(text: string, position: SourcePosition): { names: string[]; port?: string } {
  let name = text
  let port: string | undefined
  const v6 = /^\[([0-9A-Fa-f:.]+)\](?::(\d+))?$/.exec(text)
  if (v6 && v6[1].includes('::')) return { names: [v6[1]], port: v6[2] }
  const colons = text.replace(/\[[^\]]*\]/g, '').split(':').length - 1
  // one colon outside brackets is a port; more is a bare IPv6 address
  if (colons === 1) {
    const at = lastColonOutsideBrackets(text)
    name = text.slice(0, at)
    port = text.slice(at + 1)
    if (!/^\d+$/.test(port)) throw new InventoryError(`invalid port '${port}' in host '${text}'`, position)
  }
  if (name.length === 0) throw new InventoryError(`empty host name in '${text}'`, position)
  return { names: colons > 1 ? [name] : expandHostRange(name, position), port }
}

function lastColonOutsideBrackets(text: string): number {
  let depth = 0
  for (let i = text.length - 1; i >= 0; i--) {
    if (text[i] === ']') depth++
    else if (text[i] === '[') depth--
    else if (text[i] === ':' && depth === 0) return i
  }
  return -1
}

/** Expand every `[start:end(:step)]` in a host name; numbers keep the width of a zero-padded start. */
export function expandHostRange(name: string, position: SourcePosition): string[] {
  const m = /^(.*?)\[([^\]]*)\](.*)$/.exec(name)
  if (!m) return [name]
  const [, head, spec, tail] = m
  const parts = spec.split(':')
  if (parts.length < 2 || parts.length > 3) throw new InventoryError(`invalid host range '[${spec}]' in '${name}' (expected [start:end] or [start:end:step])`, position)
  const [begin = '', end = '', stepText = '1'] = parts
  const step = Number(stepText)
  if (!/^\d+$/.test(stepText) || step < 1) throw new InventoryError(`invalid step '${stepText}' in host range '${name}'`, position)
  const tails = expandHostRange(tail, position)
  const middles = rangeValues(begin === '' ? '0' : begin, end, step, name, position)
  return middles.flatMap((mid) => tails.map((t) => head + mid + t))
}

function rangeValues(begin: string, end: string, step: number, name: string, position: SourcePosition): string[] {
  const out: string[] = []
  if (/^\d+$/.test(begin) && /^\d+$/.test(end)) {
    const padded = begin.length > 1 && begin.startsWith('0')
    if (padded && begin.length !== end.length) {
      throw new InventoryError(`host range '${name}': a zero-padded start and its end must have the same width`, position)
    }
    const from = Number(begin)
    const to = Number(end)
    if (from > to) throw new InventoryError(`host range '${name}' runs backwards`, position)
    for (let i = from; i <= to; i += step) out.push(padded ? String(i).padStart(begin.length, '0') : String(i))
    return out
  }
  if (/^[a-zA-Z]$/.test(begin) && /^[a-zA-Z]$/.test(end)) {
    const from = begin.charCodeAt(0)
    const to = end.charCodeAt(0)
    if (from > to) throw new InventoryError(`host range '${name}' runs backwards`, position)
    for (let c = from; c <= to; c += step) out.push(String.fromCharCode(c))
    return out
  }
  throw new InventoryError(`invalid host range '${name}' (bounds must be two numbers or two letters)`, position)
}
