import { expect } from 'chai'
import { role, file } from '../../../src/index.ts'
import { defineScenario, sideEffects } from '../../../src/testing/scenario.ts'
import { runScenario } from '../../../src/testing/runner.ts'

describe('muster test runner: side effects done by the lab', () => {
  it('killHost and cutNetwork are lab-only: a delegated scenario with one fails at create, naming it, and touches no host', async () => {
    const s = defineScenario({
      name: 'delegated kill',
      // nothing listens there: a connection attempt would fail differently (unreachable), and later
      hosts: { inventory: { hosts: { box: { address: '127.0.0.1', port: 1, user: 'root' } } } },
      roles: [role('r', () => [file('/tmp/x', { content: 'x\n' })])],
      sideEffects: [sideEffects.killHost('box')],
    })
    const r = await runScenario(s)
    expect(r.ok).to.equal(false)
    expect(r.steps.map((x) => x.step)).to.deep.equal(['create'])
    expect(r.steps[0]!.failures).to.deep.equal(['scenario delegated kill: "kill the host" is done by the lab: it needs lab hosts, not an inventory'])
  })

  it('the ready-made lab side effects say what they do', () => {
    expect(sideEffects.killHost('web-01')).to.deep.equal({ host: 'web-01', name: 'kill the host', lab: 'kill' })
    expect(sideEffects.cutNetwork('web-01')).to.deep.equal({ host: 'web-01', name: 'cut it off the network', lab: 'cut' })
  })
})
