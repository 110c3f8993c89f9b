import { expect } from 'chai'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { command, type CommandOptions } from '../../../src/resources/command.ts'
import { pathFact, pathState, type PathState } from '../../../src/facts/path.ts'
import { shell, shellFact, type ShellResult } from '../../../src/facts/shell.ts'
import { factId, isUnknown, type FactQuery } from '../../../src/contract/fact.ts'
import { buildBatch, parseBatch } from '../../../src/engine/probe-batch.ts'
import { secret } from '../../../src/core/secret.ts'
import { sh } from '../../../src/core/sh.ts'
import { createApplyContext, localHostInfo } from '../../../src/engine/apply-context.ts'
import { LocalConnection } from '../../../src/ssh/local-connection.ts'
import type { Resource } from '../../../src/contract/resource.ts'
import { fixtureValue, planOf, commandsOf } from '../../support/system-probe-fixture.ts'
import { forEachRelease } from '../../support/fixture-release.ts'

const path = (fixture: string, key: string): PathState => fixtureValue(pathFact, fixture, key)

forEachRelease('command resource', () => {
  const exists = path('file-0644', '/tmp/muster-probe-fixtures/app.conf')
  const missing = path('absent', '/tmp/muster-probe-fixtures/missing')
  const fails: ShellResult = fixtureValue(shellFact, 'test-false', 'test -e /nonexistent/muster')
  const succeeds: ShellResult = fixtureValue(shellFact, 'grep-found', 'grep -c "^root:" /etc/passwd')

  const table: [string, CommandOptions, Record<string, unknown>, 'ok' | 'change', string][] = [
    ['no guard', {}, {}, 'change', 'run make install (no guard: runs every time)'],
    ['creates exists', { creates: '/tmp/muster-probe-fixtures/app.conf' }, { creates: exists }, 'ok', '/tmp/muster-probe-fixtures/app.conf exists'],
    ['creates absent', { creates: '/tmp/muster-probe-fixtures/missing' }, { creates: missing }, 'change', 'run make install (/tmp/muster-probe-fixtures/missing absent)'],
    ['unless succeeds', { unless: 'grep -c "^root:" /etc/passwd' }, { unless: succeeds }, 'ok', 'unless `grep -c "^root:" /etc/passwd` succeeded'],
    ['unless fails', { unless: 'test -e /nonexistent/muster' }, { unless: fails }, 'change', 'run make install (unless exited 1)'],
    ['onlyIf fails', { onlyIf: 'test -e /nonexistent/muster' }, { onlyIf: fails }, 'ok', 'onlyIf `test -e /nonexistent/muster` exited 1'],
    ['onlyIf succeeds', { onlyIf: 'grep -c "^root:" /etc/passwd' }, { onlyIf: succeeds }, 'change', 'run make install'],
    ['creates wins over unless', { creates: '/tmp/muster-probe-fixtures/app.conf', unless: 'test -e /nonexistent/muster' }, { creates: exists, unless: fails }, 'ok', '/tmp/muster-probe-fixtures/app.conf exists'],
    ['named', { name: 'build the app', creates: '/tmp/muster-probe-fixtures/missing' }, { creates: missing }, 'change', 'run build the app (/tmp/muster-probe-fixtures/missing absent)'],
  ]
  for (const [what, opts, values, kind, text] of table) {
    it(`${what} -> ${kind} "${text}"`, () => {
      const p = planOf(command('make install', opts), values)
      expect(p.kind).to.equal(kind)
      expect(p.kind === 'change' ? p.summary : p.kind === 'ok' ? p.detail : '').to.equal(text)
    })
  }

  it('probes only the guards it has', () => {
    expect(Object.keys(command('x').probe)).to.deep.equal([])
    const r = command('x', { creates: '/a', unless: 'true', onlyIf: 'false' })
    expect(r.probe.creates).to.deep.equal(pathState('/a'))
    expect(r.probe.unless).to.deep.equal(shell('true'))
    expect(r.probe.onlyIf).to.deep.equal(shell('false'))
    expect(command('x', { name: 'n' }).id).to.equal('command:n')
  })

  it('passes a secret on stdin only, and become as asked', async () => {
    const s = secret('hunter2-muster')
    const p = planOf(command('mysql', { stdin: s, become: true }), {})
    const ran = await commandsOf(p)
    expect(ran).to.deep.equal([{ command: 'mysql', opts: { stdin: 'hunter2-muster', become: true } }])
    expect(p.kind === 'change' && p.summary).to.not.include('hunter2')
  })

  it('leaves what `creates` names unknown after it runs, never guessed', () => {
    const p = planOf(command('make', { creates: '/opt/app/built' }), { creates: missing })
    if (p.kind !== 'change') throw new Error('expected a change')
    const pred = (p.predicts ?? [])[0]
    expect(pred && 'query' in pred && pred.query.key).to.equal('/opt/app/built')
    expect(pred && 'value' in pred && isUnknown(pred.value)).to.equal(true)
  })

  it('refuses an empty command and a relative creates', () => {
    expect(() => command(' ')).to.throw(/empty command/)
    expect(() => command('x', { creates: 'rel/path' })).to.throw(/absolute/)
  })
})

