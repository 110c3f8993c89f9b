import { expect } from 'chai'
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { scratchDirs } from '../support/scratch.ts'
import { join } from 'node:path'
import { repoRoot } from '../support/cli.ts'
import { startSshd, type SshdHandle } from '../support/sshd.ts'
import { waitFor } from '../support/lab.ts'

describe('e2e: Ctrl-C during apply', function () {
  this.timeout(60_000)
  const tmp = scratchDirs()
  let sshd: SshdHandle
  let root: string
  let state: string

  before(async function () {
    sshd = await startSshd()
    root = tmp.make('muster-interrupt-root-')
    state = tmp.make('muster-interrupt-state-')
  })
  after(async function () {
    await sshd?.stop()
    tmp.removeAll()
  })

  it('finishes the resource in flight and the handlers of what changed, starts nothing else, and exits 130', async function () {
    const env = { ...process.env, CI: '1', E2E_PORT: String(sshd.port), E2E_KEY: sshd.clientKeyFile, E2E_KNOWN_HOSTS: sshd.knownHostsFile, MUSTER_STATE_DIR: state }
    const child = spawn(process.execPath, ['bin/muster.js', 'apply', 'test/fixtures/e2e/interrupt-playbook.ts', '-i', 'test/fixtures/e2e/inventory.ts', '--limit', 'box', '-e', `root=${root}`, '--json'], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    const exited = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)))
    await waitFor('the slow step to start', 30_000, async () => existsSync(join(root, 'started')) || undefined, 50)
    child.kill('SIGINT')
    const code = await exited
    expect(code, stderr + stdout).to.equal(130)
    expect(stderr).to.include('muster: interrupted: each host finishes the resource in flight')
    expect(existsSync(join(root, 'finished')), 'the step in flight ran to its end').to.equal(true)
    expect(existsSync(join(root, 'handled')), 'the handler of the change made ran').to.equal(true)
    expect(existsSync(join(root, 'after.conf')), 'nothing after it in the play').to.equal(false)
    expect(existsSync(join(root, 'later.conf')), 'no later play').to.equal(false)
    const events = stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>)
    const after = events.find((e) => e.type === 'resource:result' && e.resource === `file:${root}/after.conf`)
    expect(after).to.include({ status: 'skipped', summary: 'not run: interrupted (Ctrl-C)' })
    const end = events.find((e) => e.type === 'run:end') as { recap: { exitCode: number } }
    expect(end.recap.exitCode).to.equal(130)
    // the host did not get to the end: --rerun failed takes it up again
    const { readFileSync } = await import('node:fs')
    expect(JSON.parse(readFileSync(join(state, 'last-run.json'), 'utf8'))).to.include({ exitCode: 130 }).and.have.property('interrupted').that.deep.equals(['box'])
  })
})
