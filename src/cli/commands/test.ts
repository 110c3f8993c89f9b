import { readdirSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { join, relative, resolve } from 'node:path'
import type { CommandModule } from 'yargs'
import { ExitCode, UsageError } from '../../core/errors.ts'
import { importTsModule } from '../../core/ts-module.ts'
import { LabSession, runScenario, type ScenarioResult, type StepResult } from '../../testing/runner.ts'
import type { Scenario } from '../../testing/scenario.ts'
import { expandJobs, InOrder, labIdsFor, runJobs, type JobWorker, type TestJob } from '../../testing/schedule.ts'
import { labId } from '../../lab/layout.ts'
import { parseLabSuite, type LabSuite } from '../../lab/suite.ts'
import { defaultWrite } from '../reporter.ts'

/** `muster test`: run scenario files (`*.scenario.ts`) through converge, idempotence, verify and drift. */

interface TestArgs {
  paths?: string[]
  keep: boolean
  json: boolean
  junit?: string
  parallel?: number
  labIds?: string
  suite?: string
  worker: boolean
}

/** Scenario files under `dir` (recursively, skipping node_modules and dot directories). */
function scenarioFiles(dir: string): string[] {
  const out: string[] = []
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'node_modules' || e.name.startsWith('.')) continue
    const p = join(dir, e.name)
    if (e.isDirectory()) out.push(...scenarioFiles(p))
    else if (e.name.endsWith('.scenario.ts')) out.push(p)
  }
  return out.sort()
}

/** The files named (a file, or a directory searched for `*.scenario.ts`), else `roles/` (or the current directory). */
export function findScenarioFiles(paths: readonly string[]): string[] {
  if (paths.length === 0) return scenarioFiles(existsSync('roles') ? 'roles' : '.')
  return paths.flatMap((p) => {
    if (!existsSync(p)) throw new UsageError(`muster test: no such file or directory: ${p}`)
    return statSync(p).isDirectory() ? scenarioFiles(p) : [p]
  })
}

const isScenario = (x: unknown): x is Scenario => typeof x === 'object' && x !== null && typeof (x as Scenario).name === 'string' && typeof (x as Scenario).hosts === 'object'

export async function loadScenarios(file: string): Promise<Scenario[]> {
  const mod = await importTsModule(resolve(file))
  const found = [mod.default, ...Object.entries(mod).filter(([k]) => k !== 'default').map(([, v]) => v)].flatMap((v) => (Array.isArray(v) ? v : [v])).filter(isScenario)
  const unique = [...new Set(found)]
  if (unique.length === 0) throw new UsageError(`${file}: exports no scenario (write \`export default defineScenario({...})\`)`)
  return unique
}

const secs = (ms: number): string => `${(ms / 1000).toFixed(1)} s`
const xml = (s: string): string => s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!)

/** A scenario's name as reported: with the release it ran on when one was asked for ("nginx default [bookworm]"). */
export const scenarioLabel = (r: { scenario: string; suite?: string | undefined }): string => (r.suite ? `${r.scenario} [${r.suite}]` : r.scenario)

