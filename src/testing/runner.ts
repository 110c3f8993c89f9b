import { buildInventory } from '../inventory/build.ts'
import { fromSpec } from '../inventory/typescript.ts'
import type { Inventory, InventorySpec } from '../inventory/types.ts'
import { play, playbook, type Playbook } from '../engine/playbook.ts'
import { runPlaybook } from '../engine/run.ts'
import type { Mode, MusterEvent, Recap } from '../engine/events.ts'
import { checkPlaybookVars } from '../engine/check-vars.ts'
import { ConnectionPool } from '../ssh/pool.ts'
import { labHostSpecs } from '../lab/inventory.ts'
import { labReset } from '../lab/reset.ts'
import { labUp } from '../lab/up.ts'
import { labDown } from '../lab/down.ts'
import { labKillHost } from '../lab/kill-host.ts'
import { setHostLinkUp } from '../lab/network.ts'
import { belongsToHost } from '../lab/host-process.ts'
import { readState } from '../lab/state.ts'
import { labId } from '../lab/layout.ts'
import type { LabSuite } from '../lab/suite.ts'
import { hostAssertions, type Assertion, type Scenario, type SideEffect } from './scenario.ts'

/** One step of a scenario's run: held, or failed with the host and the difference. */
export interface StepResult {
  scenario: string
  /** The Debian release the scenario ran on, when it was asked for one. */
  suite?: LabSuite
  step: string
  ok: boolean
  durationMs: number
  /** For a failed step: one line per host and difference ("web-01: apt:nginx changed but check called it ok"). */
  failures: string[]
}

/** What a scenario's run came to. */
export interface ScenarioResult {
  scenario: string
  /** The Debian release it ran on, when it was asked for one (`--suite`, the scenario's `suites`). */
  suite?: LabSuite
  /** The lab id its hosts were on (lab scenarios). */
  labId?: number
  file?: string
  ok: boolean
  /** When it started (ms since the epoch): scenarios run in parallel overlap. */
  startedAt: number
  durationMs: number
  steps: StepResult[]
}

/** How `runScenario` runs. */
export interface RunScenarioOptions {
  /** Leave the lab hosts converged (no reset at the end). */
  keep?: boolean
  /** Called as each step ends (progress). */
  onStep?: (s: StepResult) => void
  /** The scenario file, for reports. */
  file?: string
  /** Run on lab hosts of this Debian release (the lab is booted on it first if it runs another). */
  suite?: LabSuite
  /**
   * Brings the lab up (or onto `suite`) when it is not, and down at the end
   * when it brought it up: one per process, shared by its scenarios. Without
   * it, the lab must be up with the scenario's hosts.
   */
  lab?: LabSession
}

/**
 * The lab as a run of scenarios needs it: up, with the hosts asked for, on
 * the release asked for. `close()` takes it down if this session brought it up.
 */
export class LabSession {
  #broughtUp = false
  /** Hosts this session reset to bare that nothing has touched since: the next scenario's create need not reset them again. */
  readonly #bare = new Set<string>()

