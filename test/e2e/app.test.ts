import { expect } from 'chai'
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { repoRoot } from '../support/cli.ts'

// The sample app's own tests (node --test): health, static files, graceful SIGTERM.
describe('e2e: the sample app (examples/app)', function () {
  this.timeout(180_000)
  const app = join(repoRoot, 'examples/app')

  before(() => {
    if (existsSync(join(app, 'node_modules'))) return
    const r = spawnSync('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: app, encoding: 'utf8' })
    expect(r.status, r.stderr).to.equal(0)
  })

  it('passes its own tests', () => {
    const r = spawnSync(process.execPath, ['--test', 'test/'], { cwd: app, encoding: 'utf8', timeout: 120_000 })
    expect(r.status, r.stdout + r.stderr).to.equal(0)
    expect(r.stdout).to.match(/# pass [1-9]/)
    expect(r.stdout).to.contain('# fail 0')
  })
})