/** JUnit XML: one testsuite per scenario (per release), one testcase per step. */
export function junitXml(results: readonly ScenarioResult[]): string {
  const suites = results.map((r) => {
    const cases = r.steps.map((s) => `    <testcase classname="${xml(scenarioLabel(r))}" name="${xml(s.step)}" time="${(s.durationMs / 1000).toFixed(3)}">${s.ok ? '' : `<failure message="${xml(s.failures[0] ?? 'failed')}">${xml(s.failures.join('\n'))}</failure>`}</testcase>`)
    return `  <testsuite name="${xml(scenarioLabel(r))}"${r.file ? ` file="${xml(r.file)}"` : ''} tests="${r.steps.length}" failures="${r.steps.filter((s) => !s.ok).length}" time="${(r.durationMs / 1000).toFixed(3)}">\n${cases.join('\n')}\n  </testsuite>`
  })
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="muster test" tests="${results.reduce((n, r) => n + r.steps.length, 0)}" failures="${results.reduce((n, r) => n + r.steps.filter((s) => !s.ok).length, 0)}">\n${suites.join('\n')}\n</testsuites>\n`
}

/** Plain (and TTY) lines: `✓ nginx default: converge (4.1 s)`, failures indented under their step. */
export function stepLines(s: StepResult): string[] {
  return [`${s.ok ? 'ok  ' : 'FAIL'} ${scenarioLabel(s)}: ${s.step} (${secs(s.durationMs)})`, ...s.failures.map((f) => `       ${f}`)]
}

/** One scenario of one file: what `muster test` schedules (once per release). */
interface Item {
  /** The file as given, relative to the current directory. */
  file: string
  /** Its absolute path (workers load it again). */
  abs: string
  /** Its place among the file's scenarios. */
  position: number
  scenario: Scenario
}

/** A job sent to a worker process (`muster test --worker`, one per extra lab id), one JSON line. */
interface WorkerJob {
  index: number
  abs: string
  file: string
  position: number
  suite: LabSuite | null
}
/** What a worker sends back, one JSON line each. */
type WorkerMessage = { type: 'step'; index: number; step: StepResult } | { type: 'result'; index: number; result: ScenarioResult }

const failedResult = (scenario: string, file: string, suite: LabSuite | undefined, message: string): ScenarioResult => ({
  scenario,
  ...(suite ? { suite } : {}),
  file,
  ok: false,
  startedAt: Date.now(),
  durationMs: 0,
  steps: [{ scenario, ...(suite ? { suite } : {}), step: 'create', ok: false, durationMs: 0, failures: [message] }],
})
const message = (e: unknown): string => (e instanceof Error ? e.message : String(e))

/** The release lab `id` runs, read from its state file (undefined: not up, or not where the default layout keeps it). */
function labSuiteOf(id: number): LabSuite | undefined {
  if (process.env.MUSTER_LAB_DIR) return undefined
  const file = `/var/lib/muster/lab${id === 0 ? '' : `-${id}`}/state.json`
  try {
    const s = JSON.parse(readFileSync(file, 'utf8')) as { suite?: LabSuite }
    return s.suite ?? 'bookworm'
  } catch {
    return undefined
  }
}

/** This process's own lab: scenarios run here, the lab brought up (and down) by `session` as they need. */
function localWorker(session: LabSession, keep: boolean): JobWorker<Item, ScenarioResult, StepResult> {
  return {
    labId,
    suite: session.suite(),
    run: async (job, progress) => {
      try {
        return await runScenario(job.item.scenario, { keep, file: job.item.file, suite: job.suite, lab: session, onStep: progress })
      } catch (e) {
        return failedResult(job.item.scenario.name, job.item.file, job.suite, message(e))
      }
    },
  }
}

/** Another lab id: a `muster test --worker` process with MUSTER_LAB_ID set, fed one job at a time. */
function processWorker(id: number, keep: boolean): JobWorker<Item, ScenarioResult, StepResult> & { close(): Promise<void> } {
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1]!, 'test', '--worker', ...(keep ? ['--keep'] : [])], {
    env: { ...process.env, MUSTER_LAB_ID: String(id) },
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  let stderr = ''
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)))
  let current: { index: number; progress: (s: StepResult) => void; resolve: (r: ScenarioResult) => void; fail: (m: string) => void } | undefined
  const exited = new Promise<number | null>((res) => child.on('close', (code) => res(code)))
  void exited.then((code) => current?.fail(`the worker on lab ${id} exited ${code}${stderr.trim() ? `: ${stderr.trim()}` : ''}`))
  createInterface({ input: child.stdout! }).on('line', (line) => {
    if (!line.startsWith('{')) return
    const m = JSON.parse(line) as WorkerMessage
    if (m.type === 'step' && current?.index === m.index) current.progress(m.step)
    else if (m.type === 'result' && current?.index === m.index) {
      const c = current
      current = undefined
      c.resolve(m.result)
    }
  })
  return {
    labId: id,
    suite: labSuiteOf(id),
    run: (job, progress) =>
      new Promise<ScenarioResult>((resolve) => {
        const { item } = job
        current = { index: job.index, progress, resolve, fail: (m) => resolve(failedResult(item.scenario.name, item.file, job.suite, m)) }
        const msg: WorkerJob = { index: job.index, abs: item.abs, file: item.file, position: item.position, suite: job.suite ?? null }
        child.stdin!.write(`${JSON.stringify(msg)}\n`)
      }),
    close: async () => {
      child.stdin!.end()
      await exited
    },
  }
}

/** `muster test --worker`: jobs from stdin, steps and results to stdout; the lab down at the end if this process brought it up. */
async function workerMain(keep: boolean): Promise<void> {
  const session = new LabSession()
  const loaded = new Map<string, Scenario[]>()
  const send = (m: WorkerMessage): void => defaultWrite(JSON.stringify(m))
  try {
    for await (const line of createInterface({ input: process.stdin })) {
      if (!line.trim()) continue
      const job = JSON.parse(line) as WorkerJob
      const suite = job.suite ?? undefined
      let result: ScenarioResult
      try {
        const list = loaded.get(job.abs) ?? (await loadScenarios(job.abs))
        loaded.set(job.abs, list)
        const s = list[job.position]
        if (!s) throw new Error(`${job.file}: no scenario number ${job.position + 1}`)
        result = await runScenario(s, { keep, file: job.file, suite, lab: session, onStep: (step) => send({ type: 'step', index: job.index, step }) })
      } catch (e) {
        result = failedResult(`${job.file} #${job.position + 1}`, job.file, suite, message(e))
      }
      send({ type: 'result', index: job.index, result })
    }
  } finally {
    await session.close(keep)
  }
}

