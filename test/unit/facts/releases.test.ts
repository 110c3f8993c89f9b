import { expect } from 'chai'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { FactKind } from '../../../src/contract/fact.ts'
import { aptPackageFact } from '../../../src/facts/apt-package.ts'
import { aptCandidateFact } from '../../../src/facts/apt-candidate.ts'
import { systemdUnitFact } from '../../../src/facts/systemd-unit.ts'
import { userFact } from '../../../src/facts/user.ts'
import { groupFact } from '../../../src/facts/group.ts'
import { shellFact } from '../../../src/facts/shell.ts'
import { pathFact, pathStatFact } from '../../../src/facts/path.ts'
import { fileContentFact } from '../../../src/facts/file-content.ts'
import { mysqlFact } from '../../../src/facts/mysql.ts'
import { FIXTURES_DIR } from '../../support/record-probes.ts'
import { debian12Fixtures, RELEASE_DIR, stateOf } from '../../support/record-debian13-probes.ts'

/**
 * Every probe fixture recorded on Debian 12 is recorded again on Debian 13 in
 * the same state (test/support/record-debian13-probes.ts). Plans are pure
 * functions of parsed facts, so when both releases parse to the same facts,
 * every plan test of the Debian 12 fixture holds on Debian 13 as well. This
 * asserts exactly that, fixture by fixture, leaving out only what a release
 * changes by nature (the table below says what and why).
 */
const kinds = Object.fromEntries(
  [aptPackageFact, aptCandidateFact, systemdUnitFact, userFact, groupFact, shellFact, pathFact, pathStatFact, fileContentFact, mysqlFact].map((k) => [k.name, k as FactKind<unknown>]),
)

function parsed(dir: string, name: string): Map<string, unknown> {
  const base = join(FIXTURES_DIR, dir, name)
  const meta = JSON.parse(readFileSync(`${base}.meta.json`, 'utf8')) as { kind: string; keys: string[]; code: number }
  return kinds[meta.kind]!.parse(readFileSync(`${base}.txt`, 'utf8'), meta.keys, meta.code)
}

/**
 * Fields whose value a release (or the moment) decides, not the state: versions, ids the system picks,
 * times, and GTID positions (how many transactions the stack had run when it was recorded).
 */
const byRelease = new Set(['version', 'candidate', 'installed', 'uid', 'gid', 'mtime', 'mainPid', 'activeEnterMonotonic', 'gtidBinlogPos', 'gtidSlavePos', 'gtidIoPos'])

/** apt's binary cache of the mirror's package lists: its bytes are the lists of that release on that day. */
const APT_CACHE = '/var/cache/apt/pkgcache.bin'

function normalize(name: string, key: string, v: unknown): unknown {
  const clock = name.startsWith('date-epoch') // `date +%s`: the time it was recorded
  const bytesOfTheDay = key === APT_CACHE
  return JSON.parse(
    JSON.stringify(v, (k, x) => {
      if (byRelease.has(k) || (clock && k === 'stdout') || (bytesOfTheDay && (k === 'size' || k === 'sha256'))) return '(release)'
      // lab N's subnet is 10.(77+N).0.0/24: the addresses of whichever lab recorded it read as lab 0's
      return typeof x === 'string' ? x.replace(/\b10\.(7[7-9]|8[0-6])\.0\.(\d+)\b/g, '10.77.0.$2') : x
    }),
  )
}

describe('probe fixtures: Debian 13 reads the same state as Debian 12', () => {
  const all = debian12Fixtures()

  const twinMeta = (f: (typeof all)[number]): { keys: string[]; recordedAt: string } | undefined => {
    const file = join(FIXTURES_DIR, RELEASE_DIR, f.dir, `${f.name}.meta.json`)
    return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { keys: string[]; recordedAt: string }) : undefined
  }
  /** A Debian 12 fixture recorded (or re-recorded with other keys) after its Debian 13 twin: the twin is due, said loudly. */
  const awaitingTwin = (f: (typeof all)[number]): boolean => {
    const t = twinMeta(f)
    return t === undefined || t.keys.join('\n') !== f.meta.keys.join('\n')
  }

  it('Debian 13 twins exist for the fixtures recorded with them; those due are named', () => {
    const due = all.filter((f) => stateOf(f.dir, f.name, f.meta) !== 'not-recorded' && awaitingTwin(f)).map((f) => `${f.dir}/${f.name}`)
    if (due.length) console.warn(`      DEBIAN 13 TWINS DUE (record-debian13-probes.ts): ${due.join(', ')}`)
    // the twins that exist are the ones recorded; at least those this test was written with
    expect(all.length - due.length).to.be.at.least(44)
  })

  for (const f of all) {
    if (stateOf(f.dir, f.name, f.meta) === 'not-recorded') continue
    it(`${f.dir}/${f.name}`, function () {
      if (awaitingTwin(f)) this.skip() // listed above as due
      const twelve = parsed(f.dir, f.name)
      const thirteen = parsed(join(RELEASE_DIR, f.dir), f.name)
      expect([...thirteen.keys()]).to.deep.equal([...twelve.keys()])
      for (const key of twelve.keys()) {
        expect(normalize(f.name, key, thirteen.get(key)), key).to.deep.equal(normalize(f.name, key, twelve.get(key)))
      }
    })
  }
})
