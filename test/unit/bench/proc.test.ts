import { expect } from 'chai'
import { childrenCpuMs, runCpu } from '../../../bench/lib/proc.ts'

describe('bench: the CPU a run used (runCpu, the shell\'s times)', () => {
  it('reads the children\'s line of times, as dash and bash print it', () => {
    expect(childrenCpuMs('0m0.000000s 0m0.000000s\n0m0.280000s 0m0.050000s\n')).to.equal(330)
    expect(childrenCpuMs('0m0.001s 0m0.000s\n1m2.500s 0m0.250s\n')).to.equal(62_750)
    expect(childrenCpuMs('0m0.000000s 0m0.000000s\n'), 'no children line').to.equal(undefined)
    expect(childrenCpuMs('something else\nnot times\n')).to.equal(undefined)
  })

  it('measures the CPU a program spends, not its wall time, and keeps its exit code', async () => {
    // spins until it has used 300 ms of CPU, however loaded the machine is; then sleeps, which costs none
    const spin = 'const t=process.cpuUsage();while(process.cpuUsage(t).user+process.cpuUsage(t).system<300000){}setTimeout(()=>process.exit(3),300)'
    const r = await runCpu(process.execPath, ['-e', spin])
    expect(r.code).to.equal(3)
    expect(r.cpuMs).to.be.at.least(290)
    expect(r.cpuMs, 'the sleep is not counted').to.be.below(2_000)
  })
})
