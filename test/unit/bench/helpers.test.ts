import { expect } from 'chai'
import { summarise } from '../../../bench/controller/profile-summary.ts'
import { ProbeReplayer } from '../../../bench/controller/replay.ts'
import { countExecLines, parseAnsibleRecap } from '../../../bench/tools/ansible.ts'
import { linearFit, summarize } from '../../../bench/lib/stats.ts'
import { parseBenchArgs, BenchUsageError } from '../../../bench/lib/args.ts'

describe('bench: pure helpers', () => {
  it('replays a probe script run once, with each asker\'s own marker in the output', async () => {
    const seen: string[] = []
    const r = new ProbeReplayer(async (script) => {
      seen.push(script)
      const marker = /__muster_[0-9a-f]{12}__/.exec(script)?.[0]
      if (!marker) return { code: 0, stdout: 'plain\n', stderr: '' }
      return { code: 0, stdout: `${marker} S 0\nfacts\n${marker} E 0\n`, stderr: '' }
    })
    const a = await r.answer("printf '%s S %s\\n' '__muster_aaaaaaaaaaaa__' 0\necho facts\n")
    const b = await r.answer("printf '%s S %s\\n' '__muster_0123456789ab__' 0\necho facts\n")
    expect(seen).to.have.length(1)
    expect(a.stdout).to.equal('__muster_aaaaaaaaaaaa__ S 0\nfacts\n__muster_aaaaaaaaaaaa__ E 0\n')
    expect(b.stdout).to.equal('__muster_0123456789ab__ S 0\nfacts\n__muster_0123456789ab__ E 0\n')
    await r.answer('echo another script')
    expect([r.hits, r.misses]).to.deep.equal([1, 2])
  })

  it("reads Ansible's recap and counts its SSH executions per host", () => {
    const out = [
      '<10.77.0.11> SSH: EXEC ssh -C -o ControlMaster=auto 10.77.0.11 /bin/sh -c ...',
      '<10.77.0.11> SSH: EXEC sftp -b - 10.77.0.11',
      '<10.77.0.12> SSH: EXEC ssh -C 10.77.0.12 ...',
      'PLAY RECAP *********',
      'web-01                     : ok=12   changed=0    unreachable=0    failed=0    skipped=3    rescued=0    ignored=0',
      'web-02                     : ok=10   changed=2    unreachable=0    failed=1    skipped=0    rescued=0    ignored=0',
    ].join('\n')
    expect(parseAnsibleRecap(out)).to.deep.equal({
      'web-01': { ok: 12, changed: 0, unreachable: 0, failed: 0, skipped: 3 },
      'web-02': { ok: 10, changed: 2, unreachable: 0, failed: 1, skipped: 0 },
    })
    expect(countExecLines(out, { 'web-01': '10.77.0.11', 'web-02': '10.77.0.12', 'lb-01': '10.77.0.13' })).to.deep.equal({ 'web-01': 2, 'web-02': 1, 'lb-01': 0 })
  })

  it('summarizes runs (median, min, max) and fits per-host cost', () => {
    expect(summarize([3, 1, 2, 10])).to.deep.equal({ median: 2.5, min: 1, max: 10, n: 4 })
    const fit = linearFit([10, 100, 1000].map((x) => ({ x, y: 5 + 2 * x })))
    expect(fit.slope).to.be.closeTo(2, 1e-9)
    expect(fit.intercept).to.be.closeTo(5, 1e-9)
  })

  it('parses --only, --runs and --sizes, and refuses what it does not know', () => {
    const a = parseBenchArgs(['--only', 'stack,controller', '--runs=5', '--sizes', '10,20'])
    expect([a.only, a.runs, a.sizes]).to.deep.equal([['stack', 'controller'], 5, [10, 20]])
    expect(parseBenchArgs([]).only).to.deep.equal(['stack', 'fleet', 'controller', 'releases', 'scenario'])
    expect(() => parseBenchArgs(['--only', 'nope'])).to.throw(BenchUsageError)
    expect(() => parseBenchArgs(['--runs', '0'])).to.throw(BenchUsageError)
    const c = parseBenchArgs(['--only', 'controller', '--hosts', '1000,2000,5000,10000', '--modes', 'check', '--workers', '2'])
    expect([c.sizes, c.modes, c.workers]).to.deep.equal([[1000, 2000, 5000, 10000], ['check'], 2])
    expect(parseBenchArgs(['--only', 'floor']).only).to.deep.equal(['floor'])
    expect(() => parseBenchArgs(['--modes', 'deploy'])).to.throw(BenchUsageError)
  })

  it('sums V8 profiles by self time, per area and function, idle left out', () => {
    const frame = (functionName: string, url: string) => ({ functionName, url, lineNumber: 0 })
    const profile = {
      nodes: [
        { id: 1, callFrame: frame('(root)', '') },
        { id: 2, callFrame: frame('(idle)', '') },
        { id: 3, callFrame: frame('(garbage collector)', '') },
        { id: 4, callFrame: frame('onKEXPayload', 'file:///x/node_modules/ssh2/lib/protocol/kex.js') },
        { id: 5, callFrame: frame('runHostPlay', 'file:///x/src/engine/host-play.ts') },
      ],
      samples: [2, 3, 4, 4, 5],
      timeDeltas: [5000, 1000, 2000, 2000, 1000],
      startTime: 0,
      endTime: 11000,
    }
    const s = summarise([profile, profile])
    expect(s.totalMs).to.equal(12)
    expect(s.areas.map((a) => [a.name, a.selfMs])).to.deep.equal([
      ['ssh2 crypto, kex, keys', 8],
      ['GC', 2],
      ['muster engine', 2],
    ])
  })
})
