/**
 * MUSTER_TRACE=1 prints how long each phase of a run took (to stderr), for
 * finding where a run's time goes without a profiler.
 */
const on = Boolean(process.env.MUSTER_TRACE)
const t0 = performance.now()

export function trace(label: string): void {
  if (on) process.stderr.write(`[trace ${(performance.now() - t0).toFixed(1).padStart(7)} ms] ${label}\n`)
}
