/** Figures of repeated runs: the median is what tables show, min and max say how noisy it was. */
export interface Summary {
  median: number
  min: number
  max: number
  n: number
}

export function summarize(xs: readonly number[]): Summary {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b)
  if (v.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN, n: 0 }
  const mid = Math.floor(v.length / 2)
  const median = v.length % 2 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2
  return { median, min: v[0]!, max: v[v.length - 1]!, n: v.length }
}

/** a / b, or NaN when either is missing. */
export function ratio(a: number, b: number): number {
  return Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? a / b : Number.NaN
}

/**
 * Least-squares slope and intercept of y over x: the per-unit cost and the
 * fixed cost of a figure that grows with the fleet.
 */
export function linearFit(points: readonly { x: number; y: number }[]): { slope: number; intercept: number; r2: number } {
  const n = points.length
  if (n < 2) return { slope: Number.NaN, intercept: Number.NaN, r2: Number.NaN }
  const mx = points.reduce((s, p) => s + p.x, 0) / n
  const my = points.reduce((s, p) => s + p.y, 0) / n
  let sxy = 0
  let sxx = 0
  let syy = 0
  for (const p of points) {
    sxy += (p.x - mx) * (p.y - my)
    sxx += (p.x - mx) ** 2
    syy += (p.y - my) ** 2
  }
  const slope = sxx === 0 ? Number.NaN : sxy / sxx
  const r2 = sxx === 0 || syy === 0 ? Number.NaN : (sxy * sxy) / (sxx * syy)
  return { slope, intercept: my - slope * mx, r2 }
}
