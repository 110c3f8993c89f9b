import { expect } from 'chai'
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ensureLab } from '../support/lab.ts'
import { labId } from '../../src/lab/layout.ts'
import { muster, type CliResult } from '../support/cli.ts'

/**
 * Issue 17: `muster test` runs the reference roles' scenarios (roles/{@literal *}/test)
 * on real lab hosts, green, and deliberately broken fixtures
 * (test/fixtures/muster-test/broken.scenario.ts) fail at their own step, naming
 * the host and the difference. Every scenario resets its lab hosts to bare at
 * its start and at its end, so this suite leaves web-01, web-02, lb-01 and db-03 bare. Every role in
 * roles/ has a scenario (asserted below).
 */
interface Step {
  type: 'step'
  scenario: string
  step: string
  ok: boolean
  failures: string[]
}
interface ScenarioLine {
  type: 'scenario'
  scenario: string
  suite?: string
  labId?: number
  file?: string
  ok: boolean
  startedAt: number
  durationMs: number
}
const lines = (r: CliResult): (Step | ScenarioLine)[] =>
  r.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Step | ScenarioLine)
const failedSteps = (r: CliResult, scenario: string): Step[] => lines(r).filter((l): l is Step => l.type === 'step' && l.scenario === scenario && !l.ok)

