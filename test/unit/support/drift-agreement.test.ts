import { expect } from 'chai'
import { agreement, agreementTable } from '../../support/drift.ts'
import type { CliResult } from '../../support/cli.ts'

/** A run as the CLI's JSON lines: [host, resource or `handler <name>`, status]. */
function run(rows: [string, string, string][]): CliResult {
  const events = rows.map(([host, what, status]) =>
    what.startsWith('handler ')
      ? { type: 'handler:result', play: 'p', host, handler: what.slice(8), status }
      : { type: 'resource:result', play: 'p', host, resource: what, resourceType: what.split(':')[0], status, durationMs: 1 },
  )
  return { code: 0, stdout: '', stderr: '', events }
}

// How the lab's drift tests count check accuracy: the rule the agreement table states.
describe('check/apply agreement (lab drift tests)', () => {
  it('would-change steps apply changed agree, handlers included', () => {
    const c = run([['lb-01', 'template:/etc/haproxy/haproxy.cfg', 'would-change'], ['lb-01', 'handler reload haproxy.service', 'would-change'], ['lb-01', 'service:haproxy.service', 'ok']])
    const a = run([['lb-01', 'template:/etc/haproxy/haproxy.cfg', 'changed'], ['lb-01', 'handler reload haproxy.service', 'changed'], ['lb-01', 'service:haproxy.service', 'ok']])
    const r = agreement('haproxy', c, a)
    expect(r.agree).to.equal(true)
    expect(r.agreed).to.deep.equal(['lb-01 handler reload haproxy.service', 'lb-01 template:/etc/haproxy/haproxy.cfg'])
  })

  it('an unknown agrees only when apply changed it', () => {
    const c = run([['web-01', 'a', 'unknown'], ['web-01', 'b', 'unknown']])
    const r = agreement('x', c, run([['web-01', 'a', 'changed'], ['web-01', 'b', 'ok']]))
    expect(r.agree).to.equal(false)
    expect(r.checkOnly).to.deep.equal(['web-01 b'])
    expect(agreementTable([r])).to.include('x: check only: web-01 b (unknown)')
  })

  it('a change check called ok, a predicted change apply did not make, and any failure disagree', () => {
    expect(agreement('x', run([['h', 'a', 'ok']]), run([['h', 'a', 'changed']])).applyOnly).to.deep.equal(['h a'])
    expect(agreement('x', run([['h', 'a', 'would-change']]), run([['h', 'a', 'ok']])).checkOnly).to.deep.equal(['h a'])
    const failed = agreement('x', run([['h', 'a', 'would-change']]), run([['h', 'a', 'failed']]))
    expect(failed.agree).to.equal(false)
    expect(failed.failed).to.deep.equal(['apply: h a'])
  })
})
