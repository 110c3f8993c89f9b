import { labDown } from '../../src/lab/down.ts'
import { labBroughtUpHere } from './lab.ts'

/**
 * Mocha root hooks (loaded through .mocharc.json "require"): at the very
 * end, take the lab down if this test process brought it up. Set
 * MUSTER_KEEP_LAB=1 to keep it for poking at after a failure.
 */
export const mochaHooks = {
  async afterAll(this: Mocha.Context): Promise<void> {
    if (!labBroughtUpHere()) return
    if (process.env.MUSTER_KEEP_LAB === '1') {
      console.warn('MUSTER_KEEP_LAB=1: leaving the lab up (take it down with `muster lab down`)')
      return
    }
    this.timeout(120_000)
    await labDown()
  },
}
