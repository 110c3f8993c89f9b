// mocha's spec output, closed by the one line CI reads as a count:
// "tests: N passed, N failed[, N skipped]".
const Mocha = require('mocha')
const { EVENT_RUN_END } = Mocha.Runner.constants

class CountReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options)
    runner.once(EVENT_RUN_END, () => {
      const s = runner.stats
      process.nextTick(() => {
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
