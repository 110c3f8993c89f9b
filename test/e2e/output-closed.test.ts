import { expect } from 'chai'
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { muster, repoRoot } from '../support/cli.ts'
import { startSshd, type SshdHandle } from '../support/sshd.ts'

const INV = 'test/fixtures/e2e/inventory.ts'
const PB = 'test/fixtures/e2e/pipe-playbook.ts'

/** `muster ARGS | READER` in bash: muster's own exit code (PIPESTATUS), what the reader printed, muster's stderr. */
function piped(args: string[], reader: string, env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  const quoted = args.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ')
  const script = `node bin/muster.js ${quoted} 2>"$ERR" | ${reader}; echo "\${PIPESTATUS[0]}" >"$CODE"`
  const dir = mkdtempSync(join(tmpdir(), 'muster-pipe-'))
  const files = { ERR: join(dir, 'stderr'), CODE: join(dir, 'code') }
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', script], { cwd: repoRoot, env: { ...process.env, CI: '1', ...env, ...files }, stdio: ['ignore', 'pipe', 'inherit'] })
    let stdout = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.on('error', reject)
    child.on('close', () => {
      const r = { code: Number(readFileSync(files.CODE, 'utf8').trim()), stdout, stderr: readFileSync(files.ERR, 'utf8') }
      rmSync(dir, { recursive: true, force: true })
      resolve(r)
    })
  })
}

const noStack = (s: string): void => {
  expect(s).not.to.match(/\n\s+at .+:\d+:\d+/)
}

describe('e2e: stdout closed under a run (`| head`) is treated like Ctrl-C', function () {
  this.timeout(90_000)
  let sshd: SshdHandle
  let root: string
  let state: string
  let env: Record<string, string>
  const dirs: string[] = []

  before(async () => {
    sshd = await startSshd()
  })
  beforeEach(() => {
    // each case its own host directory and run log
    root = mkdtempSync(join(tmpdir(), 'muster-pipe-root-'))
    state = mkdtempSync(join(tmpdir(), 'muster-pipe-state-'))
    dirs.push(root, state)
    env = { E2E_PORT: String(sshd.port), E2E_KEY: sshd.clientKeyFile, E2E_KNOWN_HOSTS: sshd.knownHostsFile, MUSTER_STATE_DIR: state }
  })
  after(async () => {
    await sshd?.stop()
    for (const d of dirs) rmSync(d, { recursive: true, force: true })
  })

  const args = (cmd: string, ...extra: string[]) => [cmd, PB, '-i', INV, '--limit', 'box', '-e', `root=${root}`, ...extra]
  /** Every change on the host has had its handler run. */
  const everyChangeHandled = (): void => {
    for (const name of ['one', 'two', 'later']) {
      if (existsSync(join(root, `${name}.conf`))) expect(existsSync(join(root, `handled-${name}`)), `${name}.conf was changed: its handler ran`).to.equal(true)
    }
  }
  const stoppedMessage = 'muster: stdout was closed (EPIPE): each host finishes the resource in flight and the handlers of its changes; nothing else starts'

  it('a reader that quits right after the first change (grep -m1): that change\'s handler runs, the step in flight finishes, nothing after it, exit 141', async () => {
    const r = await piped(args('apply'), `grep -m1 'one\\.conf'`, env)
    expect(r.stdout).to.match(/^box\s+changed\s+file:\S*\/one\.conf\b.*\n$/)
    expect(r.code, r.stderr).to.equal(141)
    expect(r.stderr).to.contain(stoppedMessage)
    noStack(r.stderr)
    expect(readFileSync(join(root, 'one.conf'), 'utf8')).to.equal('one\n')
    expect(existsSync(join(root, 'handled-one')), 'the handler of the change made ran').to.equal(true)
    expect(existsSync(join(root, 'slept')), 'the slow step, in flight when the pipe closed, finished').to.equal(true)
    expect(existsSync(join(root, 'two.conf')), 'nothing after the step in flight').to.equal(false)
    expect(existsSync(join(root, 'later.conf')), 'no later play').to.equal(false)
  })

  it('apply | head -1: whatever it was doing when head left, every change made has had its handler run, nothing later starts, exit 141, no stack trace; --rerun failed converges', async () => {
    const r = await piped(args('apply'), 'head -1', env)
    expect(r.stdout).to.match(/^APPLY .*pipe-playbook\.ts on 1 host\(s\): box\n$/)
    expect(r.code, r.stderr).to.equal(141)
    expect(r.stderr).to.contain(stoppedMessage)
    noStack(r.stderr)
    // on the host: head may leave before or after the first change (the machine decides), never in a way that
    // leaves a change without its handler; the slow step gives it 2.5 s, so the second change never starts
    everyChangeHandled()
    expect(existsSync(join(root, 'two.conf')), 'nothing after the step in flight').to.equal(false)
    expect(existsSync(join(root, 'later.conf')), 'no later play').to.equal(false)
    // the run log was still written: the host is taken up again by --rerun failed
    const log = JSON.parse(readFileSync(join(state, 'last-run.json'), 'utf8')) as { exitCode: number; interrupted?: string[] }
    expect(log).to.include({ exitCode: 141 })
    expect(log.interrupted).to.deep.equal(['box'])

    const again = await muster(args('apply', '--rerun', 'failed', '--json'), env)
    expect(again.code, again.stderr).to.equal(0)
    everyChangeHandled()
    expect(['one', 'two', 'later'].map((n) => existsSync(join(root, `handled-${n}`)))).to.deep.equal([true, true, true])
    const check = await muster(args('check'), env)
    expect(check.code, check.stdout + check.stderr).to.equal(0)
  })

  it('check --json | head -1, and | true (closed before the first line): the check ends with its real exit code, no stack trace', async () => {
    for (const reader of ['head -1', 'true']) {
      const r = await piped(args('check', '--json'), reader, env)
      expect(r.code, `${reader}: ${r.stderr}`).to.equal(2)
      noStack(r.stderr)
      expect(r.stderr, reader).not.to.match(/Error|EPIPE/)
      if (reader === 'head -1') expect(JSON.parse(r.stdout)).to.include({ type: 'run:start', mode: 'check' })
    }
    expect(existsSync(join(root, 'one.conf')), 'check changed nothing').to.equal(false)
  })
})
