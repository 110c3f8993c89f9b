import { expect } from 'chai'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { scratchDirs } from '../support/scratch.ts'
import { startSshd, type SshdHandle } from '../support/sshd.ts'
import { muster, repoRoot, type CliResult } from '../support/cli.ts'

/**
 * A probe that never answers (a guard under a hung mount, a wedged systemd)
 * must not hold a check for ever: after --probe-timeout its host fails (exit
 * 1), the host's own deadline kills what the probe left running there, and a
 * run whose probe channel was opened ahead (preconnect) keeps the same bound.
 */
describe('e2e: a probe stuck on the host (--probe-timeout)', function () {
  this.timeout(120_000)
  const tmp = scratchDirs()
  let sshd: SshdHandle
  let env: Record<string, string>
  let root: string
  // a sleep no other process on this machine runs: what the probe leaves behind is found by it
  const hang = `${40 + (process.pid % 50)}.${String(Date.now() % 1000).padStart(3, '0')}7`

  before(async () => {
    sshd = await startSshd()
    root = tmp.make('muster-e2e-probe-timeout-')
    env = {
      E2E_PORT: String(sshd.port),
      E2E_KEY: sshd.clientKeyFile,
      E2E_KNOWN_HOSTS: sshd.knownHostsFile,
      MUSTER_STATE_DIR: tmp.make('muster-e2e-probe-timeout-state-'),
      MUSTER_TRACE: '1',
    }
  })
  after(async () => {
    for (const pid of sleepers()) process.kill(pid, 'SIGKILL') // only ours: the marker is this run's own
    await sshd?.stop()
    tmp.removeAll()
  })

  const check = (extra: string[]): Promise<CliResult> =>
    muster(['check', join(repoRoot, 'test/fixtures/e2e/stuck-probe.ts'), '-i', join(repoRoot, 'test/fixtures/e2e/inventory.ts'), '--limit', 'box', '-e', `root=${root}`, '-e', `hang=${hang}`, '--json', ...extra], env, 60_000)

  /** PIDs of processes running our `sleep HANG` on this machine (the sshd's host is this machine). */
  function sleepers(): number[] {
    const found: number[] = []
    for (const d of readdirSync('/proc')) {
      if (!/^\d+$/.test(d)) continue
      try {
        if (readFileSync(`/proc/${d}/cmdline`, 'utf8') === `sleep\0${hang}\0`) found.push(Number(d))
      } catch {
        // gone meanwhile
      }
    }
    return found
  }

  async function noSleeperWithin(ms: number): Promise<number[]> {
    const until = Date.now() + ms
    for (;;) {
      const left = sleepers()
      if (left.length === 0 || Date.now() > until) return left
      await new Promise((r) => setTimeout(r, 100))
    }
  }

  it('fails the host after the timeout with a message that says why, exit 1, and nothing of the probe runs on', async () => {
    const started = Date.now()
    const r = await check(['--probe-timeout', '2'])
    const took = Date.now() - started
    expect(r.code, r.stdout + r.stderr).to.equal(1)
    const failed = r.events.find((e) => e.type === 'host:failed')
    expect(failed, r.stdout).to.include({ host: 'box', resource: 'probe' })
    expect(String(failed!.message)).to.contain('the probe did not finish in 2 s (--probe-timeout) and was killed')
    expect(r.recap!.hosts.box!.failed).to.equal(1)
    expect(took, 'bounded by the timeout, not by the hang').to.be.below(30_000)
    expect(await noSleeperWithin(5_000), 'the host killed what the probe started (timeout -s KILL)').to.deep.equal([])
  })

  it('the next run opens its probe channel ahead under the same deadline, and is bounded just the same', async () => {
    // long enough that a loaded machine still adopts the channel (within half the deadline of its opening)
    const r = await check(['--probe-timeout', '5'])
    expect(r.stderr, 'connected early from the last run\'s hint').to.contain('early start: 1 handshakes begun before the CLI loaded')
    expect(r.stderr, 'the channel opened ahead served the probe').to.contain('box: the channel opened ahead runs sh -s')
    expect(r.code, r.stdout + r.stderr).to.equal(1)
    expect(String(r.events.find((e) => e.type === 'host:failed')?.message)).to.contain('did not finish in 5 s')
    expect(await noSleeperWithin(5_000)).to.deep.equal([])
  })

  it('a probe that answers in time is not failed: --probe-timeout 0 waits for it', async () => {
    const quick = `0.${hang.replace('.', '')}`.slice(0, 5) // under a second
    const r = await muster(
      ['check', join(repoRoot, 'test/fixtures/e2e/stuck-probe.ts'), '-i', join(repoRoot, 'test/fixtures/e2e/inventory.ts'), '--limit', 'box', '-e', `root=${root}`, '-e', `hang=${quick}`, '--json', '--probe-timeout', '0'],
      env,
      60_000,
    )
    expect(r.code, 'the motd is missing: drift, not a failure').to.equal(2)
    expect(r.events.filter((e) => e.type === 'host:failed')).to.deep.equal([])
  })

  it('refuses a negative --probe-timeout, or one over a day, with exit 64', async () => {
    for (const bad of ['-1', '1e7']) {
      const r = await check(['--probe-timeout', bad])
      expect(r.code, r.stderr).to.equal(64)
      expect(r.stderr).to.contain(`--probe-timeout takes seconds, at most 86400 (0 for no limit), not ${Number(bad)}`)
    }
  })
})
