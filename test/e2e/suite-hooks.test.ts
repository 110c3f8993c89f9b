import { expect } from 'chai'
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { repoRoot } from '../support/cli.ts'

/**
 * A suite whose set-up fails must say why once: its `before` hook's own
 * error, and no second failure from an `after` hook that cleans up what was
 * never made (on a fresh machine without sshd, the after hooks used to crash
 * on rmSync(undefined) and bury the real cause). This runs the real e2e
 * suites with a missing sshd and reads mocha's report.
 */

const suites = ['cli.test.ts', 'cli-errors.test.ts', 'interrupt.test.ts', 'jump.test.ts', 'ssh.test.ts']

function runMocha(files: string[], env: Record<string, string>): Promise<{ code: number; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(repoRoot, 'node_modules/mocha/bin/mocha.js'), ...files], {
      cwd: repoRoot,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    child.stderr.on('data', (d: Buffer) => (out += d.toString()))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code: code ?? -1, out }))
  })
}

describe('e2e suites whose set-up fails report that failure once', function () {
  this.timeout(120_000)

  it('with no sshd, each suite fails in its before hook, naming the missing sshd, and never in its after hook', async function () {
    const missing = '/nonexistent/muster-test/sshd'
    const r = await runMocha(suites.map((f) => `test/e2e/${f}`), { MUSTER_TEST_SSHD: missing, CI: '1' })
    expect(r.code, r.out).to.not.equal(0)
    const failures = [...r.out.matchAll(/^\s*\d+\) (.+)$/gm)].map((m) => m[1]!)
    // mocha lists each failure twice (title, then details); the distinct titles are the failures
    const distinct = [...new Set(failures)]
    expect(distinct.filter((t) => /"after all" hook/.test(t)), r.out).to.deep.equal([])
    expect(r.out).to.not.include('ERR_INVALID_ARG_TYPE')
    expect(r.out).to.match(new RegExp(`tests: \\d+ passed, ${suites.length} failed`))
    expect(distinct.filter((t) => /"before all" hook/.test(t)), r.out).to.have.length(suites.length)
    expect(r.out.split(`${missing} is missing`).length - 1, r.out).to.equal(suites.length)
  })
})
