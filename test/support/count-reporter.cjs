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
      })
    })
  }
}
module.exports = CountReporter
