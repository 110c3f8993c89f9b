import { ipFamily } from '../core/ip-family.ts'
import { change, ok, resource, type Resource, type ResourceMeta } from '../contract/resource.ts'
import { predict, unknown } from '../contract/fact.ts'
import type { RoleItem } from '../engine/playbook.ts'
import { pathState, type PathState } from '../facts/path.ts'
import { shell } from '../facts/shell.ts'
import { raw, sh } from '../core/sh.ts'
import { apt } from './apt.ts'
import { file } from './file.ts'
import { service } from './service.ts'

/**
 * One port (or list, or range) opened for input, from anywhere or from the
 * listed sources only; or, with proto 'vrrp' (no port), the VRRP adverts
 * keepalived peers send each other.
 */
export interface AllowRule {
  port?: number | readonly number[] | { from: number; to: number }
  /** default tcp */
  proto?: 'tcp' | 'udp' | 'vrrp'
  /** IPv4/IPv6 addresses or CIDRs; omitted: from anywhere; empty: nobody (the rule is left out) */
  from?: readonly string[]
  /** why the port is open; kept in the ruleset as a comment */
  comment?: string
}

/** Options of `firewall()`: the host, its allow rules, and who may reach SSH. */
export interface FirewallOptions extends ResourceMeta {
  /** The host the ruleset is for, named in its header. */
  host: string
  allow: readonly AllowRule[]
  /**
   * Where SSH may come from (default: anywhere). Always opened: a ruleset that
   * shut out the controller could never be fixed by the controller.
   */
  ssh?: { port?: number; from?: readonly string[] }
  /** default /etc/nftables.conf, the file Debian's nftables.service loads at boot */
  path?: string
  /**
   * 'table' (default): muster owns its own table (`inet muster`) and nothing
   * else: the tables Docker, fail2ban, Kubernetes or an admin keep beside it
   * are left alone and are not drift. 'ruleset': muster owns the host's whole
   * ruleset (the file flushes it; any other table is drift and is removed).
   */
  owns?: FirewallOwnership
}

/** What `firewall()` owns: its own nftables table (`table`, the default; other programs' tables are left alone) or the whole ruleset (`ruleset`, flushed at each load). */
export type FirewallOwnership = 'table' | 'ruleset'
/** The table muster's rules live in. */
export const NFT_TABLE = 'inet muster'

/** The nftables ruleset file `firewall()` owns. */
export const NFT_CONF = '/etc/nftables.conf'
/** What muster last loaded: "<sha256 of the file> <sha256 of `nft -s list ruleset` right after>". */
export const NFT_STATE = '/var/lib/muster/nftables.state'

/**
 * The host's input policy as one nftables file: drop by default, established
 * traffic, loopback and ICMP in, SSH in, then each allowed port. Forwarding
 * is dropped (these hosts route nothing); output is open. By default the
 * file replaces muster's own table only (declared, deleted and made again in
 * one atomic load), so other programs' tables stay; with `owns: 'ruleset'`
 * it flushes the whole ruleset. A rule added by hand in what muster owns is
 * drift (see nftLoaded).
 */
export function renderNftRuleset(opts: Omit<FirewallOptions, keyof ResourceMeta | 'path'>): string {
  const sshPort = opts.ssh?.port ?? 22
  const owns = ownership(opts.owns)
  const lines = [
    '#!/usr/sbin/nft -f',
    ...(owns === 'ruleset'
      ? [`# Managed by muster for ${opts.host}: the whole ruleset. Changes made here or with \`nft\` by hand are drift and will be undone.`, 'flush ruleset']
      : [
          `# Managed by muster for ${opts.host}: table ${NFT_TABLE} only (other tables are left alone).`,
          `# Changes made here or with \`nft\` by hand in table ${NFT_TABLE} are drift and will be undone.`,
          // declaring it first makes the delete work on a host that has no such table yet
          `table ${NFT_TABLE}`,
          `delete table ${NFT_TABLE}`,
        ]),
    '',
    `table ${NFT_TABLE} {`,
    '\tchain input {',
    '\t\ttype filter hook input priority filter; policy drop;',
    '\t\tct state established,related accept',
    '\t\tct state invalid drop',
    '\t\tiifname "lo" accept',
    '\t\tmeta l4proto { icmp, ipv6-icmp } accept',
    ...ruleLines({ port: sshPort, from: opts.ssh?.from, comment: 'ssh' }, 'ssh'),
    ...opts.allow.flatMap((r, i) => ruleLines(r, `allow[${i}]`)),
    '\t}',
    '\tchain forward {',
    '\t\ttype filter hook forward priority filter; policy drop;',
    '\t}',
    '\tchain output {',
    '\t\ttype filter hook output priority filter; policy accept;',
    '\t}',
    '}',
  ]
  return lines.join('\n') + '\n'
}

