import { execFileSync } from 'node:child_process'
import { expect } from 'chai'
import { deadlineCommand } from '../../../src/ssh/deadline.ts'

describe('remote deadline', () => {
  it('wraps the command in coreutils timeout, a grace period after the caller’s timeout', () => {
    expect(deadlineCommand('sleep 5', 300)).to.equal(`timeout -s KILL 0.8 sh -c 'sleep 5'`)
    expect(deadlineCommand('true', 60_000)).to.equal('timeout -s KILL 60.5 sh -c true')
  })
  it('passes exit codes and stdin through, and kills a command that overruns', () => {
    const run = (cmd: string, input = '') => {
      try {
        return { code: 0, out: execFileSync('/bin/sh', ['-c', cmd], { input, encoding: 'utf8' }) }
      } catch (e) {
        return { code: (e as { status: number }).status, out: '' }
      }
    }
    expect(run(deadlineCommand(`cat; exit 4`, 5000), 'in')).to.deep.equal({ code: 4, out: '' })
    expect(run(deadlineCommand(`tr a b`, 5000), 'aaa').out).to.equal('bbb')
    const t0 = Date.now()
    expect(run(deadlineCommand('sleep 5', 0)).code).to.equal(137)
    expect(Date.now() - t0).to.be.lessThan(2000)
  })
})
