import { expect } from 'chai'
import { plainReporter } from '../../../src/report/plain.ts'
import { jsonReporter } from '../../../src/report/json.ts'
import type { MusterEvent, Recap } from '../../../src/engine/events.ts'
import { emptyStats } from '../../../src/ssh/connection.ts'
import { secret } from '../../../src/core/secret.ts'
import { RecapCollector } from '../../../src/engine/recap.ts'

const recap: Recap = {
  mode: 'check',
  durationMs: 420,
  exitCode: 2,
  hosts: {
    'web-01': { ok: 5, changed: 1, failed: 0, skipped: 0, unknown: 0, unreachable: false, stats: { ...emptyStats(), execs: 1 }, probeBatches: 1 },
    'lb-01': { ok: 0, changed: 0, failed: 0, skipped: 0, unknown: 0, unreachable: true, stats: emptyStats(), probeBatches: 0 },
  },
}
const events: MusterEvent[] = [
  { type: 'run:start', mode: 'check', playbook: 'site.ts', hosts: ['web-01', 'lb-01'] },
  { type: 'play:start', play: 'web', index: 0, hosts: ['web-01'] },
  { type: 'resource:result', play: 'web', host: 'web-01', resource: 'apt:nginx', resourceType: 'apt', status: 'ok', durationMs: 1 },
  { type: 'resource:result', play: 'web', host: 'web-01', resource: 'file:/etc/motd', resourceType: 'file', status: 'would-change', summary: 'content', diff: '--- a\n+++ b\n-x\n+y\n', durationMs: 1 },
  { type: 'host:unreachable', play: 'web', host: 'lb-01', message: 'lb-01: unreachable: connection refused' },
  { type: 'run:end', recap },
]

describe('reporters', () => {
  it('plain: one greppable line per result, host first; ok only with -v; diffs indented; an Ansible-style recap', () => {
    const lines: string[] = []
    const on = plainReporter({ verbose: false, diff: true, write: (l) => lines.push(l) })
    events.forEach(on)
    const text = lines.join('\n')
    expect(text).not.to.contain('apt:nginx')
    expect(lines).to.include('web-01  would change file:/etc/motd: content')
    expect(text).to.contain('    -x\n    +y')
    expect(lines).to.include('lb-01  UNREACHABLE  lb-01: unreachable: connection refused')
    expect(lines).to.include('web-01 : ok=5 changed=1 unreachable=0 failed=0 skipped=0 unknown=0')
    expect(lines).to.include('lb-01  : ok=0 changed=0 unreachable=1 failed=0 skipped=0 unknown=0')
    expect(lines.at(-1)).to.equal('drift found in 0.42 s (exit 2)')
  })

  it('plain -v: ok lines and the round trips per host', () => {
    const lines: string[] = []
    events.forEach(plainReporter({ verbose: true, diff: false, write: (l) => lines.push(l) }))
    expect(lines).to.include('web-01  ok           apt:nginx')
    expect(lines).to.include('web-01 : execs=1 probe-batches=1 sftp-ops=0 bytes-sent=0 bytes-received=0')
  })

  it('json: one parseable object per line, every resource result, the recap last', () => {
    const lines: string[] = []
    events.forEach(jsonReporter((l) => lines.push(l)))
    const objs = lines.map((l) => JSON.parse(l) as { type: string; status?: string })
    expect(objs.map((o) => o.type)).to.deep.equal(['run:start', 'resource:result', 'resource:result', 'host:unreachable', 'run:end'])
    expect(objs[2]).to.include({ status: 'would-change', resource: 'file:/etc/motd', resourceType: 'file', host: 'web-01' })
  })

  it('secrets never print: a Secret renders as *** in JSON', () => {
    const s = secret('hunter2-password')
    expect(JSON.stringify({ password: s })).to.equal('{"password":"***"}')
  })

  it('the recap counts what the events say, hosts in inventory order, and picks the exit code', () => {
    const c = new RecapCollector('check')
    events.slice(0, -1).forEach(c.on)
    expect(Object.keys(c.hosts)).to.deep.equal(['web-01', 'lb-01'])
    expect(c.hosts['web-01']).to.include({ ok: 1, changed: 1 })
    expect(c.exitCode()).to.equal(3) // unreachable beats drift
  })
})
