import { execFile } from 'node:child_process'
import { copyFileSync, cpSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { expect } from 'chai'
import { scratchDirs } from '../support/scratch.ts'
import { startSshd, type SshdHandle } from '../support/sshd.ts'
import { muster, repoRoot, results, type CliResult } from '../support/cli.ts'

const run = promisify(execFile)

/**
 * A hashed known_hosts (`ssh-keygen -H`, Debian's default) costs one HMAC per
 * line to search; the CLI remembers which line matched which host
 * (src/ssh/known-hosts-memo.ts) in its cache directory, and the next run
 * recalls it. The run's results must not depend on it, and the memo must not
 * name the host the file hides.
 */
describe('e2e: the memo of hashed known_hosts lines', function () {
  this.timeout(120_000)
  const tmp = scratchDirs()
  let sshd: SshdHandle
  let env: Record<string, string>
  let knownHosts: string
  let memoFile: string
  let first: CliResult

  before(async () => {
    sshd = await startSshd()
    const project = tmp.make('muster-e2e-khmemo-')
    cpSync(join(repoRoot, 'test/fixtures/e2e'), project, { recursive: true })
    writeFileSync(join(project, 'package.json'), '{ "type": "module" }\n')
    knownHosts = join(project, 'known_hosts')
    copyFileSync(sshd.knownHostsFile, knownHosts)
    await run('ssh-keygen', ['-H', '-f', knownHosts])
    expect(readFileSync(knownHosts, 'utf8')).to.match(/^\|1\|/)
    const cache = tmp.make('muster-e2e-khmemo-cache-')
    memoFile = join(cache, 'known-hosts-memo.json')
    env = {
      E2E_PORT: String(sshd.port),
      E2E_KEY: sshd.clientKeyFile,
      E2E_KNOWN_HOSTS: knownHosts,
      MUSTER_STATE_DIR: tmp.make('muster-e2e-khmemo-state-'),
      MUSTER_CACHE_DIR: cache,
      MUSTER_TRACE: '1',
      MUSTER_PRECONNECT: '0',
    }
    first = await check(project)
    expect(first.code, first.stderr).to.be.oneOf([0, 2])
  })
  after(async () => {
    await sshd?.stop()
    tmp.removeAll()
  })

  let project = ''
  const check = (dir = project): Promise<CliResult> => {
    project = dir
    return muster(['check', join(dir, 'playbook.ts'), '-i', join(dir, 'inventory.ts'), '--limit', 'box', '-e', `root=${dir}/root`, '--json'], env, 60_000)
  }
  const recalled = (r: CliResult): string | undefined => /known_hosts \S+: (\d+ of \d+) hosts recalled/.exec(r.stderr)?.[1]
  const outcome = (r: CliResult) => results(r).map((e) => [e.host, e.resource, e.status])

  it('the first run searched the host and wrote the memo (0600, the host not named); the next recalls it and reports the same', async () => {
    expect(recalled(first), first.stderr).to.equal('0 of 1')
    expect(existsSync(memoFile)).to.equal(true)
    expect(statSync(memoFile).mode & 0o777).to.equal(0o600)
    const text = readFileSync(memoFile, 'utf8')
    expect(text).not.to.contain('127.0.0.1')
    expect(Object.keys(JSON.parse(text).files)).to.deep.equal([knownHosts])
    const second = await check()
    expect(recalled(second), second.stderr).to.equal('1 of 1')
    expect(second.code).to.equal(first.code)
    expect(outcome(second)).to.deep.equal(outcome(first)).and.not.to.have.length(0)
  })

  it('a memo that no longer fits the file (ssh-keygen -R rewrote it) is not used: the host is searched again', async () => {
    // rewrite the file with the same key under a fresh salt: same hosts, another text
    copyFileSync(sshd.knownHostsFile, knownHosts)
    await run('ssh-keygen', ['-H', '-f', knownHosts])
    const r = await check()
    expect(r.code, r.stderr).to.be.oneOf([0, 2])
    expect(recalled(r), r.stderr).to.equal('0 of 1')
    expect(recalled(await check())).to.equal('1 of 1')
  })
})
