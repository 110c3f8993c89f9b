// mocha's spec output, closed by the time each test file took (slowest first:
// CI's budget is read from it) and the one line CI reads as a count:
// "tests: N passed, N failed[, N skipped]".
const Mocha = require('mocha')
const { relative } = require('node:path')
const { EVENT_RUN_END, EVENT_SUITE_BEGIN, EVENT_SUITE_END } = Mocha.Runner.constants

class CountReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options)
    const started = new Map()
    const byFile = new Map()
    // a file's top-level suites, hooks included: where a cold provision in a `before` shows
    runner.on(EVENT_SUITE_BEGIN, (suite) => {
      if (suite.file && suite.parent?.root) started.set(suite, Date.now())
    })
    runner.on(EVENT_SUITE_END, (suite) => {
      const t = started.get(suite)
      if (t === undefined) return
      const file = relative(process.cwd(), suite.file)
      byFile.set(file, (byFile.get(file) ?? 0) + Date.now() - t)
    })
    runner.once(EVENT_RUN_END, () => {
      const s = runner.stats
      process.nextTick(() => {
        const slow = [...byFile].filter(([, ms]) => ms >= 10_000).sort((a, b) => b[1] - a[1])
        if (slow.length > 0) {
          console.log('time by test file (10 s or more, hooks included):')
          for (const [file, ms] of slow) console.log(`  ${(ms / 1000).toFixed(0).padStart(5)} s  ${file}`)
        }
        const skipped = s.pending ? `, ${s.pending} skipped` : ''
        console.log(`tests: ${s.passes} passed, ${s.failures} failed${skipped}`)
        // scripts/test.mjs runs two passes (one per Debian release) and sums them
        if (process.env.MUSTER_TEST_COUNTS) {
          require('node:fs').writeFileSync(process.env.MUSTER_TEST_COUNTS, JSON.stringify({ passes: s.passes, failures: s.failures, pending: s.pending }))
        }
      })
    })
  }
}
module.exports = CountReporter
