import type { Connection } from '../ssh/connection.ts'
import { execProbe } from './probe-exec.ts'

/** Facts about a host as a whole, gathered once per run in one exec. */
export interface HostFacts {
  hostname: string
  os: { id: string; versionId: string; codename: string; prettyName: string }
  kernel: string
  arch: string
  cpus: number
  memoryMb: number
  /** IPv4 addresses other than loopback. */
  addresses: string[]
  /** The login user's uid (0 = root). */
  uid: number
}

import { READ_ONLY_HEADER } from './probe-batch.ts'

export const factsScript = `${READ_ONLY_HEADER}export LC_ALL=C
echo "hostname=$(hostname 2>/dev/null || cat /etc/hostname)"
. /etc/os-release 2>/dev/null
echo "os_id=$ID"
echo "os_version_id=$VERSION_ID"
echo "os_codename=$VERSION_CODENAME"
echo "os_pretty=$PRETTY_NAME"
echo "kernel=$(uname -r)"
echo "arch=$(uname -m)"
echo "cpus=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)"
echo "mem_kb=$(sed -n 's/^MemTotal: *\\([0-9]*\\).*/\\1/p' /proc/meminfo)"
echo "uid=$(id -u)"
echo "addrs=$(ip -4 -o addr show scope global 2>/dev/null | awk '{print $4}' | cut -d/ -f1 | tr '\\n' ' ')"
`

export function parseFacts(stdout: string): HostFacts {
  const kv = new Map<string, string>()
  for (const line of stdout.split('\n')) {
    const i = line.indexOf('=')
    if (i > 0) kv.set(line.slice(0, i), line.slice(i + 1).trim())
  }
  const g = (k: string): string => kv.get(k) ?? ''
  return {
    hostname: g('hostname'),
    os: { id: g('os_id'), versionId: g('os_version_id'), codename: g('os_codename'), prettyName: g('os_pretty') },
    kernel: g('kernel'),
    arch: g('arch'),
    cpus: Number(g('cpus')) || 1,
    memoryMb: Math.round((Number(g('mem_kb')) || 0) / 1024),
    addresses: g('addrs').split(/\s+/).filter(Boolean),
    uid: Number(g('uid') || '0'),
  }
}

/** The host's facts, read by one probe under the run's probe deadline (probe-exec.ts). */
export async function gatherFacts(conn: Connection, probeTimeoutMs?: number): Promise<HostFacts> {
  const res = await execProbe(conn, factsScript, probeTimeoutMs)
  return parseFacts(res.stdout)
}
