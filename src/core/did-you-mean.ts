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
    const d = editDistance(word.toLowerCase(), k.toLowerCase(), limit)
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

/**
 * Optimal string alignment distance: insertions, deletions, substitutions and
 * adjacent swaps. With `limit`, any distance above it comes back as limit + 1,
 * found as soon as a whole row exceeds it: every run compares each host's vars
 * with its roles' names, so this is on the path of a converged check.
 */
export function editDistance(a: string, b: string, limit = Infinity): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1
  const n = b.length
  let before = new Int32Array(n + 1) // row i - 2
  let prev = new Int32Array(n + 1) // row i - 1
  let row = new Int32Array(n + 1)
  for (let j = 0; j <= n; j++) prev[j] = j
  for (let i = 1; i <= a.length; i++) {
    row[0] = i
    let rowMin = i
    const ai = a.charCodeAt(i - 1)
    for (let j = 1; j <= n; j++) {
      const bj = b.charCodeAt(j - 1)
      let v = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (ai === bj ? 0 : 1))
      if (i > 1 && j > 1 && ai === b.charCodeAt(j - 2) && a.charCodeAt(i - 2) === bj) v = Math.min(v, before[j - 2]! + 1)
      row[j] = v
      if (v < rowMin) rowMin = v
    }
    if (rowMin > limit) return limit + 1
    ;[before, prev, row] = [prev, row, before]
  }
  return prev[n]!
}
