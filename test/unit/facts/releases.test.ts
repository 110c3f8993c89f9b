import { expect } from 'chai'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { FactKind } from '../../../src/contract/fact.ts'
import { aptPackageFact } from '../../../src/facts/apt-package.ts'
import { aptCandidateFact } from '../../../src/facts/apt-candidate.ts'
import { aptInstallableFact } from '../../../src/facts/apt-installable.ts'
import { systemdUnitFact } from '../../../src/facts/systemd-unit.ts'
import { userFact } from '../../../src/facts/user.ts'
import { groupFact } from '../../../src/facts/group.ts'
import { shellFact } from '../../../src/facts/shell.ts'
import { pathFact, pathStatFact } from '../../../src/facts/path.ts'
import { fileContentFact } from '../../../src/facts/file-content.ts'
import { mysqlFact } from '../../../src/facts/mysql.ts'
import { sysctlFact } from '../../../src/facts/sysctl.ts'
import { authorizedKeysFact } from '../../../src/facts/authorized-keys.ts'
import { localeFact } from '../../../src/facts/locale.ts'
import { mountFact } from '../../../src/facts/mount.ts'
import { procTableFact } from '../../../src/facts/proc-table.ts'
import { swapSignatureFact } from '../../../src/facts/swap-signature.ts'
import { FIXTURES_DIR } from '../../support/record-probes.ts'
import { debian12Fixtures } from '../../support/record-debian13-probes.ts'
import { NO_TWIN, RELEASE_NAMES, recordedOn, TWIN_DIRS, twinDir } from '../../support/fixture-release.ts'

/**
 * Every probe fixture is recorded on Debian 12 and on Debian 13, in the same
 * state (test/support/record-debian13-probes.ts): its first recording under
 * <kind>/, its twin under debian13/<kind>/ or debian12/<kind>/. Plan tests run
 * over both (test/support/fixture-release.ts). This test fails when a fixture
 * has no twin, unless NO_TWIN (fixture-release.ts) lists it with its reason,
 * and asserts that both releases parse to the same facts, leaving out only what
 * a release or a recording changes by nature (the tables below say what and why).
 */
const kinds = Object.fromEntries(
  [aptPackageFact, aptCandidateFact, aptInstallableFact, systemdUnitFact, userFact, groupFact, shellFact, pathFact, pathStatFact, fileContentFact, mysqlFact, sysctlFact, authorizedKeysFact, localeFact, mountFact, procTableFact, swapSignatureFact].map((k) => [k.name, k as FactKind<unknown>]),
)

function parsed(dir: string, name: string): Map<string, unknown> {
  const base = join(FIXTURES_DIR, dir, name)
  const meta = JSON.parse(readFileSync(`${base}.meta.json`, 'utf8')) as { kind: string; keys: string[]; code: number }
  const kind = kinds[meta.kind]
  if (!kind) throw new Error(`${dir}/${name}: fact kind "${meta.kind}" is not in this test's kinds: import it above`)
  return kind.parse(readFileSync(`${base}.txt`, 'utf8'), meta.keys, meta.code)
}

/**
 * Fields whose value a release (or the moment) decides, not the state: versions, ids the system picks,
 * times, and GTID positions (how many transactions the stack had run when it was recorded).
 */
const byRelease = new Set(['version', 'candidate', 'installed', 'uid', 'gid', 'mtime', 'mainPid', 'activeEnterMonotonic', 'gtidBinlogPos', 'gtidSlavePos', 'gtidIoPos'])

/** apt's binary cache of the mirror's package lists: its bytes are the lists of that release on that day. */
const APT_CACHE = '/var/cache/apt/pkgcache.bin'

/**
 * Keys of one fixture whose value the recording decided, not the state, each with why: left out of the
 * comparison. Everything else of that fixture is still compared.
 */
const BY_RECORDING: Record<string, Record<string, string>> = {
  'path/jobs-web-01-converged': { '/usr/local/share/muster-blob.bin': 'the bytes the recorder served for download (random on Debian 12)' },
  'path/jobs-web-01-drifted': { '/usr/local/share/muster-blob.bin': '100 random bytes written over it by hand' },
  'path/apt-repo-web-01-converged': {
    '/etc/apt/keyrings/muster-test.asc': 'a signing key made for each recording (gpg --quick-gen-key)',
    '/etc/apt/sources.list.d/muster-test.sources': "names the address the recording's repository was served at",
  },
  'path/apt-repo-web-01-drifted': {
    '/etc/apt/keyrings/muster-test.asc': 'a signing key made for each recording (gpg --quick-gen-key)',
    '/etc/apt/sources.list.d/muster-test.sources': "names the address the recording's repository was served at",
  },
  'path/archive-web-02-bare': { '/srv/pkg/app.tar.gz': 'a tarball made on the host: tar stores the time it was made' },
  'path/archive-web-02-converged': { '/srv/pkg/app.tar.gz': 'a tarball made on the host: tar stores the time it was made', '/srv/app/.muster-archive': "the tarball's sha256" },
  'path/archive-web-02-other': { '/srv/pkg/app.tar.gz': 'a tarball made on the host: tar stores the time it was made' },
}

/** What the releases really do differently in the same state: the product must read it from the host (it does; see the plan tests). */
const BY_RELEASE: Record<string, Record<string, string>> = {
  // Debian 13's tzdata no longer creates /etc/timezone; timezone() writes it on both (server-basics.test.ts's bare row)
  'path/server-web-01-bare': { '/etc/timezone': "Debian 12's tzdata keeps /etc/timezone, Debian 13's does not" },
}

