import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { FactKind } from '../../src/contract/fact.ts'
import type { ApplyContext, Plan, Resource, RunOptions } from '../../src/contract/resource.ts'
import { localHostInfo } from '../../src/engine/apply-context.ts'
import { fixturesDir, type FixtureMeta } from './record-system-probes.ts'
import { twinPath } from './fixture-release.ts'

export interface Fixture {
  stdout: string
  meta: FixtureMeta
}

/**
 * A recorded probe: test/fixtures/probes/<kind>/<name>.txt and its .meta.json, as
 * recorded on the release plan tests read right now (fixture-release.ts).
 */
export function loadFixture(kind: string, name: string): Fixture {
  const base = join(fixturesDir, twinPath(kind, name), name)
  return {
    stdout: readFileSync(`${base}.txt`, 'utf8'),
    meta: JSON.parse(readFileSync(`${base}.meta.json`, 'utf8')) as FixtureMeta,
  }
}

/**
 * Parse a fixture the way the probe batch hands a section to its kind: exactly
 * as recorded (see parseBatch). `dir` reads a recording of another kind whose
 * output this kind reads too (path-stat reads path's find records).
 */
export function parseFixture<T>(kind: FactKind<T>, name: string, dir = kind.name): Map<string, T> {
  const f = loadFixture(dir, name)
  return kind.parse(f.stdout, f.meta.keys, f.meta.code)
}

/** The value for one key of a fixture. */
export function fixtureValue<T>(kind: FactKind<T>, name: string, key: string, dir = kind.name): T {
  const v = parseFixture(kind, name, dir).get(key)
  if (v === undefined) throw new Error(`fixture ${kind.name}/${name} has no value for ${key}`)
  return v
}

/**
 * Plan a resource against given fact values, one per probe key: a missing or
 * extra key is a test error, so a table row cannot silently plan on nothing.
 */
export function planOf(r: Resource, values: Record<string, unknown>): Plan {
  const want = Object.keys(r.probe).sort()
  const got = Object.keys(values).sort()
  if (want.join() !== got.join()) throw new Error(`${r.id} probes [${want.join(', ')}], the test gave [${got.join(', ')}]`)
  return r.plan(values as never)
}

/** Run a change's apply against a context that only records what it would run. */
export async function commandsOf(plan: Plan): Promise<{ command: string; opts: RunOptions }[]> {
  if (plan.kind !== 'change') throw new Error(`expected a change, got ${plan.kind}`)
  const ran: { command: string; opts: RunOptions }[] = []
  const ctx: ApplyContext = {
    host: localHostInfo('fake'),
    conn: undefined as never,
    async run(command, opts = {}) {
      ran.push({ command, opts })
      return { code: 0, stdout: '', stderr: '' }
    },
    log: () => {},
    connectTo: async () => {
      throw new Error('no other hosts here')
    },
  }
  await plan.apply(ctx)
  return ran
}
