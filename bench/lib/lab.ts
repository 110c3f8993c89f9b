/**
 * What the bench needs from the lab: a fleet of a given size, bare hosts
 * again, and Ansible's prerequisites on the hosts (python3, and PyMySQL for
 * community.mysql), installed untimed: a cost Ansible has and muster does not.
 */
import { performance } from 'node:perf_hooks'
import { labExec, labReset, labUp, readState } from '../../src/lab/index.ts'
import { defaultLabSuite, labSuiteFromEnv, type LabSuite } from '../../src/lab/suite.ts'

/** On `suite` (default MUSTER_LAB_SUITE, else Debian 13, whatever release the lab ran before: a switch boots every host afresh). */
export async function ensureFleet(hosts: 4 | number, log: (l: string) => void, suite: LabSuite = labSuiteFromEnv() ?? defaultLabSuite): Promise<string[]> {
  const t0 = performance.now()
  const r = await labUp({ hosts, suite, log: (l: string) => log(`lab: ${l}`) })
  log(`lab: ${r.hosts.length} hosts up in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
  return r.hosts.map((h) => h.name)
}

/** The fleet that is up now (names), or none. */
export function currentFleet(): string[] {
  try {
    return readState()?.hosts.map((h) => h.name) ?? []
  } catch {
    return [] // no lab state: nothing is up
  }
}

export async function resetHosts(log: (l: string) => void): Promise<number> {
  const t0 = performance.now()
  await labReset(undefined, { log: (l: string) => log(`lab: ${l}`) })
  return performance.now() - t0
}

/**
 * Install packages for Ansible's sake, leaving apt's lists and caches as they
 * were (copied aside and put back with their times), so Ansible's own run
 * still has to refresh stale package lists exactly as muster's does.
 */
export async function installForAnsible(hosts: readonly string[], packages: readonly string[]): Promise<number> {
  const t0 = performance.now()
  const script = [
    'set -e',
    'export DEBIAN_FRONTEND=noninteractive',
    'missing=0',
    `for p in ${packages.join(' ')}; do dpkg-query -W -f='\${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing=1; done`,
    'if [ "$missing" = 1 ]; then',
    '  rm -rf /var/tmp/bench-apt && mkdir -p /var/tmp/bench-apt',
    '  cp -a /var/lib/apt/lists /var/tmp/bench-apt/lists',
    '  mkdir -p /var/tmp/bench-apt/cache && cp -a /var/cache/apt/. /var/tmp/bench-apt/cache/',
    '  apt-get update -q >/dev/null',
    `  apt-get install -y -q --no-install-recommends ${packages.join(' ')} >/dev/null`,
    '  rm -rf /var/lib/apt/lists && mv /var/tmp/bench-apt/lists /var/lib/apt/lists',
    '  rm -rf /var/cache/apt && mkdir -p /var/cache/apt && cp -a /var/tmp/bench-apt/cache/. /var/cache/apt/',
    '  rm -rf /var/tmp/bench-apt',
    'fi',
  ].join('\n')
  await Promise.all(
    hosts.map(async (h) => {
      const r = await labExec(h, script, { timeoutMs: 15 * 60_000 })
      if (r.code !== 0) throw new Error(`${h}: installing ${packages.join(' ')} for Ansible failed: ${r.stderr.slice(-1500)}`)
    }),
  )
  return performance.now() - t0
}