function normalize(name: string, key: string, v: unknown): unknown {
  if (BY_RECORDING[name]?.[key] !== undefined) return '(this recording)'
  if (BY_RELEASE[name]?.[key] !== undefined) return '(this release)'
  const clock = name.startsWith('shell/date-epoch') // `date +%s`: the time it was recorded
  const bytesOfTheDay = key === APT_CACHE
  return JSON.parse(
    JSON.stringify(v, (k, x) => {
      if (byRelease.has(k) || (clock && k === 'stdout') || (bytesOfTheDay && (k === 'size' || k === 'sha256'))) return '(release)'
      // a replica's last IO error is whatever its last connection attempt before the recording met
      if (name === 'mysql/replica-drifted' && (k === 'lastIoErrno' || k === 'lastIoError')) return '(this recording)'
      if (typeof x !== 'string') return x
      // lab N's subnet is 10.(77+N).0.0/24: the addresses of whichever lab recorded it read as lab 0's
      let out = x.replace(/\b10\.(7[7-9]|8[0-6])\.0\.(\d+)\b/g, '10.77.0.$2')
      // a bind mount on a lab host shows the overlay its root is: each release's base image has its own cache directory
      out = out.replace(/\/var\/cache\/muster\/lab-base-[0-9a-f]+/g, '/var/cache/muster/lab-base-(image)')
      // each lab makes its own key for root's authorized_keys
      if (name.startsWith('authorized-keys/')) out = out.replace(/^ssh-ed25519 \S+ muster-lab$/m, "(the lab's key)")
      // the locales package's list of every locale it knows, commented out, is the release's: the ones enabled are the state
      if (key === '/etc/locale.gen') out = out.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#')).join('\n')
      // HAProxy's "show servers state": srv_time_since_last_change (10th field) is how long ago, in seconds
      if (name.startsWith('haproxy-servers/')) out = out.replace(/^(\d+ \S+ \d+ \S+ \S+ \d+ \d+ \d+ \d+ )\d+ /gm, '$1(seconds) ')
      return out
    }),
  )
}

describe('probe fixtures: every one recorded on Debian 12 and Debian 13, reading the same state', () => {
  const all = debian12Fixtures() // every first recording, whichever release it was made on
  const id = (f: (typeof all)[number]): string => `${f.dir}/${f.name}`
  const twinMeta = (f: (typeof all)[number]): { keys: string[] } | undefined => {
    const file = join(FIXTURES_DIR, twinDir(f.dir, f.name), `${f.name}.meta.json`)
    return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { keys: string[] }) : undefined
  }

  it('every fixture has its twin on the other release, with the same keys, unless NO_TWIN says why not', () => {
    const missing = all.filter((f) => NO_TWIN[id(f)] === undefined && twinMeta(f) === undefined).map((f) => `${id(f)} (${RELEASE_NAMES[recordedOn(f.dir, f.name)]}; twin due in ${twinDir(f.dir, f.name)}/)`)
    expect(missing, 'fixtures without a twin: record them with test/support/record-debian13-probes.ts').to.deep.equal([])
    const otherKeys = all.filter((f) => twinMeta(f) !== undefined && twinMeta(f)!.keys.join('\n') !== f.meta.keys.join('\n')).map(id)
    expect(otherKeys, 'twins recorded with other keys than their first recording (record them again)').to.deep.equal([])
  })

  it('NO_TWIN lists only fixtures that exist and still have no twin', () => {
    const known = new Set(all.map(id))
    expect(Object.keys(NO_TWIN).filter((k) => !known.has(k)), 'listed, but no such fixture').to.deep.equal([])
    expect(all.filter((f) => NO_TWIN[id(f)] !== undefined && twinMeta(f) !== undefined).map(id), 'listed, but the twin is there: take it off the list').to.deep.equal([])
  })

  it('every twin belongs to a first recording of the same name (none left over)', () => {
    const orphans: string[] = []
    for (const release of TWIN_DIRS) {
      const root = join(FIXTURES_DIR, release)
      if (!existsSync(root)) continue
      for (const dir of readdirSync(root)) {
        for (const file of readdirSync(join(root, dir)).filter((x) => x.endsWith('.meta.json'))) {
          const name = file.slice(0, -'.meta.json'.length)
          const first = join(FIXTURES_DIR, dir, file)
          if (!existsSync(first) || twinDir(dir, name) !== join(release, dir)) orphans.push(`${release}/${dir}/${name}`)
        }
      }
    }
    expect(orphans).to.deep.equal([])
  })

  for (const f of all) {
    if (NO_TWIN[id(f)] !== undefined) continue
    it(`${id(f)} reads the same on ${RELEASE_NAMES[recordedOn(f.dir, f.name) === 'debian12' ? 'debian13' : 'debian12']}`, function () {
      if (twinMeta(f) === undefined) this.skip() // failed above, by name
      const first = parsed(f.dir, f.name)
      const second = parsed(twinDir(f.dir, f.name), f.name)
      expect([...second.keys()]).to.deep.equal([...first.keys()])
      for (const key of first.keys()) {
        expect(normalize(id(f), key, second.get(key)), key).to.deep.equal(normalize(id(f), key, first.get(key)))
      }
    })
  }
})
