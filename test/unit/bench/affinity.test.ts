import { expect } from 'chai'
import { existsSync, readFileSync } from 'node:fs'
import { onCpus, parseMask, splitCpus, threadsOf } from '../../../bench/lib/affinity.ts'

describe('bench: CPU affinity for the floor with the controller apart (bench/lib/affinity.ts)', () => {
  it('gives the lab the last CPU and the controller the rest; no split on one CPU', () => {
    expect(splitCpus(1)).to.equal(undefined)
    expect(splitCpus(2)).to.deep.equal({ controller: '0', lab: '1' })
    expect(splitCpus(8)).to.deep.equal({ controller: '0-6', lab: '7' })
  })

  it('starts a command on the given CPUs through taskset, or as it is', () => {
    expect(onCpus('0', '/usr/bin/node', ['a.mjs'])).to.deep.equal(['taskset', ['-c', '0', '/usr/bin/node', 'a.mjs']])
    expect(onCpus(undefined, '/usr/bin/node', ['a.mjs'])).to.deep.equal(['/usr/bin/node', ['a.mjs']])
  })

  it("reads taskset's mask, whatever its width", () => {
    expect(parseMask("pid 12's current affinity mask: 3\n")).to.equal('3')
    expect(parseMask("pid 7's current affinity mask: ff,ffffffff")).to.equal('ff,ffffffff')
    expect(parseMask('taskset: failed to get pid 9 affinity')).to.equal(undefined)
  })

  it("lists every thread of a cgroup's processes: this process's own cgroup holds its pid", function () {
    // the cgroup v2 line of /proc/self/cgroup ("0::/path"), under the v2 mount (unified on a hybrid machine)
    const path = readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((l) => l.startsWith('0::'))?.slice(3)
    const dir = path === undefined ? undefined : ['/sys/fs/cgroup/unified', '/sys/fs/cgroup'].map((m) => `${m}${path}`).find((d) => existsSync(`${d}/cgroup.procs`))
    if (!dir) return this.skip()
    expect(threadsOf(dir)).to.include(process.pid)
  })
})
