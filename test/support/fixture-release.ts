import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * Which Debian release the plan tests read their recorded probes from.
 *
 * test/fixtures/probes/<kind>/<name> is a fixture's first recording, on
 * Debian 12 or Debian 13 (its meta.json's `os` says which); its twin, the same
 * keys read in the same state on the other release, is
 * test/fixtures/probes/debian13/<kind>/<name> (a Debian 12 first) or
 * test/fixtures/probes/debian12/<kind>/<name> (a Debian 13 first), recorded by
 * test/support/record-debian13-probes.ts. Plan tests run once per release
 * (`forEachRelease`, and planTable by itself); every loader asks `twinPath`.
 */
export type Release = 'debian12' | 'debian13'
export const RELEASES: readonly Release[] = ['debian12', 'debian13']
export const RELEASE_NAMES: Record<Release, string> = { debian12: 'Debian 12', debian13: 'Debian 13' }

const FIXTURES = fileURLToPath(new URL('../fixtures/probes/', import.meta.url))

/** The folders that hold twins, not first recordings. */
export const TWIN_DIRS: readonly string[] = RELEASES

/**
 * Fixtures that have no twin on the other release, each with why. Nothing else
 * may lack one: test/unit/facts/releases.test.ts fails on a fixture without a
 * twin that is not listed here. A plan test over one of these runs on its own
 * release only (planTable skips the other; forEachRelease callers ask `hasTwin`).
 */
export const NO_TWIN: Readonly<Record<string, string>> = {
  // derived by hand from a real recording (their meta.json says from what): nothing to record again
  // until they are recorded for real on a host whose nginx is stopped, disabled or failed
  'systemd-unit/nginx-stopped-disabled': 'derived by hand from systemd-unit/stopped-disabled',
  'systemd-unit/nginx-stopped-enabled': 'derived by hand from systemd-unit/stopped-disabled',
  'systemd-unit/nginx-running-disabled': 'derived by hand from systemd-unit/ssh-active',
  'systemd-unit/nginx-failed': 'derived by hand from systemd-unit/stopped-disabled',
}

let current: Release = 'debian12'

/** The release plan tests read fixtures from right now. */
export function fixtureRelease(): Release {
  return current
}

/** The release a first recording was made on, from its meta.json's `os`. */
export function recordedOn(dir: string, name: string): Release {
  const meta = JSON.parse(readFileSync(join(FIXTURES, dir, `${name}.meta.json`), 'utf8')) as { os: string }
  if (/\(trixie\)|Debian GNU\/Linux 13\b/.test(meta.os)) return 'debian13'
  if (/\(bookworm\)|Debian GNU\/Linux 12\b/.test(meta.os)) return 'debian12'
  throw new Error(`fixture ${dir}/${name}: recorded on ${meta.os}, neither Debian 12 nor 13`)
}

/** The twin folder of a first recording: where the other release's recording of it lives. */
export function twinDir(dir: string, name: string): string {
  return join(recordedOn(dir, name) === 'debian12' ? 'debian13' : 'debian12', dir)
}

/** Does `<dir>/<name>` have its twin recorded? */
export function hasTwin(dir: string, name: string): boolean {
  return existsSync(join(FIXTURES, twinDir(dir, name), `${name}.meta.json`))
}

/** Thrown when a plan test asks, on the other release, for a fixture that NO_TWIN says has none. */
export class NoTwin extends Error {
  constructor(readonly fixture: string) {
    super(`${fixture} has no ${RELEASE_NAMES[current]} twin: ${NO_TWIN[fixture]}`)
  }
}

/**
 * The folder (under test/fixtures/probes) to read `<dir>/<name>` from on `release`:
 * the first recording when it was made there, else its twin. A missing twin is an error
 * (NoTwin when NO_TWIN lists it), never a silent fallback to the other release.
 */
export function twinPath(dir: string, name: string, release: Release = current): string {
  if (recordedOn(dir, name) === release) return dir
  const twin = twinDir(dir, name)
  if (existsSync(join(FIXTURES, twin, `${name}.meta.json`))) return twin
  if (NO_TWIN[`${dir}/${name}`] !== undefined) throw new NoTwin(`${dir}/${name}`)
  throw new Error(`fixture ${dir}/${name} has no ${RELEASE_NAMES[release]} twin (${twin}/${name}): record it with test/support/record-debian13-probes.ts`)
}

/**
 * One mocha `describe` per release, `[Debian 12]` and `[Debian 13]` in the title; fixtures
 * loaded while the body is collected and while its tests run come from that release.
 */
export function forEachRelease(title: string, body: (release: Release) => void): void {
  for (const r of RELEASES) {
    describe(`${title} [${RELEASE_NAMES[r]}]`, () => {
      before(() => {
        current = r
      })
      after(() => {
        current = 'debian12'
      })
      const was = current
      current = r
      try {
        body(r)
      } finally {
        current = was
      }
    })
  }
}

/** Run `fn` with fixtures read from `release` (planTable's rows, one test each). */
export async function inRelease<T>(release: Release, fn: () => T | Promise<T>): Promise<T> {
  const was = current
  current = release
  try {
    return await fn()
  } finally {
    current = was
  }
}

/** `inRelease` for code that does not wait: a table of rows built from one release's recordings. */
export function inReleaseSync<T>(release: Release, fn: () => T): T {
  const was = current
  current = release
  try {
    return fn()
  } finally {
    current = was
  }
}

/** Can `<dir>/<name>` be read on the current release? Only a fixture NO_TWIN lists may not (a test skips it there). */
export function available(dir: string, name: string): boolean {
  try {
    twinPath(dir, name)
    return true
  } catch (err) {
    if (err instanceof NoTwin) return false
    throw err
  }
}
