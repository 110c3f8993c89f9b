/** A plain-text table: first column left-aligned, the others right-aligned (they are figures). */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd()
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n')
}

/** Seconds with enough digits to compare: 0.412 s, 12.3 s. */
export function secs(ms: number): string {
  if (!Number.isFinite(ms)) return '-'
  const s = ms / 1000
  return s < 10 ? s.toFixed(3) : s.toFixed(1)
}

export function num(x: number, digits = 1): string {
  return Number.isFinite(x) ? x.toFixed(digits) : '-'
}

/** "0.412 (0.401-0.430)": median with min-max. */
export function spreadSecs(s: { median: number; min: number; max: number }): string {
  return `${secs(s.median)} (${secs(s.min)}-${secs(s.max)})`
}
