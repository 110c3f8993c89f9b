import { expect } from 'chai'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ensureLab, onHost } from '../support/lab.ts'
import { muster, repoRoot, type CliResult } from '../support/cli.ts'
import { labHostSpecs } from '../../src/lab/inventory.ts'
import { shardOf } from '../../src/engine/shard.ts'
import type { Recap } from '../../src/engine/events.ts'

/**
 * Issue 21, "Done when": a sharded check and apply (N = 1, 3, 7), merged, give
 * exactly the per-host results and exit code of the unsharded run, on a
 * converged fleet and with drifts made by hand on hosts in different shards.
 *
 * Real hosts, real CLI: the fleet playbook (bench/fleet/playbook.ts, 20
 * resources a host under its own root, so the reference stack is left alone)
 * on the lab's hosts. The lab's size is the reference lab's (README: Shards
 * explains why not 50): the partition and merge logic at 16 hosts and N = 1,
 * 3, 7 is also unit-tested (test/unit/report/merge-shards.test.ts).
 */

const ROOT = '/srv/muster-shard-test'
const PLAYBOOK = join(repoRoot, 'bench/fleet/playbook.ts')

interface Outcome {
  results: string[]
  recap: Record<string, Omit<Recap['hosts'][string], 'stats' | 'probeBatches'>>
  exitCode: number
}

function outcome(r: CliResult): Outcome {
  const results = r.events
    .filter((e) => e.type === 'resource:result')
    .map((e) => `${String(e.host)} ${String(e.resource)} ${String(e.status)} ${String(e.summary ?? '')} ${String(e.error ?? '')}`)
    .sort()
  const recap = Object.fromEntries(
    Object.entries(r.recap?.hosts ?? {}).map(([h, x]) => [h, { ok: x.ok, changed: x.changed, failed: x.failed, skipped: x.skipped, unknown: x.unknown, unreachable: x.unreachable }]),
  )
  return { results, recap, exitCode: r.code }
}

describe('lab: --shard K/N and muster merge give the unsharded run\'s result', function () {
  this.timeout(10 * 60_000)
  let dir: string
  let inventory: string
  let hosts: string[]

  before(async function () {
    await ensureLab(this)
    dir = mkdtempSync(join(tmpdir(), 'muster-shard-lab-'))
    inventory = join(dir, 'fleet.ts')
    const specs = labHostSpecs()
    hosts = Object.keys(specs)
    // the package and unit every lab host already has (ssh's KillMode=process keeps our sessions through a restart):
    // no apt traffic, so the test measures muster, not the mirror
    const vars = { benchRoot: ROOT, benchPackage: 'openssh-server', benchUnit: 'ssh', benchAptUpdate: false }
    writeFileSync(inventory, `export default ${JSON.stringify({ vars, hosts: specs }, null, 1)}\n`)
    const first = await runFleet('apply')
    expect(first.code, first.stderr).to.equal(0)
  })
  after(async () => {
    if (hosts) await Promise.all(hosts.map((h) => onHost(h, `rm -rf ${ROOT}`)))
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  const LONG = 5 * 60_000 // a loaded shared machine: generous, the suite's own timeout bounds it
  const runFleet = (mode: 'check' | 'apply', extra: string[] = []): Promise<CliResult> => muster([mode, PLAYBOOK, '-i', inventory, '--json', '--no-typecheck', ...extra], {}, LONG)

  /** The N shards run at once, as N machines would, then `muster merge --json` over their outputs. */
  async function sharded(mode: 'check' | 'apply', n: number): Promise<{ merged: CliResult; plain: CliResult; shardCodes: number[] }> {
    const outs = await Promise.all(Array.from({ length: n }, (_, k) => runFleet(mode, ['--shard', `${k}/${n}`])))
    const files = outs.map((o, k) => {
      const f = join(dir, `${mode}-${n}-${k}.jsonl`)
      writeFileSync(f, o.stdout)
      return f
    })
    const merged = await muster(['merge', '--json', ...files], {}, LONG)
    const plain = await muster(['merge', ...files], {}, LONG)
    return { merged, plain, shardCodes: outs.map((o) => o.code) }
  }

  /** Drifts on two hosts that are in different shards at N = 3 and at N = 7 (the lab's hosts are named, so this is fixed). */
  function driftHosts(): [string, string] {
    for (const a of hosts) for (const b of hosts) if (a !== b && shardOf(a, 3) !== shardOf(b, 3) && shardOf(a, 7) !== shardOf(b, 7)) return [a, b]
    throw new Error(`no two lab hosts in different shards at N = 3 and 7: ${hosts.join(', ')}`)
  }
  async function makeDrift(): Promise<void> {
    const [a, b] = driftHosts()
    await onHost(a, `echo 'edited by hand' >> ${ROOT}/etc/benchapp/conf.d/01.conf`)
    await onHost(b, `rm -f ${ROOT}/etc/benchapp/active.conf && chmod 0700 ${ROOT}/var/lib/benchapp`)
  }

  for (const n of [1, 3, 7]) {
    it(`converged fleet, N = ${n}: check and apply merged equal the unsharded runs (exit 0)`, async () => {
      for (const mode of ['check', 'apply'] as const) {
        const single = await runFleet(mode)
        const { merged, plain, shardCodes } = await sharded(mode, n)
        expect(outcome(merged), `${mode} N=${n}: ${merged.stderr}`).to.deep.equal(outcome(single))
        expect(single.code).to.equal(0)
        expect(plain.code).to.equal(0)
        expect(shardCodes.every((c) => c === 0)).to.equal(true)
      }
    })
  }

  for (const n of [1, 3, 7]) {
    it(`hand-made drifts on hosts in different shards, N = ${n}: check (exit 2) and apply (exit 0, fixed) merged equal the unsharded runs`, async () => {
      await makeDrift()
      const singleCheck = await runFleet('check')
      expect(singleCheck.code).to.equal(2)
      const check = await sharded('check', n)
      expect(outcome(check.merged)).to.deep.equal(outcome(singleCheck))
      expect(check.plain.code).to.equal(2)
      expect(check.plain.stdout).to.match(/would change/i)

      const singleApply = await runFleet('apply')
      expect(singleApply.code).to.equal(0)
      await makeDrift()
      const apply = await sharded('apply', n)
      expect(outcome(apply.merged)).to.deep.equal(outcome(singleApply))
      expect(apply.plain.code).to.equal(0)
      const after = await runFleet('check')
      expect(after.code, 'the sharded apply converged the fleet').to.equal(0)
    })
  }

  it('a playbook that cannot be split is refused with exit 64 naming the play and the reason', async () => {
    // the lab's own inventory: the fleet one has no `web` group, and a play matching no host is refused first
    const r = await muster(['apply', join(repoRoot, 'playbooks/deploy.ts'), '-i', join(repoRoot, 'inventory/lab.ts'), '--shard', '0/2', '--no-typecheck'], {}, LONG)
    expect(r.code).to.equal(64)
    expect(r.stderr).to.match(/--shard 0\/2: cannot split this playbook safely: play 1 "take the deploy lock" has maxFailPercentage 0/)
  })
})
