/** Shared by the file-family resource tests: fixtures in, plans out, real applies on this machine. */
import { expect } from 'chai'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathFact, type PathState } from '../../../src/facts/path.ts'
import { fileContentFact } from '../../../src/facts/file-content.ts'
import { createApplyContext, localHostInfo } from '../../../src/engine/apply-context.ts'
import { LocalConnection } from '../../../src/ssh/local-connection.ts'
import type { Change, Observed, Plan, ProbeSpec, Resource } from '../../../src/contract/resource.ts'
import { factId, type ExactPrediction } from '../../../src/contract/fact.ts'
import { loadFixture, probeNow, SCENARIO } from '../../support/record-probes.ts'

export const P = (n: string): string => `${SCENARIO}/${n}`

export async function fixtureState(name: string, key: string): Promise<PathState> {
  return (await loadFixture(pathFact, 'path', name)).value(P(key))
}
export async function fixtureContent(name: string, key: string): Promise<string | null> {
  return (await loadFixture(fileContentFact, 'file-content', name)).value(P(key))
}

export function asChange(p: Plan): Change {
  expect(p.kind, JSON.stringify(p)).to.equal('change')
  return p as Change
}

/** The value a change predicts for a query, undefined when it predicts nothing for it. */
export function predicted(c: Change, q: { kind: { name: string }; key: string }): unknown {
  const hit = (c.predicts ?? []).find((p) => 'query' in p && factId(p.query) === factId(q)) as ExactPrediction | undefined
  return hit?.value
}

export const localConn = new LocalConnection()
export const localCtx = createApplyContext(localHostInfo(), localConn)

/** Probe every fact the resource asks for on this machine, as the engine would. */
export async function observe<P extends ProbeSpec>(r: Resource<P>): Promise<Observed<P>> {
  const out: Record<string, unknown> = {}
  for (const [name, q] of Object.entries(r.probe)) out[name] = (await probeNow(localConn, q.kind, [q.key])).get(q.key)
  return out as Observed<P>
}

/** Probe, plan, apply when needed; the plan is returned. */
export async function converge<P extends ProbeSpec>(r: Resource<P>): Promise<Plan> {
  const plan = r.plan(await observe(r))
  if (plan.kind === 'change') await plan.apply(localCtx)
  return plan
}

/** A fresh temp directory per test. */
export function useTempDir(prefix: string): { readonly path: string } {
  const box = { path: '' }
  beforeEach(async () => {
    box.path = await mkdtemp(join(tmpdir(), `muster-${prefix}-`))
  })
  afterEach(async () => {
    await rm(box.path, { recursive: true, force: true })
  })
  return box
}
