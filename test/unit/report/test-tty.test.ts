import { expect } from 'chai'
import { ttyTestProgress } from '../../../src/report/test-tty.ts'

describe('muster test on a terminal (src/report/test-tty.ts)', () => {
  it('settles once every scenario is done, failed ones included, in any order', async () => {
    let settled = false
    const live = ttyTestProgress([{ index: 0, label: 'nginx default [trixie]' }, { index: 1, label: 'nginx default [bookworm]' }], { silent: true })
    const closed = live.close().then(() => (settled = true))
    live.start(1, 4)
    live.step(1, { step: 'converge', ok: true })
    live.done(1, false, 'FAILED at verify in 9.0 s')
    await new Promise((r) => setTimeout(r, 20))
    expect(settled, 'still waiting for the first').to.equal(false)
    live.start(0, 2)
    live.done(0, true, 'held in 8.0 s')
    await closed
    expect(settled).to.equal(true)
  })
})
