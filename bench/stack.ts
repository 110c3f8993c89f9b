/**
 * The reference stack on the four lab hosts, muster vs Ansible, alternating,
 * on the same hosts in one invocation:
 *   cold provision from bare (lab reset before every run of either tool),
 *   no-change apply on the converged fleet, and check on the converged fleet;
 *   then, muster only, a converged check of playbooks/baseline.ts and site.ts
 *   in one run (playbooks/fleet.ts), beside the site's own check figure.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadPlaybook } from '../src/cli/load-playbook.ts'
import { loadInventory } from '../src/inventory/load.ts'
import { selectHosts } from '../src/inventory/patterns.ts'
import { labExec, labFiles } from '../src/lab/index.ts'
import { ensureAnsible, runAnsible } from './tools/ansible.ts'
import { repoRoot, runMuster, warmMuster, type ToolRun } from './tools/muster.ts'
import { writeStackProject } from './ansible/stack-project.ts'
import { ensureFleet, installForAnsible, resetHosts } from './lib/lab.ts'
import { expectRun, summarizeScenario, type ScenarioResult, type ScenarioSummary } from './lib/scenario.ts'
import { secs } from './lib/table.ts'
import { isolation, runFloor, type FloorResult } from './floor.ts'

export interface StackBenchOptions {
  runs: number
  log: (line: string) => void
}

export interface StackBenchResult {
  kind: 'stack'
  ansibleVersion: string
  hosts: string[]
  scenarios: ScenarioSummary[]
  raw: ScenarioResult[]
  /** Untimed: installing python3 and PyMySQL on the bare hosts before each Ansible cold run. */
  ansiblePrereqMs: number[]
  resetMs: number[]
  /** After both tools converged the fleet: what each still changed (0 = the projects are equivalent). */
  crossCheck: { tool: string; changed: Record<string, number> }[]
  /** muster's converged check against a minimal ssh2 client sending its probe scripts (floor.ts). */
  floor?: FloorResult
  notes: string[]
}

const PLAYBOOK = join(repoRoot, 'playbooks/site.ts')
const INVENTORY = join(repoRoot, 'inventory/lab.ts')
const ANSIBLE_PREREQS = ['python3', 'python3-pymysql']
const FLEET = join(repoRoot, 'playbooks/fleet.ts')
const FAKE = '/var/lib/muster-fake'
/** The baseline's lab vars, as test/lab/baseline.test.ts gives them: swapon/swapoff are stand-ins (a lab host's kernel is this machine's), timesyncd is not started. */
const BASELINE_LAB_VARS = [
  '-e', 'baselineSwapSize=16M',
  '-e', `baselineSwapVia=${JSON.stringify({ swapon: '/usr/local/sbin/muster-fake-swapon', swapoff: '/usr/local/sbin/muster-fake-swapoff', swaps: `${FAKE}/swaps` })}`,
  '-e', 'baselineTimeSyncRunning=false',
]

async function installSwapStandIns(hosts: readonly string[]): Promise<void> {
  for (const h of hosts) {
    for (const name of ['swapon', 'swapoff']) {
      const body = readFileSync(new URL(`../test/fixtures/lab/kernel-stand-ins/${name}`, import.meta.url), 'utf8')
      const r = await labExec(h, `cat > /usr/local/sbin/muster-fake-${name} && chmod 0755 /usr/local/sbin/muster-fake-${name} && mkdir -p ${FAKE} && touch ${FAKE}/swaps`, { stdin: body })
      if (r.code !== 0) throw new Error(`${h}: could not install the swap stand-ins: ${r.stderr}`)
    }
  }
}

