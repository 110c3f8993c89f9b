import { expect } from 'chai'
import { adoptSentAhead, buildBatch, parseBatch, ProbeParseError, remarkProbe } from '../../../src/engine/probe-batch.ts'
import { query, type FactKind } from '../../../src/contract/fact.ts'
import { LocalConnection } from '../../../src/ssh/local-connection.ts'

const echoKind: FactKind<string> = {
  name: 'echo',
  coalesce: true,
  script: (keys) => `printf '%s\\n' ${keys.map((k) => `'${k}'`).join(' ')}`,
  parse: (stdout, keys) => new Map(keys.map((k) => [k, stdout.split('\n').includes(k) ? 'seen' : 'missing'])),
}
const shellKind: FactKind<{ code: number; out: string }> = {
  name: 'shell',
  coalesce: false,
  script: (keys) => keys[0]!,
  parse: (stdout, keys, code) => new Map([[keys[0]!, { code, out: stdout }]]),
}

describe('engine: probe batch', () => {
  it('coalesces queries by kind into one section, and gives a non-coalescing kind one section per key', () => {
    const b = buildBatch([query(echoKind, 'a'), query(echoKind, 'b'), query(echoKind, 'a'), query(shellKind, 'exit 3'), query(shellKind, 'echo hi')])
    expect(b.sections.map((s) => [s.kind.name, s.keys])).to.deep.equal([
      ['echo', ['a', 'b']],
      ['shell', ['exit 3']],
      ['shell', ['echo hi']],
    ])
  })

  it('runs as one script and splits every section with its exit code, even after an `exit` in a fragment', async () => {
    const b = buildBatch([query(shellKind, 'echo one; exit 3'), query(echoKind, 'x'), query(shellKind, 'printf "no newline"')])
    const res = await new LocalConnection().exec('sh -s', { stdin: b.script })
    const facts = parseBatch(b, res.stdout)
    expect(facts.get('shell\u0000echo one; exit 3')).to.deep.equal({ code: 3, out: 'one\n' })
    expect(facts.get('echo\u0000x')).to.equal('seen')
    expect(facts.get('shell\u0000printf "no newline"')).to.deep.equal({ code: 0, out: 'no newline' })
  })

  it('refuses output that ended before every section reported', () => {
    const b = buildBatch([query(echoKind, 'x')])
    expect(() => parseBatch(b, 'garbage')).to.throw(ProbeParseError, /ended before echo/)
  })

  it('a recorded probe is sent again with a fresh marker, and only a read-only probe is', () => {
    const b = buildBatch([query(echoKind, 'a'), query(shellKind, 'echo hi')])
    const again = remarkProbe(b.script)!
    expect(again).to.not.equal(b.script)
    expect(again.split(b.marker)).to.have.length(1)
    expect(again.replace(/__muster_[0-9a-f]{12}__/g, 'M')).to.equal(b.script.split(b.marker).join('M'))
    expect(remarkProbe(b.script.replace('# muster: read-only probe', '# anything')), 'not a probe').to.equal(undefined)
    expect(remarkProbe('#!/bin/sh\n# muster: read-only probe\necho no marker\n')).to.equal(undefined)
  })

  it('a batch takes the script sent ahead when it is the same but for its marker, and parses the answer to it', async () => {
    const queries = [query(echoKind, 'a'), query(shellKind, 'echo hi')]
    const sent = remarkProbe(buildBatch(queries).script)!
    const b = adoptSentAhead(buildBatch(queries), sent)
    expect(b.script).to.equal(sent)
    const res = await new LocalConnection().exec('sh -s', { stdin: sent })
    expect(parseBatch(b, res.stdout).get('shell\u0000echo hi')).to.deep.equal({ code: 0, out: 'hi\n' })
    const other = buildBatch([query(echoKind, 'b'), query(shellKind, 'echo hi')])
    expect(adoptSentAhead(other, sent), 'another probe: built as is').to.equal(other)
    expect(adoptSentAhead(other, undefined)).to.equal(other)
  })
})