describe('command resource, applied for real on this machine', () => {
  const dir = mkdtempSync(join(tmpdir(), 'muster-command-'))
  const conn = new LocalConnection()
  const ctx = createApplyContext(localHostInfo(), conn, { resource: 'command' })
  after(() => rmSync(dir, { recursive: true, force: true }))

  /** Probe a resource's facts for real, through the engine's own batch, then plan. */
  async function planNow(r: Resource) {
    const queries = Object.values(r.probe) as FactQuery<unknown>[]
    const batch = buildBatch(queries)
    const got = parseBatch(batch, (await conn.exec('sh -s', { stdin: batch.script })).stdout)
    const values = Object.fromEntries(Object.entries(r.probe).map(([k, q]) => [k, got.get(factId(q))]))
    return r.plan(values as never)
  }

  it('with `creates`: runs once, then is ok', async () => {
    const target = join(dir, 'built')
    const r = command(sh`echo done > ${target}`, { creates: target })
    const first = await planNow(r)
    expect(first.kind).to.equal('change')
    if (first.kind === 'change') await first.apply(ctx)
    expect(readFileSync(target, 'utf8')).to.equal('done\n')
    expect((await planNow(r)).kind).to.equal('ok')
  })

  it('with `unless`: the guard decides, run after run', async () => {
    const flag = join(dir, 'flag')
    const r = command(sh`touch ${flag}`, { unless: sh`test -e ${flag}` })
    const first = await planNow(r)
    if (first.kind === 'change') await first.apply(ctx)
    expect((await planNow(r)).kind).to.equal('ok')
  })

  it('a secret reaches the command on stdin, not in argv', async () => {
    const out = join(dir, 'secret')
    const p = await planNow(command(sh`cat > ${out}`, { stdin: secret('s3cret-muster-value') }))
    if (p.kind === 'change') await p.apply(ctx)
    expect(readFileSync(out, 'utf8')).to.equal('s3cret-muster-value')
  })

  it('with no guard: a change every time (honest, not "ok")', async () => {
    const r = command('true')
    for (let i = 0; i < 2; i++) {
      const p = await planNow(r)
      expect(p.kind).to.equal('change')
      if (p.kind === 'change') await p.apply(ctx)
    }
  })

  it('a failing command fails with its exit code and stderr', async () => {
    const p = await planNow(command('echo broken >&2; exit 3'))
    if (p.kind !== 'change') throw new Error('expected a change')
    let err: unknown
    try {
      await p.apply(ctx)
    } catch (e) {
      err = e
    }
    expect(String(err)).to.match(/exited 3:\nbroken/)
  })
})
