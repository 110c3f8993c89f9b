/**
 * MUSTER_TRACE=1 prints how long each phase of a run took (to stderr), for
 * finding where a run's time goes without a profiler: the wall clock since the
 * process started, and the CPU the process has used so far (on a busy machine
 * the wall clock says more about the other processes; the CPU does not).
 */
const on = Boolean(process.env.MUSTER_TRACE)

export function trace(label: string): void {
  if (!on) return
  const cpu = process.cpuUsage()
  process.stderr.write(`[trace ${performance.now().toFixed(1).padStart(7)} ms, cpu ${((cpu.user + cpu.system) / 1000).toFixed(0).padStart(4)} ms] ${label}\n`)
}
