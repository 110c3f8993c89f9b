import { belongsToHost } from './host-process.ts'
import { killPid, waitGone } from './processes.ts'
import { requireHost, requireState } from './require-state.ts'
import { withLabLock } from './lock.ts'
import { LabError } from './errors.ts'
import { assertLabSupport } from './preflight.ts'

/**
 * Crash a host for fault tests: kill -9 of its PID namespace's init ends
 * every process on it at once, as a power cut would. Its network namespace
 * and disk stay (sockets to it are reset, new connections are refused);
 * `labUp()` brings it back with its disk as it was.
 */
export async function labKillHost(name: string): Promise<{ pid: number }> {
  await assertLabSupport()
  return withLabLock(`kill ${name}`, async () => {
    const h = requireHost(requireState(), name)
    if (h.pid === null || !belongsToHost(h.pid, h.name)) throw new LabError('it is already down', 'bring it back with `muster lab up`', name)
    killPid(h.pid)
    const left = await waitGone([h.pid], 5000)
    if (left.length > 0) throw new LabError(`its init (pid ${h.pid}) did not die after kill -9`, undefined, name)
    return { pid: h.pid }
  })
}
