import { UsageError } from '../core/errors.ts'

/**
 * The Debian release the lab's hosts run. Debian 13 "trixie" is the current
 * stable (what a server rented today boots), Debian 12 "bookworm" the
 * oldstable many fleets still run: the lab boots either, each from its own
 * cached base image. `lab up --suite`, else MUSTER_LAB_SUITE, else the suite
 * the lab already runs, else trixie.
 */

export const labSuites = ['trixie', 'bookworm'] as const
export type LabSuite = (typeof labSuites)[number]
export const defaultLabSuite: LabSuite = 'trixie'

/** Debian's number for each codename: what `lab status` and the tests print. */
export const suiteRelease: Record<LabSuite, string> = { trixie: 'Debian 13', bookworm: 'Debian 12' }

export function parseLabSuite(v: string, from: string): LabSuite {
  const s = v.trim().toLowerCase()
  if ((labSuites as readonly string[]).includes(s)) return s as LabSuite
  throw new UsageError(`${from} must be one of ${labSuites.join(', ')}, not "${v}"`)
}

/** MUSTER_LAB_SUITE when it is set: how test runs, the demo and the bench pick the other release. */
export function labSuiteFromEnv(): LabSuite | undefined {
  const v = process.env.MUSTER_LAB_SUITE
  return v ? parseLabSuite(v, 'MUSTER_LAB_SUITE') : undefined
}

/** The suite asked for (an option, else the environment), else the one running, else the default. */
export function chooseLabSuite(asked: LabSuite | undefined, running: LabSuite | undefined): LabSuite {
  return asked ?? labSuiteFromEnv() ?? running ?? defaultLabSuite
}
