import { readdirSync, existsSync, statSync, writeFileSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'
import type { CommandModule } from 'yargs'
import { ExitCode, UsageError } from '../../core/errors.ts'
import { importTsModule } from '../../core/ts-module.ts'
import { runScenario, type ScenarioResult, type StepResult } from '../../testing/runner.ts'
import type { Scenario } from '../../testing/scenario.ts'
import { defaultWrite } from '../reporter.ts'

/** `muster test`: run scenario files (`*.scenario.ts`) through converge, idempotence, verify and drift. */

interface TestArgs {
  paths?: string[]
  keep: boolean
  json: boolean
  junit?: string
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

async function loadScenarios(file: string): Promise<Scenario[]> {
  const mod = await importTsModule(resolve(file))
  const found = [mod.default, ...Object.entries(mod).filter(([k]) => k !== 'default').map(([, v]) => v)].flatMap((v) => (Array.isArray(v) ? v : [v])).filter(isScenario)
  const unique = [...new Set(found)]
  if (unique.length === 0) throw new UsageError(`${file}: exports no scenario (write \`export default defineScenario({...})\`)`)
  return unique
}

const secs = (ms: number): string => `${(ms / 1000).toFixed(1)} s`
const xml = (s: string): string => s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!)

/** JUnit XML: one testsuite per scenario, one testcase per step. */
export function junitXml(results: readonly ScenarioResult[]): string {
  const suites = results.map((r) => {
    const cases = r.steps.map((s) => `    <testcase classname="${xml(r.scenario)}" name="${xml(s.step)}" time="${(s.durationMs / 1000).toFixed(3)}">${s.ok ? '' : `<failure message="${xml(s.failures[0] ?? 'failed')}">${xml(s.failures.join('\n'))}</failure>`}</testcase>`)
    return `  <testsuite name="${xml(r.scenario)}"${r.file ? ` file="${xml(r.file)}"` : ''} tests="${r.steps.length}" failures="${r.steps.filter((s) => !s.ok).length}" time="${(r.durationMs / 1000).toFixed(3)}">\n${cases.join('\n')}\n  </testsuite>`
  })
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="muster test" tests="${results.reduce((n, r) => n + r.steps.length, 0)}" failures="${results.reduce((n, r) => n + r.steps.filter((s) => !s.ok).length, 0)}">\n${suites.join('\n')}\n</testsuites>\n`
}

/** Plain (and TTY) lines: `✓ nginx default: converge (4.1 s)`, failures indented under their step. */
function stepLines(s: StepResult): string[] {
  return [`${s.ok ? 'ok  ' : 'FAIL'} ${s.scenario}: ${s.step} (${secs(s.durationMs)})`, ...s.failures.map((f) => `       ${f}`)]
}

export const testCommand: CommandModule<object, TestArgs> = {
  command: 'test [paths..]',
  describe: 'Test roles on real hosts: run scenarios (*.scenario.ts) through check on bare, converge, idempotence, verify, and drift found and fixed',
  builder: (y) =>
    y
      .positional('paths', { type: 'string', array: true, describe: 'scenario files, or directories searched for *.scenario.ts (default: roles/, else the current directory)' })
      .option('keep', { type: 'boolean', default: false, describe: 'leave the lab hosts converged at the end (then `muster lab ssh HOST`); default: reset them to bare' })
      .option('json', { type: 'boolean', default: false, describe: 'one JSON line per step ({"type":"step",...}), then one per scenario ({"type":"scenario",...})' })
      .option('junit', { type: 'string', describe: 'also write JUnit XML to FILE (one testsuite per scenario, one testcase per step)' })
      .example('$0 test', 'every roles/**/*.scenario.ts, on the lab (`muster lab up` first)')
      .example('$0 test roles/nginx/test/default.scenario.ts --keep', 'one scenario; the hosts stay converged to look around')
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
          "    sideEffects: [sideEffects.stopService('web-01', 'nginx')],",
          "    verify: (h) => [h('web-01').service('nginx').running, h('web-01').port(80).listening],",
          '  })',
          '',
          'Steps: create (lab hosts reset to bare) → check on bare (the prediction) → converge (apply) → prediction equals changes → idempotence (a second apply changes nothing) → converged check (nothing to change) → verify → for each side effect: do it, check finds it, apply fixes it, verify again → destroy (lab hosts reset; not with --keep). A failed step names the host and the difference.',
          '',
          'Exit codes: 0 every step of every scenario held, 1 a step failed, 64 no scenario found or a file that does not load.',
        ].join('\n'),
      ) as never,
  handler: async (args) => {
    const files = findScenarioFiles(args.paths ?? [])
    if (files.length === 0) throw new UsageError('muster test: no *.scenario.ts found (name files or directories, or write roles/<role>/test/default.scenario.ts)')
    const out = defaultWrite
    const results: ScenarioResult[] = []
    for (const file of files) {
      const rel = relative(process.cwd(), file) || file
      for (const s of await loadScenarios(file)) {
        if (!args.json) out(`scenario ${s.name} (${rel})`)
        const r = await runScenario(s, {
          keep: args.keep,
          file: rel,
          onStep: (st) => {
            if (args.json) out(JSON.stringify({ type: 'step', ...st }))
            else for (const l of stepLines(st)) out(l)
          },
        })
        results.push(r)
        if (args.json) out(JSON.stringify({ type: 'scenario', scenario: r.scenario, file: r.file, ok: r.ok, durationMs: r.durationMs }))
        else out(`${r.ok ? 'ok  ' : 'FAIL'} scenario ${r.scenario} in ${secs(r.durationMs)}`)
      }
    }
    if (args.junit) writeFileSync(args.junit, junitXml(results))
    const failed = results.filter((r) => !r.ok)
    if (!args.json) out(`muster test: ${results.length - failed.length} of ${results.length} scenarios held${failed.length ? `; failed: ${failed.map((r) => r.scenario).join(', ')}` : ''}`)
    process.exitCode = failed.length ? ExitCode.failed : ExitCode.ok
  },
}
