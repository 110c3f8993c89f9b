import { query, type FactKind, type FactQuery } from '../contract/fact.ts'
import { sh } from '../core/sh.ts'

/** A kernel parameter's live value, whitespace collapsed (`4096 131072 6291456`), or null where the host has no such parameter. */
export type SysctlValue = string | null

export function assertSysctlKey(key: string): string {
  if (typeof key !== 'string' || !/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)+$/.test(key)) {
    throw new Error(`sysctl: ${JSON.stringify(key)} is not a parameter name (dotted, like net.ipv4.ip_forward)`)
  }
  return key
}

export const sysctlPath = (key: string): string => `/proc/sys/${assertSysctlKey(key).split('.').join('/')}`

/**
 * One `grep -H` reads every parameter of the batch from /proc/sys (`path:value`
 * per line): one process, however many keys. A missing parameter prints
 * nothing on stdout (grep's complaint goes to /dev/null), so it reads as null.
 */
function script(keys: readonly string[]): string {
  return `grep -H '' -- ${sh`${keys.map(sysctlPath)}`} 2>/dev/null; true`
}

export const normalSysctl = (v: string): string => v.trim().split(/\s+/).join(' ')

function parse(stdout: string, keys: readonly string[]): Map<string, SysctlValue> {
  const byPath = new Map<string, string>()
  for (const line of stdout.split('\n')) {
    const at = line.indexOf(':')
    if (at > 0 && line.startsWith('/proc/sys/')) byPath.set(line.slice(0, at), normalSysctl(line.slice(at + 1)))
  }
  return new Map(keys.map((k) => [k, byPath.get(sysctlPath(k)) ?? null]))
}

export const sysctlFact: FactKind<SysctlValue> = { name: 'sysctl', coalesce: true, script, parse: (stdout, keys) => parse(stdout, keys) }

/** The live value of a kernel parameter. */
export function sysctlValue(key: string): FactQuery<SysctlValue> {
  return query(sysctlFact, assertSysctlKey(key))
}
