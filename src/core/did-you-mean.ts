/**
 * "did you mean": the known names closest to a misspelled one, by edit
 * distance (a swap of two neighbours counts as one edit: `ngnix` -> `nginx`).
 * Close means at most one edit in four characters (at least one), and only
 * the nearest of those are named.
 */
export function closest(word: string, known: Iterable<string>, max = 3): string[] {
  const limit = Math.max(1, Math.floor(word.length / 4))
  const scored: [string, number][] = []
  for (const k of new Set(known)) {
    if (k === word) continue
    const d = editDistance(word.toLowerCase(), k.toLowerCase())
    if (d <= limit) scored.push([k, d])
  }
  const best = Math.min(...scored.map(([, d]) => d))
  // only the nearest: `ansible_hots` means `ansible_host` (1), not also `ansible_port` (2)
  return scored.filter(([, d]) => d === best).sort((a, b) => a[0].localeCompare(b[0])).slice(0, max).map(([k]) => k)
}

/** "; did you mean 'nginx'?" (or "'a' or 'b'"), or '' when nothing is close. */
export function didYouMean(word: string, known: Iterable<string>): string {
  const near = closest(word, known)
  if (near.length === 0) return ''
  return `; did you mean ${near.map((n) => `'${n}'`).join(' or ')}?`
}

/** Optimal string alignment distance: insertions, deletions, substitutions and adjacent swaps. */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)])
  for (let j = 1; j <= b.length; j++) d[0]![j] = j
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1)
      d[i]![j] = v
    }
  }
  return d[a.length]![b.length]!
}
