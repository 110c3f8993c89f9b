import { isIPv4, isIPv6 } from 'node:net'

/**
 * net.isIP(), without compiling Node's IPv6 pattern for a name that has no
 * colon: that regular expression costs a few milliseconds the first time it
 * runs, on every run whose playbook names hosts or IPv4 networks.
 */
export function ipFamily(s: string): 0 | 4 | 6 {
  if (isIPv4(s)) return 4
  return s.includes(':') && isIPv6(s) ? 6 : 0
}
