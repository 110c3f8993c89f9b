import { UsageError } from '../core/errors.ts'
import { LabNotUpError } from './errors.ts'
import { readState, type LabHostState, type LabState } from './state.ts'

/** The lab's state, or an error telling how to bring the lab up. */
export function requireState(): LabState {
  const state = readState()
  if (!state || state.hosts.length === 0) throw new LabNotUpError()
  return state
}

/** A host of the lab by name; an unknown name is the user's mistake. */
export function requireHost(state: LabState, name: string): LabHostState {
  const h = state.hosts.find((x) => x.name === name)
  if (!h) throw new UsageError(`no lab host named "${name}"; the lab's hosts are ${state.hosts.map((x) => x.name).join(' ')}`)
  return h
}