export async function runStackBench(opts: StackBenchOptions): Promise<StackBenchResult> {
  const { log } = opts
  const ansibleVersion = await ensureAnsible(log)
  log(`stack: ${ansibleVersion}`)
  const hosts = await ensureFleet(4, log)
  const work = mkdtempSync(join(tmpdir(), 'muster-bench-stack-'))
  try {
    const stateDir = join(work, 'muster-state')
    const [playbook, inventory] = await Promise.all([loadPlaybook(PLAYBOOK, { typecheck: false }), loadInventory(INVENTORY)])
    const plays: Record<string, number> = {}
    for (const p of playbook.plays) for (const h of selectHosts(inventory, p.hosts)) plays[h] = (plays[h] ?? 0) + 1
    const addresses = Object.fromEntries([...inventory.hosts.values()].map((h) => [h.name, h.address]))
    const project = await writeStackProject(join(work, 'ansible'), {
      playbook,
      inventory,
      appSource: new URL('../examples/app/', import.meta.url),
      connection: { identityFile: labFiles.clientKey(), knownHosts: labFiles.knownHosts(), forks: hosts.length, pipelining: true },
    })
    log(`stack: Ansible project written to ${project.dir}`)
    await warmMuster(PLAYBOOK)

    const muster = (mode: 'apply' | 'check') => runMuster({ mode, playbook: PLAYBOOK, inventory: INVENTORY, stateDir })
    const ansible = (check: boolean, countExecs = false) => runAnsible({ dir: project.dir, playbook: project.playbook, check, addresses, countExecs })
    const say = (label: string, r: ToolRun) =>
      log(`stack: ${label} ${r.tool}: ${secs(r.wallMs)} s, exit ${r.code}${r.problems.length ? `; ${r.problems.join('; ')}` : ''}${r.tail ? `\n${r.tail}` : ''}`)

    const cold: ScenarioResult = { name: 'cold provision', hosts: hosts.length, muster: [], ansible: [], musterPlaysPerHost: plays, notes: [] }
    const prereqMs: number[] = []
    const resetMs: number[] = []
    for (let i = 0; i < opts.runs; i++) {
      resetMs.push(await resetHosts(log))
      const m = await muster('apply')
      expectRun(m, 'changes', 'cold')
      cold.muster.push(m)
      say(`cold ${i + 1}/${opts.runs}`, m)

      resetMs.push(await resetHosts(log))
      prereqMs.push(await installForAnsible(hosts, ANSIBLE_PREREQS))
      const a = await ansible(false)
      expectRun(a, 'changes', 'cold')
      cold.ansible.push(a)
      say(`cold ${i + 1}/${opts.runs}`, a)
    }

    // the last cold run was Ansible's: muster, then Ansible, then muster again must each find nothing to do
    // when the two projects are equivalent; what they still change is reported, not hidden
    const crossCheck: StackBenchResult['crossCheck'] = []
    for (const run of [() => muster('apply'), () => ansible(false), () => muster('apply')]) {
      const r = await run()
      crossCheck.push({ tool: r.tool, changed: r.changed })
      say('settle', r)
    }

    const noChange: ScenarioResult = { name: 'no-change apply', hosts: hosts.length, muster: [], ansible: [], musterPlaysPerHost: plays, notes: [] }
    const check: ScenarioResult = { name: 'check (converged)', hosts: hosts.length, muster: [], ansible: [], musterPlaysPerHost: plays, notes: [] }
    for (let i = 0; i < opts.runs; i++) {
      const m = await muster('apply')
      expectRun(m, 'no-change', 'no-change')
      noChange.muster.push(m)
      say(`no-change ${i + 1}/${opts.runs}`, m)
      const a = await ansible(false)
      expectRun(a, 'no-change', 'no-change')
      noChange.ansible.push(a)
      say(`no-change ${i + 1}/${opts.runs}`, a)
    }
    for (let i = 0; i < opts.runs; i++) {
      const m = await muster('check')
      expectRun(m, 'no-change', 'check')
      check.muster.push(m)
      say(`check ${i + 1}/${opts.runs}`, m)
      const a = await ansible(true)
      expectRun(a, 'no-change', 'check')
      check.ansible.push(a)
      say(`check ${i + 1}/${opts.runs}`, a)
    }
    // muster's own overhead: its converged check against the floor, in pairs
    const floor = await runFloor({ playbook: PLAYBOOK, inventory: INVENTORY, stateDir, pairs: Math.max(opts.runs, 3), log, isolate: isolation() })
    // Ansible's SSH executions, counted from -vvv in runs of their own (verbose output slows it: never timed)
    noChange.ansibleExecs = (await ansible(false, true)).execs
    check.ansibleExecs = (await ansible(true, true)).execs
    cold.notes.push('Ansible cold runs start after python3 and python3-pymysql were installed on the bare hosts (untimed, apt lists restored): a cost muster does not have')

    // the baseline beside the site: one run of both, converged once (untimed), then checked
    await installSwapStandIns(hosts)
    await warmMuster(FLEET)
    const fleetBook = await loadPlaybook(FLEET, { typecheck: false })
    const fleetPlays: Record<string, number> = {}
    for (const p of fleetBook.plays) for (const h of selectHosts(inventory, p.hosts)) fleetPlays[h] = (fleetPlays[h] ?? 0) + 1
    const fleet = (mode: 'apply' | 'check') => runMuster({ mode, playbook: FLEET, inventory: INVENTORY, stateDir, extraArgs: BASELINE_LAB_VARS })
    const both: ScenarioResult = { name: 'check (converged, baseline + site)', hosts: hosts.length, muster: [], ansible: [], musterPlaysPerHost: fleetPlays, notes: [] }
    say('baseline + site converge', await fleet('apply'))
    for (let i = 0; i < opts.runs; i++) {
      const m = await fleet('check')
      expectRun(m, 'no-change', 'check')
      both.muster.push(m)
      say(`baseline + site check ${i + 1}/${opts.runs}`, m)
    }
    both.notes.push('muster only (no Ansible baseline project): compare with "check (converged)", the site alone')

    const raw = [cold, noChange, check, both]
    return {
      kind: 'stack',
      ansibleVersion,
      hosts,
      scenarios: raw.map(summarizeScenario),
      raw,
      ansiblePrereqMs: prereqMs,
      resetMs,
      crossCheck,
      floor,
      notes: [
        'Ansible: the controller\'s Debian package, pipelining on, ControlMaster per run (fresh ControlPath dir per run), forks = hosts, facts gathered (its default).',
        'muster: `node bin/muster.js apply|check --json`, a new process per run, type-check verdict cached.',
      ],
    }
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
}
