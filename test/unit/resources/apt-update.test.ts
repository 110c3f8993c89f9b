import { expect } from 'chai'
import { aptUpdate } from '../../../src/resources/apt-update.ts'
import { pathStatFact, type PathStat } from '../../../src/facts/path.ts'
import { shellFact, type ShellResult } from '../../../src/facts/shell.ts'
import { factId, isUnknown } from '../../../src/contract/fact.ts'
import { FactCache } from '../../../src/engine/fact-cache.ts'
import { aptInstallable, aptInstallableFact, type AptInstallable } from '../../../src/facts/apt-installable.ts'
import { fixtureValue, planOf, commandsOf } from '../../support/system-probe-fixture.ts'
import { forEachRelease } from '../../support/fixture-release.ts'

// recorded on lab host web-01 with the path kind (path-stat reads the same find records): lists/ and
// lists/partial exist, pkgcache.bin does not (apt's cache is off there). The clock is not from the same
// probe on every release, so the rows put it two minutes after the newer of the two directories.
forEachRelease('aptUpdate resource', () => {
  const stamp = fixtureValue(pathStatFact, 'apt-lists-web-01', '/var/lib/apt/lists/partial', 'path')
  const lists = fixtureValue(pathStatFact, 'apt-lists-web-01', '/var/lib/apt/lists', 'path')
  const recordedClock = fixtureValue(shellFact, 'date-epoch-web-01', 'date +%s')
  const absent: PathStat = fixtureValue(pathStatFact, 'absent', '/tmp/muster-probe-fixtures/missing', 'path')
  // recorded with the path-stat kind on a provisioned web-01: lists/ newer than lists/partial, a 36 MB pkgcache.bin newer still
  const provisioned = (key: string): PathStat => fixtureValue(pathStatFact, 'apt-lists-web-01-provisioned', key)
  const mtime = (p: PathStat): number => (p as { mtime: number }).mtime
  const age = 120
  const now: ShellResult = { code: 0, stdout: String(Math.round(Math.max(mtime(stamp), mtime(lists))) + age) }

  it('the recorded facts are what the rows below assume', () => {
    expect(stamp.type).to.equal('directory')
    expect(lists.type).to.equal('directory')
    expect(absent.type).to.equal('absent')
    expect(recordedClock.code).to.equal(0)
    expect(Number(recordedClock.stdout)).to.be.greaterThan(1_700_000_000)
  })

  const rows: [string, number, Record<string, PathStat | ShellResult>, 'ok' | 'change', RegExp][] = [
    ['fresh lists', 3600, { stamp, lists, now }, 'ok', new RegExp(`^updated ${age}s ago$`)],
    ['older than the max age', age - 1, { stamp, lists, now }, 'change', new RegExp(`^update package lists \\(last updated ${age}s ago, max ${age - 1}s\\)$`)],
    ['no lists at all', 3600, { stamp: absent, lists: absent, now }, 'change', /^update package lists \(no package lists yet\)$/],
    // `rm -rf /var/lib/apt/lists/*`, as slim images do: lists/ was just modified, and holds nothing
    ['lists emptied by hand (no partial/)', 3600, { stamp: absent, lists: { ...(lists as object), mtime: Number(now.stdout) - 5 } as PathStat, now }, 'change', /^update package lists \(no package lists yet\)$/],
    // an update that fetched new indexes renamed them into lists/
    ['lists/ newer than partial/ counts', 60, { stamp: { ...(stamp as object), mtime: Number(now.stdout) - 7200 } as PathStat, lists: { ...(lists as object), mtime: Number(now.stdout) - 5 } as PathStat, now }, 'ok', /^updated 5s ago$/],
  ]
  for (const [what, maxAgeSeconds, values, kind, text] of rows) {
    it(`${what} (maxAgeSeconds ${maxAgeSeconds}) -> ${kind}`, () => {
      const p = planOf(aptUpdate({ maxAgeSeconds }), values)
      expect(p.kind).to.equal(kind)
      expect(p.kind === 'change' ? p.summary : p.kind === 'ok' ? p.detail : '').to.match(text)
    })
  }

  it('updates, then marks the time, and predicts fresh lists and unknown candidates', async () => {
    const p = planOf(aptUpdate({ maxAgeSeconds: 0 }), { stamp: absent, lists: absent, now })
    expect((await commandsOf(p)).map((c) => c.command)).to.deep.equal([
      'DEBIAN_FRONTEND=noninteractive apt-get update -q -o DPkg::Lock::Timeout=120 && touch /var/lib/apt/lists/partial',
    ])
    if (p.kind !== 'change') throw new Error('expected a change')
    const exact = (p.predicts ?? []).filter((x) => 'query' in x)
    const predictedStamp = exact.find((x) => 'query' in x && x.query.key === '/var/lib/apt/lists/partial')
    expect(predictedStamp && 'value' in predictedStamp && !isUnknown(predictedStamp.value) && predictedStamp.value).to.deep.include({ type: 'directory', mtime: Number(now.stdout) })
    // so a second aptUpdate in the same play is predicted "ok", as apply will find it
    const again = planOf(aptUpdate({ maxAgeSeconds: 60 }), { stamp: (predictedStamp as { value: PathStat }).value, lists, now })
    expect(again.kind).to.equal('ok')
    expect((p.predicts ?? []).some((x) => 'prefix' in x && x.kind.name === 'apt-candidate')).to.equal(true)
  })

  it('check mode: a package the current lists lack is "maybe after the refresh", one they have keeps its candidate', () => {
    const p = planOf(aptUpdate({ maxAgeSeconds: 0 }), { stamp: absent, lists: absent, now })
    if (p.kind !== 'change') throw new Error('expected a change')
    const cache = new FactCache()
    const known = (name: string): AptInstallable => fixtureValue(aptInstallableFact, 'mix', name)
    cache.setAll(new Map([['nginx', known('nginx')], ['nosuchpkg-muster', known('nosuchpkg-muster')]].map(([k, v]) => [factId(aptInstallable(k as string)), v])))
    cache.overlay(p.predicts ?? [])
    expect(cache.get(aptInstallable('nginx'))).to.deep.equal(known('nginx')).and.to.include({ state: 'missing' })
    expect(cache.get(aptInstallable('nosuchpkg-muster'))).to.deep.equal({ state: 'lists-refreshing' })
    expect(isUnknown(cache.get(aptInstallable('curl'))), 'not probed before: unknown').to.equal(true)
  })

  it('the newer of partial/ and lists/ counts, and pkgcache.bin not at all (any apt-cache call rewrites it, check\'s own probe too)', () => {
    const stampP = provisioned('/var/lib/apt/lists/partial')
    const listsP = provisioned('/var/lib/apt/lists')
    const cacheP = provisioned('/var/cache/apt/pkgcache.bin')
    expect(mtime(listsP)).to.be.greaterThan(mtime(stampP))
    expect(mtime(cacheP), 'the provisioned host\'s cache is newer than its lists').to.be.greaterThan(mtime(listsP))
    const clock = { code: 0, stdout: String(Math.round(mtime(listsP)) + 10) }
    expect(planOf(aptUpdate({ maxAgeSeconds: 60 }), { stamp: stampP, lists: listsP, now: clock }).kind).to.equal('ok')
    expect(planOf(aptUpdate({ maxAgeSeconds: 5 }), { stamp: stampP, lists: listsP, now: clock }).kind).to.equal('change')
  })

  it('probes both directories with the stat kind, and never apt\'s cache', () => {
    const probe = aptUpdate().probe as Record<string, { kind: { name: string }; key: string }>
    expect(Object.keys(probe).sort()).to.deep.equal(['lists', 'now', 'stamp'])
    expect(probe.stamp.kind.name).to.equal('path-stat')
    expect(probe.lists.kind.name).to.equal('path-stat')
    expect(probe.lists.key).to.equal('/var/lib/apt/lists')
  })

  it('reads the host clock, and fails clearly when it cannot', () => {
    expect(aptUpdate().probe).to.have.property('now')
    expect(() => planOf(aptUpdate(), { stamp, lists, now: { code: 127, stdout: '' } })).to.throw(/cannot read the host's clock/)
    expect(() => aptUpdate({ maxAgeSeconds: -1 })).to.throw(/maxAgeSeconds/)
  })
})
