import { expect } from 'chai'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { repoRoot } from '../../support/cli.ts'
import { VENDORED } from '../../../src/core/require-package.ts'

/**
 * The build bundles the CommonJS packages every run loads into one file each
 * (scripts/build.mjs, src/core/require-package.ts). Each bundle must be the
 * package itself: the same exports, its native parts still loaded from
 * node_modules by their package path.
 */
describe('vendored packages: the build bundles what every run loads, and each bundle is its package', function () {
  this.timeout(120_000)
  let out: string
  before(async () => {
    out = mkdtempSync(join(tmpdir(), 'muster-vendor-'))
    const { buildVendor, vendored } = (await import(join(repoRoot, 'scripts/build.mjs'))) as { buildVendor: (dir: string) => Promise<void>; vendored: Record<string, string> }
    await buildVendor(out)
    names = vendored
  })
  after(() => rmSync(out, { recursive: true, force: true }))
  let names: Record<string, string> = {}

  it('exports what the package in node_modules exports', () => {
    const fromModules = createRequire(join(repoRoot, 'package.json'))
    const fromBundle = createRequire(join(out, 'x.cjs'))
    expect(Object.keys(names)).to.include.members(['ssh2', 'yargs', 'ejs'])
    expect(Object.fromEntries(Object.entries(names).map(([name, spec]) => [spec, name])), 'the build bundles what require-package.ts loads').to.deep.equal(VENDORED)
    for (const [name, spec] of Object.entries(names)) {
      const a = fromModules(spec) as Record<string, unknown>
      const b = fromBundle(`./${name}.cjs`) as Record<string, unknown>
      expect(typeof b, name).to.equal(typeof a)
      expect(Object.keys(b).sort(), name).to.deep.equal(Object.keys(a).sort())
    }
  })

  it("ssh2's crypto binding is required by its path in the package (found wherever the package is installed), never by a path of this machine", () => {
    const text = readFileSync(join(out, 'ssh2.cjs'), 'utf8')
    expect(text).to.contain('require("ssh2/lib/protocol/crypto/build/Release/sshcrypto.node")')
    expect(text).to.not.contain(repoRoot)
  })

  it('a run from dist loads the bundles, not node_modules (the CLI in a child process)', () => {
    // dist/ is built by `npm test` (check:api) and by bin/muster.js; early.js is the ssh layer the CLI loads first
    const probe = `await import(${JSON.stringify(join(repoRoot, 'dist/early.js'))}); const { createRequire } = await import('node:module');
      const c = createRequire(import.meta.url).cache; console.log(JSON.stringify(Object.keys(c).filter((k) => /ssh2/.test(k))))`
    const res = spawnSync(process.execPath, ['--input-type=module', '-e', probe], { encoding: 'utf8', cwd: repoRoot })
    expect(res.status, res.stderr).to.equal(0)
    const loaded = JSON.parse(res.stdout) as string[]
    expect(loaded, 'the ssh layer loaded ssh2 from its bundle').to.include(join(repoRoot, 'dist/vendor/ssh2.cjs'))
    expect(loaded.filter((f) => f.includes('/node_modules/ssh2/lib/') && f.endsWith('.js')), 'no file of ssh2 from node_modules').to.deep.equal([])
  })
})