describe('muster test: scenarios on lab hosts (issue 17)', function () {
  let work: string
  before(async function () {
    await ensureLab(this)
    work = mkdtempSync(join(tmpdir(), 'muster-test-'))
  })
  after(() => rmSync(work, { recursive: true, force: true }))

  it("runs every reference role's scenarios green, with a JUnit report", async function () {
    this.timeout(10 * 60_000)
    const junit = join(work, 'roles.xml')
    const r = await muster(['test', 'roles', '--json', '--junit', junit], {}, 9 * 60_000)
    const scenarios = lines(r).filter((l): l is ScenarioLine => l.type === 'scenario')
    const failed = lines(r).filter((l): l is Step => l.type === 'step' && !l.ok)
    expect(failed, `${r.stdout}\n${r.stderr}`).to.deep.equal([])
    expect(r.code, r.stderr).to.equal(0)
    expect(scenarios.map((s) => s.scenario).sort()).to.include.members(['app default', 'baseline default', 'firewall balancer', 'haproxy default', 'monitoring node-exporter', 'mysql primary', 'nginx default'])
    // every role in roles/ has at least one scenario: a role added without one fails here
    const roles = readdirSync('roles', { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name)
    const files = lines(r).filter((l): l is ScenarioLine => l.type === 'scenario').map((l) => l.file ?? '')
    for (const role of roles) expect(files.some((f) => f.startsWith(`roles/${role}/`)), `roles/${role} has no scenario`).to.equal(true)
    for (const s of scenarios) console.log(`      ${s.scenario}: ${(s.durationMs / 1000).toFixed(1)} s`)
    // every step of the sequence ran, for a scenario with side effects and assertions
    const nginxSteps = lines(r).filter((l): l is Step => l.type === 'step' && l.scenario === 'nginx default').map((l) => l.step)
    expect(nginxSteps.slice(0, 7)).to.deep.equal(['create', 'check on bare', 'converge', 'prediction equals changes', 'idempotence', 'converged check', 'verify'])
    expect(nginxSteps).to.include('check finds side effect web-01: stop nginx').and.include('apply fixes side effect web-01: stop nginx').and.include('destroy')
    // the host killed, then cut off the network: check called it unreachable (exit 3) each time, and after it was
    // brought back apply converged it (roles/monitoring's scenario)
    const monSteps = lines(r).filter((l): l is Step => l.type === 'step' && l.scenario === 'monitoring node-exporter').map((l) => l.step)
    expect(monSteps).to.include.members([
      'check finds side effect web-02: kill the host', 'bring back web-02', 'apply fixes side effect web-02: kill the host',
      'check finds side effect web-02: cut it off the network', 'apply fixes side effect web-02: cut it off the network',
    ])
    const xml = readFileSync(junit, 'utf8')
    expect(xml).to.match(/<testsuites name="muster test" tests="\d+" failures="0">/)
    expect(xml).to.include('<testsuite name="nginx default"')
  })

  it('fails broken roles at their own step, naming the host and the difference', async function () {
    this.timeout(5 * 60_000)
    const junit = join(work, 'broken.xml')
    const r = await muster(['test', 'test/fixtures/muster-test/broken.scenario.ts', '--json', '--junit', junit], {}, 4 * 60_000)
    expect(r.code, r.stderr).to.equal(1)

    const notIdempotent = failedSteps(r, 'broken not-idempotent')
    expect(notIdempotent.map((s) => s.step)).to.deep.equal(['idempotence', 'converged check'])
    expect(notIdempotent[0]!.failures).to.deep.equal(['web-01: command:stamp: changed again by a second apply (not idempotent)'])

    const mispredicts = failedSteps(r, 'broken mispredicts')
    expect(mispredicts.map((s) => s.step)).to.deep.equal(['prediction equals changes'])
    expect(mispredicts[0]!.failures).to.deep.equal(['web-01: command:after-flag: changed by converge, but check on bare called it ok'])

    const undetected = failedSteps(r, 'broken undetected side effect')
    expect(undetected.map((s) => s.step)).to.deep.equal(['check finds side effect web-01: write an unmanaged file'])
    expect(undetected[0]!.failures).to.deep.equal(['web-01: check found no drift after "write an unmanaged file" (exit 0)'])

    const assertion = failedSteps(r, 'broken assertion')
    expect(assertion.map((s) => s.step)).to.deep.equal(['verify'])
    expect(assertion[0]!.failures).to.deep.equal([
      'web-01: expected file /etc/muster-fixture/managed contains "not there", seen no such text',
      'web-01: expected file /etc/muster-fixture/managed mode 0600, seen mode 0644',
    ])

    const xml = readFileSync(junit, 'utf8')
    expect(xml).to.include('<failure message="web-01: command:stamp: changed again by a second apply (not idempotent)">')
  })

  it('--parallel 2: two scenarios on two labs at once, each on its own Debian release, reported in listed order', async function () {
    this.timeout(4 * 60_000)
    // a second lab id beside this run's (2 when CI runs on lab 0); it is brought up for the run and down after
    const other = Number(process.env.MUSTER_TEST_SECOND_LAB_ID ?? (labId + 2) % 10)
    const t0 = Date.now()
    const r = await muster(['test', 'test/fixtures/muster-test/parallel.scenario.ts', '--parallel', '2', '--lab-ids', `${labId},${other}`, '--json'], {}, 3 * 60_000)
    const wall = Date.now() - t0
    expect(r.code, `${r.stdout}\n${r.stderr}`).to.equal(0)
    const scenarios = lines(r).filter((l): l is ScenarioLine => l.type === 'scenario')
    expect(scenarios.map((s) => `${s.scenario} ${s.suite}`)).to.deep.equal(['small a trixie', 'small b bookworm'])
    // each on its own lab, at the same time: one lab runs one release, the other boots the other
    expect(new Set(scenarios.map((s) => s.labId))).to.deep.equal(new Set([labId, other]))
    const [a, b] = scenarios as [ScenarioLine, ScenarioLine]
    expect(a.startedAt < b.startedAt + b.durationMs && b.startedAt < a.startedAt + a.durationMs, 'the two ran at the same time').to.equal(true)
    // every step of a scenario is listed before the next scenario's, as one by one would
    const order = lines(r).map((l) => `${l.scenario} ${l.type}`)
    expect(order.lastIndexOf('small a step')).to.be.below(order.indexOf('small a scenario'))
    expect(order.indexOf('small a scenario')).to.be.below(order.indexOf('small b step'))
    // the release each verify asserted (/etc/debian_version) held
    expect(lines(r).filter((l): l is Step => l.type === 'step' && !l.ok)).to.deep.equal([])
    expect(existsSync(`/var/lib/muster/lab-${other}/state.json`), `lab ${other} was taken down`).to.equal(false)
    console.log(`      two scenarios on labs ${labId} and ${other}: ${(wall / 1000).toFixed(1)} s`)
  })
})