  /** Whether every one of `hosts` is still as this session's last reset left it. */
  isBare(hosts: readonly string[]): boolean {
    return hosts.every((h) => this.#bare.has(h))
  }

  /** `hosts` were just reset (`true`), or are about to be changed (`false`). */
  markBare(hosts: readonly string[], bare: boolean): void {
    for (const h of hosts) if (bare) this.#bare.add(h)
    else this.#bare.delete(h)
  }

  /** Whether this session brought the lab up. */
  get broughtUp(): boolean {
    return this.#broughtUp
  }

  /** The release the lab runs now, undefined when it is not up. */
  suite(): LabSuite | undefined {
    try {
      const s = readState()
      return s ? (s.suite ?? 'bookworm') : undefined
    } catch {
      return undefined // a state this user cannot read, or a broken one: a lab scenario's create says so
    }
  }

  /** Up with `hosts` (beside those it has), on `suite` (else what it runs): boots only what is missing. */
  async ensure(hosts: readonly string[], suite?: LabSuite): Promise<void> {
    const state = readState()
    const running = this.suite()
    const have = state?.hosts.map((h) => h.name) ?? []
    if (state && (suite === undefined || suite === running) && hosts.every((h) => have.includes(h))) return
    if (!state) this.#broughtUp = true
    this.#bare.clear()
    await labUp({ hosts: [...new Set([...have, ...hosts])], suite: suite ?? running })
  }

  /** Down, if this session brought it up (and `keep` is not asked). */
  async close(keep = false): Promise<void> {
    if (this.#broughtUp && !keep) await labDown()
    this.#broughtUp = false
  }
}

interface Run {
  recap: Recap
  events: MusterEvent[]
}

type ResultEvent = Extract<MusterEvent, { type: 'resource:result' }>
type HandlerEvent = Extract<MusterEvent, { type: 'handler:result' }>

const stepName = (e: ResultEvent | HandlerEvent): string => (e.type === 'resource:result' ? `${e.host}: ${e.resource}` : `${e.host}: handler ${e.handler}`)
const byStatus = (r: Run, ...statuses: string[]): string[] =>
  r.events
    .filter((e): e is ResultEvent | HandlerEvent => (e.type === 'resource:result' || e.type === 'handler:result') && statuses.includes(e.status))
    .map(stepName)
    .sort()
const problems = (r: Run): string[] => [
  ...r.events
    .filter((e): e is ResultEvent | HandlerEvent => (e.type === 'resource:result' || e.type === 'handler:result') && e.status === 'failed')
    .map((e) => `${stepName(e)} failed: ${e.error ?? ''}`.trim()),
  // a host that failed at a resource is said once, by that resource's line above
  ...r.events.flatMap((e) =>
    e.type === 'host:unreachable'
      ? [`${e.host}: unreachable: ${e.message}`]
      : e.type === 'host:failed' && !r.events.some((x) => x.type === 'resource:result' && x.host === e.host && x.status === 'failed')
        ? [`${e.host}: failed at ${e.resource}: ${e.message}`]
        : [],
  ),
]

/** The scenario's inventory: lab hosts from the lab's state, or the delegated inventory as given. */
export function scenarioInventory(s: Scenario): Inventory {
  let spec: InventorySpec
  if ('inventory' in s.hosts) spec = s.hosts.inventory
  else {
    const lab = labHostSpecs()
    const hosts: NonNullable<InventorySpec['hosts']> = {}
    for (const name of s.hosts.lab) {
      const h = lab[name]
      if (!h) throw new Error(`scenario ${s.name}: the lab has no host ${name} (hosts: ${Object.keys(lab).join(', ')})`)
      hosts[name] = { ...h, vars: s.hosts.hostVars?.[name] ?? {} }
    }
    const groups = Object.fromEntries(Object.entries(s.hosts.groups ?? {}).map(([g, hs]) => [g, { hosts: [...hs] }]))
    spec = { vars: s.hosts.vars ?? {}, hosts, groups }
  }
  return buildInventory(fromSpec(spec, `scenario ${s.name}`))
}

/** The scenario's playbook: its own, or one play of its roles on every host. */
export function scenarioPlaybook(s: Scenario): Playbook {
  if (s.playbook) return s.playbook
  if (!s.roles?.length) throw new Error(`scenario ${s.name}: give roles or a playbook`)
  return playbook(play({ name: s.name, hosts: 'all', roles: s.roles }))
}

/**
 * Runs one scenario: create → check on bare → converge → prediction = changes →
 * idempotence → converged check → verify → each side effect (check finds it,
 * apply fixes it, verify) → destroy. Steps after a failed one that depend on it
 * are not run (a converge that failed leaves nothing to verify).
 */
export async function runScenario(s: Scenario, opts: RunScenarioOptions = {}): Promise<ScenarioResult> {
  const started = Date.now()
  const steps: StepResult[] = []
  const lab = 'lab' in s.hosts ? [...s.hosts.lab] : undefined
  const suite = lab ? opts.suite : undefined
  let pool = new ConnectionPool({ acceptNewHostKeys: false, connectTimeoutMs: 10_000 })
  const cut = new Set<string>()
  let inventory: Inventory | undefined
  let book: Playbook | undefined

  const step = async (name: string, fn: () => Promise<string[]>): Promise<boolean> => {
    const t = Date.now()
    let failures: string[]
    try {
      failures = await fn()
    } catch (e) {
      failures = [e instanceof Error ? e.message : String(e)]
    }
    const r: StepResult = { scenario: s.name, ...(suite ? { suite } : {}), step: name, ok: failures.length === 0, durationMs: Date.now() - t, failures }
    steps.push(r)
    opts.onStep?.(r)
    return r.ok
  }
  const runIn = async (mode: Mode, via = pool): Promise<Run> => {
    const events: MusterEvent[] = []
    const recap = await runPlaybook({
      playbook: book!,
      playbookName: s.name,
      inventory: inventory!,
      mode,
      forks: 10,
      diff: true,
      connect: (h) => via.get(h),
      onEvent: (e) => events.push(e),
    })
    return { recap, events }
  }
  const exec = async (host: string, script: string): Promise<{ code: number; stdout: string; stderr: string }> => {
    const info = inventory!.hosts.get(host)
    if (!info) throw new Error(`${host}: not in the scenario's hosts`)
    return (await pool.get(info)).exec(script)
  }
  // asked again every half second while something fails, up to verifyWithinMs: a restarted unit may not listen yet
  const verify = async (): Promise<string[]> => {
    const until = Date.now() + (s.verifyWithinMs ?? 10_000)
    for (;;) {
      const failures = await verifyOnce()
      if (failures.length === 0 || Date.now() >= until) return failures
      await new Promise((r) => setTimeout(r, 500))
    }
  }
  const verifyOnce = async (): Promise<string[]> => {
    const assertions = s.verify?.((name) => hostAssertions(name), { suite: lab ? (suite ?? opts.lab?.suite() ?? readState()?.suite) : undefined }) ?? []
    const failures: string[] = []
    const perHost = new Map<string, Assertion[]>()
    for (const a of assertions) {
      if (a.host === undefined) {
        const seen = await a.local!()
        if (seen !== undefined) failures.push(`controller: expected ${a.expected}, seen ${seen}`)
      } else perHost.set(a.host, [...(perHost.get(a.host) ?? []), a])
    }
    // one script per host: each assertion's output between markers, then its exit code
    await Promise.all(
      [...perHost].map(async ([host, list]) => {
        const mark = `--muster-test-${Date.now()}`
        const script = list.map((a, i) => `echo '${mark} ${i}'; ( ${a.shell} ) 2>&1; echo "${mark} rc $?"`).join('\n')
        const r = await exec(host, script)
        const parts = r.stdout.split(`${mark} `).slice(1)
        list.forEach((a, i) => {
          const part = parts.find((p) => p.startsWith(`${i}\n`))
          if (part === undefined) return failures.push(`${host}: expected ${a.expected}, seen no output (script exit ${r.code})`)
          const body = part.slice(`${i}\n`.length)
          const rc = parts[parts.indexOf(part) + 1]?.match(/^rc (\d+)/)?.[1]
          const seen = a.judge(body, Number(rc ?? 255))
          if (seen !== undefined) failures.push(`${host}: expected ${a.expected}, seen ${seen}`)
        })
      }),
    )
    return failures
  }

  const body = async (): Promise<void> => {
    const created = await step('create', async () => {
      if (lab && opts.lab) await opts.lab.ensure(lab, suite)
      else if (lab && suite && (readState()?.suite ?? 'bookworm') !== suite) throw new Error(`scenario ${s.name}: the lab runs ${readState()?.suite ?? 'nothing'}, not ${suite}`)
      inventory = scenarioInventory(s)
      book = scenarioPlaybook(s)
      checkPlaybookVars(book, inventory, undefined)
      const outside = (s.sideEffects ?? []).filter((e) => e.lab)
      if (!lab && outside.length) throw new Error(`scenario ${s.name}: "${outside[0]!.name}" is done by the lab: it needs lab hosts, not an inventory`)
      // hosts the last scenario's destroy reset, untouched since, are bare already
      if (lab && !opts.lab?.isBare(lab)) await labReset(lab)
      if (lab) opts.lab?.markBare(lab, false)
      return []
    })
    if (!created) return
    let predicted: string[] = []
    let unsure: string[] = []
    const checked = await step('check on bare', async () => {
      const r = await runIn('check')
      predicted = byStatus(r, 'would-change')
      unsure = byStatus(r, 'unknown')
      return problems(r)
    })
    let changed: string[] = []
    const converged = await step('converge', async () => {
      const r = await runIn('apply')
      changed = byStatus(r, 'changed')
      return problems(r)
    })
    if (checked && converged) {
      await step('prediction equals changes', async () => [
        // `unknown` (check said it cannot tell, e.g. what a package's install creates) agrees either way
        ...changed.filter((c) => !predicted.includes(c) && !unsure.includes(c)).map((c) => `${c}: changed by converge, but check on bare called it ok`),
        ...predicted.filter((p) => !changed.includes(p)).map((p) => `${p}: check on bare predicted a change, converge changed nothing`),
      ])
    }
    if (!converged) return
    await step('idempotence', async () => {
      const r = await runIn('apply')
      return [...problems(r), ...byStatus(r, 'changed').map((c) => `${c}: changed again by a second apply (not idempotent)`)]
    })
    await step('converged check', async () => {
      const r = await runIn('check')
      return [...problems(r), ...byStatus(r, 'would-change', 'unknown').map((c) => `${c}: check on converged hosts still predicts a change (exit ${r.recap.exitCode})`)]
    })
    if (s.verify) await step('verify', verify)
    for (const effect of s.sideEffects ?? []) {
      const what = `side effect ${effect.host}: ${effect.name}`
      if (effect.lab) {
        await outsideEffect(effect, what)
        continue
      }
      const done = await step(what, async () => {
        const r = await exec(effect.host, effect.shell ?? 'true')
        return r.code === 0 ? [] : [`${effect.host}: the side effect's command exited ${r.code}: ${r.stderr.trim()}`]
      })
      if (!done) continue
      await step(`check finds ${what}`, async () => {
        const r = await runIn('check')
        const found = byStatus(r, 'would-change', 'unknown').filter((c) => c.startsWith(`${effect.host}: `))
        return [...problems(r), ...(found.length === 0 ? [`${effect.host}: check found no drift after "${effect.name}" (exit ${r.recap.exitCode})`] : [])]
      })
      await applyFixes(what)
    }
  }
  const applyFixes = async (what: string): Promise<void> => {
    await step(`apply fixes ${what}`, async () => {
      const r = await runIn('apply')
      const again = await runIn('check')
      return [...problems(r), ...problems(again), ...byStatus(again, 'would-change', 'unknown').map((c) => `${c}: still drifted after apply`)]
    })
    if (s.verify) await step(`verify after ${what}`, verify)
  }
  // a host killed or cut off: check (new connections, as a new `muster check` makes) must call it
  // unreachable, exit 3; the lab brings it back; apply must converge it
  const outsideEffect = async (effect: SideEffect, what: string): Promise<void> => {
    await pool.closeAll()
    pool = new ConnectionPool({ acceptNewHostKeys: false, connectTimeoutMs: 10_000 })
    const done = await step(what, async () => {
      if (effect.lab === 'kill') await labKillHost(effect.host)
      else {
        cut.add(effect.host)
        await setHostLinkUp(effect.host, false)
      }
      return []
    })
    if (done) {
      await step(`check finds ${what}`, async () => {
        const fresh = new ConnectionPool({ acceptNewHostKeys: false, connectTimeoutMs: 3000 })
        try {
          const r = await runIn('check', fresh)
          const unreachable = r.events.some((e) => e.type === 'host:unreachable' && e.host === effect.host)
          return unreachable && r.recap.exitCode === 3 ? [] : [`${effect.host}: check did not find it unreachable after "${effect.name}" (exit ${r.recap.exitCode})`]
        } finally {
          await fresh.closeAll()
        }
      })
    }
    const back = await step(`bring back ${effect.host}`, async () => {
      await restore(effect.host)
      return []
    })
    if (back) await applyFixes(what)
  }
  const restore = async (host: string): Promise<void> => {
    if (cut.delete(host)) await setHostLinkUp(host, true)
    const state = readState()
    const h = state?.hosts.find((x) => x.name === host)
    // a killed host boots again from its disk as it was (labUp keeps the others as they run)
    if (state && h && (h.pid === null || !belongsToHost(h.pid, host))) await labUp({ hosts: state.hosts.map((x) => x.name), suite: state.suite ?? 'bookworm' })
  }
  try {
    await body()
  } finally {
    await pool.closeAll()
    // never leave a host unplugged, whatever failed
    for (const h of [...cut]) await setHostLinkUp(h, true).catch(() => undefined)
    cut.clear()
  }
  if (lab && inventory && !opts.keep) {
    await step('destroy', async () => {
      await labReset(lab)
      opts.lab?.markBare(lab, true)
      return []
    })
  }
  return { scenario: s.name, ...(suite ? { suite } : {}), ...(lab ? { labId } : {}), ...(opts.file ? { file: opts.file } : {}), ok: steps.every((x) => x.ok), startedAt: started, durationMs: Date.now() - started, steps }
}

