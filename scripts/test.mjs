#!/usr/bin/env node
// `npm test` after the type-check: every test with the lab on one Debian release
// (MUSTER_LAB_SUITE, default bookworm: Debian 12, where every lab suite has been
// proven), then the lab suites that prove the reference stack (stack, drift,
// deploy) and become (sudo-rs exists on Debian 13 only) on the other release. Each pass is
// its own mocha process (the lab is brought up on its release and taken down after);
// the last line sums both, as CI reads it: "tests: N passed, N failed[, N skipped]".
//   node scripts/test.mjs             both passes
//   node scripts/test.mjs --other     only the second (npm run test:other-release)
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const suites = { trixie: 'Debian 13', bookworm: 'Debian 12' }
const main = process.env.MUSTER_LAB_SUITE || 'bookworm'
if (!(main in suites)) {
  console.error(`MUSTER_LAB_SUITE must be trixie or bookworm, not "${main}"`)
  process.exit(64)
}
const other = main === 'trixie' ? 'bookworm' : 'trixie'

// The lab suites share one lab, so their order is CI's time: first those that want bare
// hosts (each resets what it uses), then one build of the reference stack from bare
// (ansible-inventory.test.ts resets every host and converges the stack from an INI
// inventory), then the suites that converge it further from there (seconds instead of a
// cold provision each), last those that reset every host themselves. A lab suite not
// named here runs with the first group: it must not rely on what an earlier suite left.
const labOrder = {
  bare: ['lab', 'server', 'shard', 'apt-repository', 'jobs', 'fresh-machine', 'catalogue', 'muster-test'],
  build: ['ansible-inventory'],
  onStack: ['baseline', 'backup', 'become', 'hardening', 'init-project', 'jump', 'live-state', 'monitoring', 'playbook', 'role-package', 'lb-failover'],
  resetAll: ['deploy', 'drift', 'stack'],
}
const labFiles = () => {
  const named = Object.values(labOrder).flat()
  const all = readdirSync('test/lab').filter((f) => f.endsWith('.test.ts')).map((f) => f.slice(0, -'.test.ts'.length)).sort()
  const unnamed = all.filter((f) => !named.includes(f))
  const order = [...labOrder.bare, ...unnamed, ...labOrder.build, ...labOrder.onStack, ...labOrder.resetAll].filter((f) => all.includes(f))
  return order.map((f) => `test/lab/${f}.test.ts`)
}
const passes = [
  { suite: main, what: 'every test', files: ['test/unit/**/*.test.ts', 'test/e2e/**/*.test.ts', ...labFiles()] },
  { suite: other, what: 'the reference stack\'s lab suites and become', files: ['test/lab/stack.test.ts', 'test/lab/drift.test.ts', 'test/lab/deploy.test.ts', 'test/lab/become.test.ts'] },
].slice(process.argv.includes('--other') ? 1 : 0)

const dir = mkdtempSync(join(tmpdir(), 'muster-test-counts-'))
const total = { passes: 0, failures: 0, pending: 0 }
let worst = 0
try {
  for (const [i, pass] of passes.entries()) {
    console.log(`\n=== ${pass.what}, lab hosts on ${suites[pass.suite]} (${pass.suite}) ===`)
    const counts = join(dir, `pass-${i}.json`)
    const t0 = Date.now()
    const r = spawnSync(process.execPath, [join('node_modules', 'mocha', 'bin', 'mocha.js'), ...pass.files], {
      stdio: 'inherit',
      env: { ...process.env, MUSTER_LAB_SUITE: pass.suite, MUSTER_TEST_COUNTS: counts },
    })
    worst = Math.max(worst, r.status ?? 1)
    console.log(`=== ${pass.suite} pass: ${((Date.now() - t0) / 60_000).toFixed(1)} min ===`)
    try {
      const c = JSON.parse(readFileSync(counts, 'utf8'))
      for (const k of Object.keys(total)) total[k] += c[k]
    } catch {
      total.failures += 1 // a pass that died before its reporter finished counts as a failure, never as nothing
      console.error(`the ${pass.suite} pass ended without counts (exit ${r.status ?? r.signal})`)
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true })
}
const skipped = total.pending ? `, ${total.pending} skipped` : ''
console.log(`tests: ${total.passes} passed, ${total.failures} failed${skipped}`)
process.exit(total.failures > 0 ? Math.max(worst, 1) : worst)