/** What `muster test` prints as scenarios run, whichever lab they run on. */
export interface TestReporter {
  start(job: TestJob<Item>, labId: number): void
  step(job: TestJob<Item>, step: StepResult): void
  done(job: TestJob<Item>, result: ScenarioResult): void
  close(results: readonly ScenarioResult[]): Promise<void>
}

/** Plain lines (or JSON lines), in the order the scenarios are listed, whatever order they run in. */
function lineReporter(jobs: readonly TestJob<Item>[], json: boolean, out: (line: string) => void): TestReporter {
  const order = new InOrder<ScenarioResult>(
    (_k, r) =>
      out(
        json
          ? JSON.stringify({ type: 'scenario', scenario: r.scenario, ...(r.suite ? { suite: r.suite } : {}), ...(r.labId !== undefined ? { labId: r.labId } : {}), file: r.file, ok: r.ok, startedAt: r.startedAt, durationMs: r.durationMs })
          : `${r.ok ? 'ok  ' : 'FAIL'} scenario ${scenarioLabel(r)} in ${secs(r.durationMs)}`,
      ),
    jobs.map((j) => j.index),
    (_k, line) => out(line),
  )
  return {
    start: (job) => {
      if (!json) order.line(job.index, `scenario ${scenarioLabel({ scenario: job.item.scenario.name, suite: job.suite })} (${job.item.file})`)
    },
    step: (job, st) => {
      if (json) order.line(job.index, JSON.stringify({ type: 'step', ...st }))
      else for (const l of stepLines(st)) order.line(job.index, l)
    },
    done: (job, r) => order.done(job.index, r),
    close: async (results) => {
      if (!json) out(summary(results))
    },
  }
}

const summary = (results: readonly ScenarioResult[]): string => {
  const failed = results.filter((r) => !r.ok)
  return `muster test: ${results.length - failed.length} of ${results.length} scenarios held${failed.length ? `; failed: ${failed.map(scenarioLabel).join(', ')}` : ''}`
}

