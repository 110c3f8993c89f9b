import { expect } from 'chai'
import { buildBatch, parseBatch, ProbeParseError } from '../../../src/engine/probe-batch.ts'
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
})