function ruleLines(r: AllowRule, where: string): string[] {
  const proto = r.proto ?? 'tcp'
  if (proto !== 'tcp' && proto !== 'udp' && proto !== 'vrrp') throw new Error(`firewall ${where}: proto must be tcp, udp or vrrp, got ${JSON.stringify(proto)}`)
  if (proto === 'vrrp' && r.port !== undefined) throw new Error(`firewall ${where}: vrrp has no ports`)
  if (proto !== 'vrrp' && r.port === undefined) throw new Error(`firewall ${where}: a ${proto} rule needs a port`)
  // VRRP is IP protocol 112 itself; ports belong to tcp and udp
  const match = proto === 'vrrp' ? { v4: 'ip protocol vrrp', v6: 'ip6 nexthdr vrrp', any: 'meta l4proto vrrp' } : null
  const ports = match ? '' : portExpr(r.port!, where)
  const what = (family: 'v4' | 'v6' | 'any') => (match ? match[family] : `${proto} dport ${ports}`)
  const comment = r.comment === undefined ? '' : ` comment ${nftString(r.comment, where)}`
  if (r.from === undefined) return [`\t\t${what('any')} accept${comment}`]
  const v4: string[] = []
  const v6: string[] = []
  for (const a of r.from) (sourceFamily(a, where) === 4 ? v4 : v6).push(a)
  const out: string[] = []
  if (v4.length > 0) out.push(`\t\tip saddr { ${v4.join(', ')} } ${what(match ? 'v4' : 'any')} accept${comment}`)
  if (v6.length > 0) out.push(`\t\tip6 saddr { ${v6.join(', ')} } ${what(match ? 'v6' : 'any')} accept${comment}`)
  return out
}

function portExpr(p: AllowRule['port'], where: string): string {
  const one = (n: number): string => {
    if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`firewall ${where}: port must be 1-65535, got ${n}`)
    return String(n)
  }
  if (typeof p === 'number') return one(p)
  if (Array.isArray(p)) {
    if (p.length === 0) throw new Error(`firewall ${where}: an empty port list`)
    return p.length === 1 ? one(p[0]!) : `{ ${p.map(one).join(', ')} }`
  }
  const range = p as { from: number; to: number }
  const [from, to] = [one(range.from), one(range.to)]
  if (range.from > range.to) throw new Error(`firewall ${where}: port range ${from}-${to} is backwards`)
  return `${from}-${to}`
}

/** An address or CIDR; nft needs literal addresses, so a host name is an error naming where it came from. */
function sourceFamily(a: string, where: string): 4 | 6 {
  const [addr, bits, extra] = String(a).split('/')
  const family = ipFamily(addr ?? '')
  const max = family === 4 ? 32 : 128
  if (family === 0 || extra !== undefined || (bits !== undefined && !(/^\d+$/.test(bits) && Number(bits) <= max))) {
    throw new Error(`firewall ${where}: ${JSON.stringify(a)} is not an IP address or CIDR (nftables cannot filter by host name; give the host an address, e.g. a privateAddress var)`)
  }
  return family as 4 | 6
}

function nftString(s: string, where: string): string {
  if (!/^[\w .,:()/+-]*$/.test(s)) throw new Error(`firewall ${where}: comment ${JSON.stringify(s)} may hold only letters, digits, spaces and .,:()/+-`)
  return `"${s}"`
}