/**
 * On a terminal: a live line per scenario (listr2: waiting, its lab and step,
 * then held or failed), then the failed steps with their differences as plain lines.
 */
async function ttyReporter(jobs: readonly TestJob<Item>[], out: (line: string) => void): Promise<TestReporter> {
  const { ttyTestProgress } = await import('../../report/test-tty.ts')
  const live = ttyTestProgress(jobs.map((j) => ({ index: j.index, label: scenarioLabel({ scenario: j.item.scenario.name, suite: j.suite }) })))
  return {
    start: (job, id) => live.start(job.index, id),
    step: (job, st) => live.step(job.index, st),
    done: (job, r) => {
      const failed = r.steps.filter((st) => !st.ok).map((st) => st.step)
      live.done(job.index, r.ok, `${r.ok ? 'held' : `FAILED at ${failed.join(', ')}`} in ${secs(r.durationMs)}`)
    },
    close: async (results) => {
      await live.close()
      for (const r of results.filter((x) => !x.ok)) {
        out(`FAIL scenario ${scenarioLabel(r)} (${r.file ?? ''})`)
        for (const st of r.steps.filter((x) => !x.ok)) for (const l of stepLines(st)) out(l)
      }
      out(summary(results))
    },
  }
}

/** `--suite trixie,bookworm` as a list. */
function parseSuites(v: string | undefined): LabSuite[] | undefined {
  if (v === undefined) return undefined
  const list = v.split(',').map((x) => x.trim()).filter(Boolean)
  if (list.length === 0) throw new UsageError('--suite: name one or more releases, comma-separated (trixie,bookworm)')
  return [...new Set(list.map((x) => parseLabSuite(x, '--suite')))]
}

/** `--lab-ids 2,4` as a list. */
function parseLabIds(v: string | undefined): number[] | undefined {
  if (v === undefined) return undefined
  return v.split(',').map((x) => {
    const n = Number(x.trim())
    if (!x.trim() || !Number.isInteger(n) || n < 0 || n > 9) throw new UsageError(`--lab-ids: each a lab id from 0 to 9, not "${x}"`)
    return n
  })
}

