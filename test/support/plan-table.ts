import { expect } from 'chai'
import type { FactQuery, Prediction } from '../../src/contract/fact.ts'
import type { Change, Plan, Resource } from '../../src/contract/resource.ts'
import { commandsOf, loadFixture, planOf } from './system-probe-fixture.ts'
import { inRelease, inReleaseSync, NoTwin, RELEASE_NAMES, RELEASES, type Release } from './fixture-release.ts'

/**
 * The one plan-test runner every resource's fixture table uses (docs/resources.md).
 * A row names the resource as a user would build it, where each of its probe
 * keys gets its value (a probe output recorded on a real host, or a literal),
 * and what the plan must be. The runner then checks what every row must hold:
 * the plan matches, a change's apply never puts a secret in a command line,
 * and what a change predicts is what the row says. A row that reads a recorded
 * probe runs once per release, over the fixture's Debian 12 and Debian 13
 * recordings (test/support/fixture-release.ts): `[Debian 12]`/`[Debian 13]` in its title.
 */

/** A probe output recorded under test/fixtures/probes/<kind>/<name> (and its twin on the other release); `key` when it was recorded under another key than the resource asks. */
export interface FromFixture {
  fixture: string
  key?: string
}
export const recorded = (fixture: string, key?: string): FromFixture => ({ fixture, ...(key !== undefined ? { key } : {}) })

export type Expected =
  | 'ok'
  /** a change with exactly this summary */
  | string
  /** a change whose summary matches */
  | RegExp
  | { unknown: RegExp }
  | { throws: RegExp }

export interface PlanRow {
  /** What the row shows, for the test's title. */
  name: string
  /** Built inside the runner, so a constructor's own error can be the row's `throws`. */
  resource: () => Resource
  /** One entry per probe key of the resource: a recorded probe or a literal value. */
  facts: Record<string, FromFixture | { value: unknown }>
  expect: Expected
  /** The change's diff must match (a string diff; a DiffRequest is rendered from `diffBefore`). */
  diff?: RegExp
  diffBefore?: string | null
  /** Every command the change's apply runs, joined by newlines, must match. */
  commands?: RegExp
  /** Texts that must never appear in a command line (secrets): only stdin may carry them. */
  secrets?: readonly string[]
  /** Do not run the change's apply against the recorder (it acts on the controller: a fetch, a build). */
  controllerApply?: true
  /** Facts the change must predict, with their values (deep-included). */
  predicts?: readonly { query: FactQuery<unknown>; value: unknown }[]
}

const value = (v: unknown): { value: unknown } => ({ value: v })
export { value as literal }

/** The value a row gives a probe key: a recording parsed by the kind the resource asks, or the literal. */
export function factValue(q: FactQuery<unknown>, given: FromFixture | { value: unknown }): unknown {
  if ('value' in given) return given.value
  const [dir, name] = given.fixture.includes('/') ? given.fixture.split('/', 2) as [string, string] : [q.kind.name, given.fixture]
  const f = loadFixture(dir, name)
  const key = given.key ?? q.key
  const parsed = q.kind.parse(f.stdout, f.meta.keys, f.meta.code)
  if (!parsed.has(key)) throw new Error(`fixture ${dir}/${name} has no value for ${key} (it has ${[...parsed.keys()].join(', ')})`)
  return parsed.get(key)
}

export function planRow(row: PlanRow): Plan {
  const r = row.resource()
  const values: Record<string, unknown> = {}
  for (const [k, q] of Object.entries(r.probe)) {
    const given = row.facts[k]
    if (given === undefined) throw new Error(`row "${row.name}": no value for probe key ${k} of ${r.id}`)
    values[k] = factValue(q as FactQuery<unknown>, given)
  }
  return planOf(r, values)
}

function predictedValue(c: Change, q: FactQuery<unknown>): unknown {
  // the last prediction of a fact wins, as in the engine's fact cache (a step's own prediction over what the resource left alone)
  const p = [...(c.predicts ?? [])].reverse().find((x: Prediction) => 'query' in x && x.query.kind === q.kind && x.query.key === q.key)
  if (!p || !('query' in p)) throw new Error(`the change predicts nothing for ${q.kind.name} ${q.key}`)
  return p.value
}

/**
 * A mocha `describe` with one `it` per row, and per release for a row that reads a recorded probe.
 * `rows` may be a function: it is then called once per release, with that release's recordings
 * (`factValue` in it reads them), for rows whose expectations name what was recorded (a hash).
 */
export function planTable(title: string, rows: readonly PlanRow[] | (() => readonly PlanRow[])): void {
  describe(title, () => {
    for (const release of RELEASES) {
      let table: readonly PlanRow[]
      try {
        table = typeof rows === 'function' ? inReleaseSync(release, rows) : rows
      } catch (err) {
        it(`the table's rows [${RELEASE_NAMES[release]}]`, function () {
          if (err instanceof NoTwin) this.skip()
          throw err
        })
        continue
      }
      for (const row of table) {
        const readsRecording = Object.values(row.facts).some((f) => 'fixture' in f)
        // a row over literals only is the same on both releases: once is enough
        if (!readsRecording && release !== RELEASES[0]) continue
        const on = readsRecording ? ` [${RELEASE_NAMES[release]}]` : ''
        it(`${row.name}${on}: ${describeExpected(row.expect)}`, async function () {
          try {
            await inRelease(release, () => checkRow(row))
          } catch (err) {
            // a fixture NO_TWIN lists (derived by hand): this row holds on its own release only
            if (err instanceof NoTwin) this.skip()
            throw err
          }
        })
      }
    }
  })
}

async function checkRow(row: PlanRow): Promise<void> {
  const e = row.expect
  if (typeof e === 'object' && 'throws' in e) {
    expect(() => planRow(row)).to.throw(e.throws)
    return
  }
  const plan = planRow(row)
  if (e === 'ok') {
    expect(plan.kind, JSON.stringify(plan)).to.equal('ok')
    return
  }
  if (typeof e === 'object' && 'unknown' in e) {
    expect(plan.kind).to.equal('unknown')
    expect(plan.kind === 'unknown' ? plan.reason : '').to.match(e.unknown)
    return
  }
  expect(plan.kind, JSON.stringify(plan)).to.equal('change')
  const c = plan as Change
  if (typeof e === 'string') expect(c.summary).to.equal(e)
  else expect(c.summary).to.match(e)
  if (row.diff) {
    const d = typeof c.diff === 'string' ? c.diff : c.diff?.render(row.diffBefore ?? null)
    expect(d ?? '', 'diff').to.match(row.diff)
  }
  for (const p of row.predicts ?? []) {
    const got = predictedValue(c, p.query)
    if (Array.isArray(p.value)) expect(got).to.deep.equal(p.value)
    else if (typeof p.value === 'object' && p.value !== null) expect(got).to.deep.include(p.value)
    else expect(got).to.equal(p.value)
  }
  if (row.controllerApply) return
  const ran = await commandsOf(c)
  const argv = ran.map((x) => x.command).join('\n')
  if (row.commands) expect(argv).to.match(row.commands)
  for (const s of row.secrets ?? []) expect(argv, 'a secret in a command line').to.not.include(s)
}

function describeExpected(e: Expected): string {
  if (e === 'ok') return 'ok'
  if (typeof e === 'string') return e
  if (e instanceof RegExp) return String(e)
  return 'unknown' in e ? `unknown ${String(e.unknown)}` : `throws ${String(e.throws)}`
}