function ownership(owns: unknown): FirewallOwnership {
  if (owns === undefined) return 'table'
  if (owns !== 'table' && owns !== 'ruleset') throw new Error(`firewall: owns must be 'table' or 'ruleset', got ${JSON.stringify(owns)}`)
  return owns
}

/** What muster owns, listed: its table (nothing when it is missing), or the whole ruleset. */
function listOwned(owns: FirewallOwnership): string {
  return owns === 'ruleset' ? 'nft -s list ruleset' : `{ nft -s list table ${NFT_TABLE} 2>/dev/null || :; }`
}

/** Read-only: what muster last loaded, then the live hash of what it owns ("-" when nft is not installed). */
const live = (owns: FirewallOwnership): string =>
  `cat ${NFT_STATE} 2>/dev/null || :; echo; if command -v nft >/dev/null 2>&1; then ${listOwned(owns)} | sha256sum | cut -d' ' -f1; else echo -; fi`

/**
 * The ruleset in `path` is what the kernel enforces. The file alone proves
 * nothing: `nft` rules added or flushed by hand never touch it. So after each
 * load muster records the file's hash and the live hash of what it owns (its
 * table, or with `owns: 'ruleset'` the whole ruleset); the probe compares
 * both, and a difference in either (new file, hand-made rules) loads the file
 * again. Other tables are not read: another program's rules are not drift.
 * Loading is atomic: `nft -f` applies the whole file or nothing.
 */
export function nftLoaded(path = NFT_CONF, meta: ResourceMeta & { owns?: FirewallOwnership } = {}): Resource {
  const { owns: o, ...rest } = meta
  const owns = ownership(o)
  const probeLive = shell(live(owns))
  return resource({
    id: `nft-loaded:${path}`,
    type: 'nft-loaded',
    probe: { conf: pathState(path), live: probeLive },
    meta: rest,
    plan({ conf, live: l }) {
      const c = conf as PathState
      if (c.type !== 'file') throw new Error(`${path} is not a file (${c.type}): nothing to load`)
      const [stateLine = '', liveSha = ''] = l.stdout.split('\n')
      const [loadedFile, loadedLive] = stateLine.trim().split(' ')
      const why =
        liveSha.trim() === '-'
          ? 'nft is not installed yet'
          : loadedFile === undefined || loadedFile === ''
            ? 'never loaded by muster'
            : loadedFile !== c.sha256
              ? `${path} changed since it was loaded`
              : loadedLive !== liveSha.trim()
                ? `${owns === 'ruleset' ? 'the live ruleset' : `table ${NFT_TABLE}`} differs from the one loaded (changed by hand?)`
                : null
      if (why === null) return ok(owns === 'ruleset' ? 'live ruleset is the one loaded' : `table ${NFT_TABLE} is the one loaded (other tables are not muster's)`)
      return change(
        `load ${path} (${why})`,
        async (ctx) => {
          const stamp = `${NFT_STATE}.tmp`
          await ctx.run(
            sh`nft -f ${path} && mkdir -p /var/lib/muster && { sha256sum < ${path} | cut -d' ' -f1; ` +
              sh`${raw(listOwned(owns))} | sha256sum | cut -d' ' -f1; } | tr '\\n' ' ' > ${stamp} && mv -f ${stamp} ${NFT_STATE}`,
          )
        },
        { predicts: [predict(probeLive, unknown('the ruleset is loaded first'))] },
      )
    },
  })
}

/**
 * A host's firewall: nftables installed, the ruleset file written (checked
 * with `nft -c` before it replaces the live one), loaded, and loaded again at
 * boot by nftables.service.
 */
export function firewall(opts: FirewallOptions): RoleItem[] {
  const path = opts.path ?? NFT_CONF
  const content = renderNftRuleset(opts)
  const { host: _h, allow: _a, ssh: _s, path: _p, owns, ...meta } = opts
  return [
    apt(['nftables']),
    // 0755 with its #! line, like Debian's own /etc/nftables.conf
    file(path, { content, mode: '0755', owner: 'root', group: 'root', validate: 'nft -c -f %s', ...meta }),
    nftLoaded(path, { ...meta, owns: ownership(owns) }),
    service('nftables', { enabled: true, ...meta }),
  ]
}