export const testCommand: CommandModule<object, TestArgs> = {
  command: 'test [paths..]',
  describe: 'Test roles on real hosts: run scenarios (*.scenario.ts) through check on bare, converge, idempotence, verify, and drift found and fixed',
  builder: (y) =>
    y
      .positional('paths', { type: 'string', array: true, describe: 'scenario files, or directories searched for *.scenario.ts (default: roles/, else the current directory)' })
      .option('keep', { type: 'boolean', default: false, describe: 'leave the lab hosts converged at the end (then `muster lab ssh HOST`), and every lab up; default: reset them to bare' })
      .option('json', { type: 'boolean', default: false, describe: 'one JSON line per step ({"type":"step",...}), then one per scenario ({"type":"scenario",...})' })
      .option('junit', { type: 'string', describe: 'also write JUnit XML to FILE (one testsuite per scenario, one testcase per step)' })
      .option('parallel', { type: 'number', describe: 'run scenarios on N labs at once, each its own lab id (this one\'s and the next N-1, or --lab-ids); reported in the same order as one by one' })
      .option('lab-ids', { type: 'string', describe: 'the lab ids --parallel runs on, comma-separated (e.g. 2,4); alone, --parallel is their count' })
      .option('suite', { type: 'string', describe: 'run each lab scenario once per Debian release, comma-separated (trixie,bookworm), reported with it; default: a scenario\'s own `suites`, else what the lab runs' })
      .option('worker', { type: 'boolean', default: false, hidden: true })
      .example('$0 test', 'every roles/**/*.scenario.ts, on the lab (brought up if it is not, and down after)')
      .example('$0 test roles/nginx/test/default.scenario.ts --keep', 'one scenario; the hosts stay converged to look around')
      .example('$0 test --parallel 2 --suite trixie,bookworm', 'every scenario on Debian 13 and 12, on two labs at once')
      .example('$0 test --junit muster-test.xml', 'for CI: a JUnit report beside the plain lines')
      .epilogue(
        [
          'A scenario file (`roles/nginx/test/default.scenario.ts`):',
          '',
          "  import { defineScenario, sideEffects } from 'muster/testing'",
          "  import { nginx } from '../index.ts'",
          '  export default defineScenario({',
          "    name: 'nginx default',",
          "    hosts: { lab: ['web-01'] },        // or { inventory: defineInventory({...}) } for your own hosts",
          '    roles: [nginx],',
          "    sideEffects: [sideEffects.stopService('web-01', 'nginx'), sideEffects.killHost('web-01')],",
          "    verify: (h) => [h('web-01').service('nginx').running, h('web-01').port(80).listening],",
          '  })',
          '',
          'Steps: create (the lab up with the hosts, on the release asked for; the hosts reset to bare) → check on bare (the prediction) → converge (apply) → prediction equals changes → idempotence (a second apply changes nothing) → converged check (nothing to change) → verify → for each side effect: do it, check finds it, apply fixes it, verify again → destroy (lab hosts reset; not with --keep). A host killed (sideEffects.killHost) or cut off the network (sideEffects.cutNetwork) must be found unreachable by check (exit 3); the lab brings it back before apply. A failed step names the host and the difference.',
          '',
          'A lab this run brought up is taken down at the end (not with --keep).',
          '',
          'Exit codes: 0 every step of every scenario held, 1 a step failed, 64 no scenario found or a file that does not load.',
        ].join('\n'),
      ) as never,
  handler: async (args) => {
    if (args.worker) return workerMain(args.keep)
    const suites = parseSuites(args.suite)
    const givenIds = parseLabIds(args.labIds)
    if (givenIds && args.parallel !== undefined && args.parallel > givenIds.length) throw new UsageError(`--parallel ${args.parallel} needs as many --lab-ids, not ${givenIds.length}`)
    let ids: number[]
    try {
      ids = labIdsFor(args.parallel ?? givenIds?.length ?? 1, labId, givenIds)
    } catch (e) {
      throw new UsageError(message(e))
    }
    const files = findScenarioFiles(args.paths ?? [])
    if (files.length === 0) throw new UsageError('muster test: no *.scenario.ts found (name files or directories, or write roles/<role>/test/default.scenario.ts)')
    const items: Item[] = []
    for (const file of files) {
      const rel = relative(process.cwd(), file) || file
      ;(await loadScenarios(file)).forEach((scenario, position) => items.push({ file: rel, abs: resolve(file), position, scenario }))
    }
    const jobs = expandJobs(items, { suites, suitesOf: (i) => i.scenario.suites, lab: (i) => 'lab' in i.scenario.hosts })
    // live progress on a terminal, plain lines in CI and pipes, JSON lines with --json
    const tty = !args.json && process.stdout.isTTY === true && !process.env.CI
    const reporter = tty ? await ttyReporter(jobs, defaultWrite) : lineReporter(jobs, args.json, defaultWrite)
    const session = new LabSession()
    const used = ids.slice(0, Math.max(1, Math.min(ids.length, jobs.length)))
    const children = used.filter((id) => id !== labId).map((id) => processWorker(id, args.keep))
    const workers = [...(used.includes(labId) ? [localWorker(session, args.keep)] : []), ...children]
    let results: ScenarioResult[]
    try {
      results = await runJobs(jobs, workers, {
        onStart: (job, id) => reporter.start(job, id),
        onProgress: (job, st) => reporter.step(job, st),
        onDone: (job, r) => reporter.done(job, r),
      })
    } finally {
      await Promise.all(children.map((c) => c.close()))
      await session.close(args.keep)
    }
    await reporter.close(results)
    if (args.junit) writeFileSync(args.junit, junitXml(results))
    process.exitCode = results.some((r) => !r.ok) ? ExitCode.failed : ExitCode.ok
  },
}
