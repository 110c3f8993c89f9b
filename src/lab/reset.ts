import { assertLabSupport } from './preflight.ts'
import { ensureClientKey, ensureHostIdentity } from './ssh-trust.ts'
import { startHost, waitHostReady, wipeHost } from './host.ts'
import { requireHost, requireState } from './require-state.ts'
import { writeState } from './state.ts'
import { withLabLock } from './lock.ts'
import { quiet, type LabLog } from './log.ts'
import type { LabHostReport } from './up.ts'

/**
 * Bare hosts again: each named host (default: all) is stopped, its disk's
 * changes are thrown away and it boots fresh from the base image, with the
 * same name, address, host keys and machine-id.
 */
export async function labReset(hosts?: string[], opts: { log?: LabLog } = {}): Promise<LabHostReport[]> {
  await assertLabSupport() // before the lock: its file is in a directory only root may write
  return withLabLock('reset lab hosts', () => reset(hosts, opts.log ?? quiet))
}

async function reset(hosts: string[] | undefined, log: LabLog): Promise<LabHostReport[]> {
  const state = requireState()
  const names = hosts && hosts.length > 0 ? hosts : state.hosts.map((h) => h.name)
  const targets = names.map((n) => requireHost(state, n))
  const clientPublicKey = await ensureClientKey()
  const fleet = state.hosts.map((h) => ({ name: h.name, address: h.address }))
  const reports: LabHostReport[] = []
  await Promise.all(
    targets.map(async (old) => {
      log(`resetting ${old.name}`)
      await wipeHost(old.name, old)
      const h = await startHost({ name: old.name, address: old.address, base: state.base, identity: await ensureHostIdentity(old.name), clientPublicKey, fleet })
      state.hosts[state.hosts.findIndex((x) => x.name === h.name)] = h
      writeState(state)
      const r = await waitHostReady(h, 60_000)
      h.bootMs = r.bootMs
      reports.push({ name: h.name, address: h.address, action: 'booted', bootMs: r.bootMs, system: r.system, failed: r.failed })
    }),
  )
  writeState(state)
  return reports.sort((a, b) => names.indexOf(a.name) - names.indexOf(b.name))
}
