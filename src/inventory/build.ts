import { InventoryError, type GroupInfo, type HostInfo, type Inventory, type SourcePosition, type SshSettings, type Vars } from './types.ts'
import type { Located, RawGroup, RawHost, RawInventory, RawSettings, SettingKey } from './raw.ts'
import { sameValue, show, takeConnectionVars } from './settings.ts'
import { dirname, resolve as resolvePath } from 'node:path'
import { hasRef, resolveSecretRefs, secretRefIn, vaultFileOf, VAULT_VAR, type ResolveContext } from './secret-refs.ts'
import type { Vault } from '../vault/vault.ts'

export interface BuildOptions {
  /** `-e` vars from the command line: above everything else. Connection vars (ansible_user, ...) among them apply too. */
  extraVars?: Vars
  /** What relative key paths in extraVars are relative to (default: the current directory). */
  cwd?: string
}

const ALL = 'all'
const UNGROUPED = 'ungrouped'

interface Host {
  name: string
  position: SourcePosition
  vars: Vars
  settings: RawSettings
}

interface Group {
  name: string
  position: SourcePosition
  declared: boolean
  hosts: Located<string>[]
  children: Located<string>[]
  vars: Vars
  settings: RawSettings
}

/**
 * Merge what a file declared into the Inventory the engine uses. This is the
 * only place where formats meet meaning: duplicates, group graph, precedence
 * and defaults are decided here and nowhere else.
 */
export function buildInventory(raw: RawInventory, opts: BuildOptions = {}): Inventory {
  const hosts = mergeHosts(raw.hosts)
  const groups = mergeGroups(raw)
  checkReferences(groups, hosts)
  const parents = parentsOf(groups)
  checkCycles(groups)
  const depth = depthOf(groups, parents)
  const extra = takeConnectionVars(extraVarsWithRefs(opts.extraVars ?? {}), {
    baseDir: opts.cwd ?? process.cwd(),
    positionOf: () => ({ file: '--extra-vars' }),
  })

  // direct memberships: every group already holds the hosts that name it (mergeGroups)
  const direct = new Map<string, Set<string>>([...hosts.keys()].map((h) => [h, new Set<string>()]))
  for (const g of groups.values()) for (const h of g.hosts) direct.get(h.value)?.add(g.name)

  const ungrouped = groups.get(UNGROUPED)!
  const order = (a: string, b: string) => depth.get(a)! - depth.get(b)! || (a < b ? -1 : a > b ? 1 : 0)
  const hostInfos = new Map<string, HostInfo>()
  const jumpAt = new Map<string, SourcePosition>()
  for (const host of hosts.values()) {
    const reached = new Set<string>([ALL])
    const visit = (g: string): void => {
      if (reached.has(g)) return
      reached.add(g)
      for (const p of parents.get(g) ?? []) visit(p)
    }
    for (const g of direct.get(host.name)!) visit(g)
    // as in Ansible: a host in no group but "all" is in "ungrouped"
    if ([...reached].every((g) => g === ALL || g === UNGROUPED)) {
      reached.add(UNGROUPED)
      if (!ungrouped.hosts.some((h) => h.value === host.name)) ungrouped.hosts.push({ value: host.name, position: host.position })
    }
    const memberOf = [...reached].sort(order)
    const layers = [...memberOf.map((g) => groups.get(g)!), host, extra]
    hostInfos.set(host.name, resolveHost(host.name, memberOf, layers))
    const jump = layers.reduce<RawSettings['jump']>((j, l) => l.settings.jump ?? j, undefined)
    if (jump) jumpAt.set(host.name, jump.position)
  }
  // secrets first: a bastion's HostInfo is then the one with its passwords resolved
  resolveSecrets(raw, opts, hostInfos, groups)
  resolveJumps(hostInfos, jumpAt)

  const groupInfos = new Map<string, GroupInfo>()
  for (const g of groups.values()) {
    const members = g.name === ALL ? [...hosts.keys()] : unique(g.hosts.map((h) => h.value))
    const children = g.name === ALL
      ? [...groups.keys()].filter((c) => c !== ALL && parents.get(c)!.includes(ALL))
      : unique(g.children.map((c) => c.value))
    groupInfos.set(g.name, { name: g.name, hosts: members, children, vars: g.vars })
  }
  return { source: raw.source, hosts: hostInfos, groups: groupInfos }
}

/** `-e db_password='!vault db-password'`: a reference, as in the inventory. */
function extraVarsWithRefs(vars: Vars): Vars {
  const out: Vars = {}
  for (const [k, v] of Object.entries(vars)) out[k] = (typeof v === 'string' && secretRefIn(v, { file: '--extra-vars' })) || v
  return out
}

/**
 * Every `!vault`/`!env` reference becomes a Secret, once per host (a host's
 * `muster_vault` may differ from another's); groups' own vars read the vault
 * that \`all\` names. The vault is decrypted once, and only when referenced.
 */
function resolveSecrets(raw: RawInventory, opts: BuildOptions, hosts: Map<string, HostInfo>, groups: Map<string, Group>): void {
  const opened = new Map<string, Vault>()
  const inventoryDir = dirname(resolvePath(raw.source))
  const fromExtra = opts.extraVars && Object.hasOwn(opts.extraVars, VAULT_VAR)
  const vaultOf = (vars: Vars): string | undefined => {
    if (!Object.hasOwn(vars, VAULT_VAR)) return undefined
    const base = fromExtra ? (opts.cwd ?? process.cwd()) : inventoryDir
    return vaultFileOf(vars[VAULT_VAR], base, { file: fromExtra ? '--extra-vars' : raw.source })
  }
  for (const [name, h] of hosts) {
    const ctx: ResolveContext = { vaultFile: vaultOf(h.vars), host: name, opened }
    // connection secrets (ansible_password, ansible_become_password, muster_ssh_passphrase) read the same vault
    const ssh = hasRef(h.ssh) ? (resolveSecretRefs(h.ssh as Vars, ctx) as SshSettings) : h.ssh
    hosts.set(name, { ...h, ssh, vars: resolveSecretRefs(h.vars, ctx) })
  }
  const allVars = { ...groups.get(ALL)!.vars, ...(fromExtra ? { [VAULT_VAR]: opts.extraVars![VAULT_VAR] } : {}) }
  const ctx: ResolveContext = { vaultFile: vaultOf(allVars), opened }
  for (const g of groups.values()) g.vars = resolveSecretRefs(g.vars, ctx)
}

/**
 * Give each host with `ssh.jump` its bastion's HostInfo: another inventory
 * host (with its own settings, and perhaps its own bastion), or one written
 * `[user@]address[:port]`, which logs in with the host's own key and
 * known_hosts. A host is never its own bastion (a group-wide jump leaves the
 * bastion direct), `none` means direct, and a loop is an error.
 */
function resolveJumps(hosts: Map<string, HostInfo>, positions: Map<string, SourcePosition>): void {
  const done = new Map<string, HostInfo>()
  const resolving = new Set<string>()
  const resolve = (name: string): HostInfo => {
    const known = done.get(name)
    if (known) return known
    const h = hosts.get(name)!
    const spec = h.ssh.jump
    if (!spec || spec === 'none' || spec === name) {
      done.set(name, h)
      return h
    }
    if (resolving.has(name)) throw new InventoryError(`jump hosts form a loop: ${[...resolving, name].join(' -> ')}`, positions.get(name) ?? { file: '' }, name)
    resolving.add(name)
    const via = hosts.has(spec) ? resolve(spec) : jumpChainFromSpec(spec, h, positions.get(name))
    resolving.delete(name)
    const withJump: HostInfo = { ...h, jump: via }
    done.set(name, withJump)
    return withJump
  }
  for (const name of hosts.keys()) hosts.set(name, resolve(name))
}

/** `a,b` as OpenSSH reads -J: through a, then b; the last is the host's own bastion. */
function jumpChainFromSpec(spec: string, from: HostInfo, position: SourcePosition | undefined): HostInfo {
  let via: HostInfo | undefined
  for (const one of spec.split(',')) {
    const h = jumpFromSpec(one, from, position, spec)
    via = via ? { ...h, jump: via } : h
  }
  return via!
}

function jumpFromSpec(spec: string, from: HostInfo, position: SourcePosition | undefined, whole = spec): HostInfo {
  const m = /^(?:([^@:\s,]+)@)?([^@:\s,[\]]+|\[[0-9a-fA-F:.%\w]+\])(?::(\d{1,5}))?$/.exec(spec)
  const port = m?.[3] !== undefined ? Number(m[3]) : 22
  if (!m || port < 1 || port > 65535) {
    throw new InventoryError(`jump "${whole}" is neither a host of this inventory nor [user@]address[:port] (a chain: a,b)`, position ?? { file: '' }, from.name)
  }
  const user = m[1] ?? from.user
  const ssh: SshSettings = { user, port, become: false }
  for (const k of ['identityFile', 'knownHosts', 'passphrase', 'connectTimeoutMs'] as const) if (from.ssh[k] !== undefined) (ssh as Record<string, unknown>)[k] = from.ssh[k]
  return { name: spec, address: m[2]!.replace(/^\[|\]$/g, ''), port, user, become: false, groups: [], vars: {}, ssh }
}

/**
 * Later layers win key by key. An object-valued var is replaced whole, not
 * deep-merged: Ansible's default (hash_behaviour=replace), and the only rule
 * under which a host can take a key out of a group's dict.
 */
function resolveHost(name: string, groups: string[], layers: { vars: Vars; settings: RawSettings }[]): HostInfo {
  const vars: Vars = {}
  const s: RawSettings = {}
  for (const layer of layers) {
    Object.assign(vars, layer.vars)
    Object.assign(s, layer.settings)
  }
  const user = s.user?.value ?? 'root'
  const port = s.port?.value ?? 22
  const ssh: SshSettings = { user, port, become: s.become?.value ?? user !== 'root' }
  if (s.identityFile) ssh.identityFile = s.identityFile.value
  if (s.knownHosts) ssh.knownHosts = s.knownHosts.value
  if (s.passphrase) ssh.passphrase = s.passphrase.value
  if (s.password) ssh.password = s.password.value
  if (s.connectTimeoutMs) ssh.connectTimeoutMs = s.connectTimeoutMs.value
  if (s.jump) ssh.jump = s.jump.value
  if (s.becomeMethod) ssh.becomeMethod = s.becomeMethod.value
  if (s.becomeUser) ssh.becomeUser = s.becomeUser.value
  if (s.becomePassword) ssh.becomePassword = s.becomePassword.value
  checkBecome(name, ssh, s)
  return { name, address: s.address?.value ?? name, port, user, become: ssh.become!, groups, vars, ssh }
}

/** Combinations no host could honour, refused before any connection (exit 64) rather than failing on every host. */
function checkBecome(name: string, ssh: SshSettings, s: RawSettings): void {
  if (!ssh.become || ssh.user === (ssh.becomeUser ?? 'root')) return
  const where = (s.becomeMethod ?? s.becomePassword ?? s.become)?.position ?? { file: '' }
  if (ssh.becomeMethod === 'su' && !ssh.becomePassword) {
    throw new InventoryError(`become method su needs the target user's password (ansible_become_password, or becomePassword)`, where, name)
  }
  if (ssh.becomeMethod === 'doas' && ssh.becomePassword) {
    throw new InventoryError('become method doas reads a password from a terminal only: give the login user a `permit nopass` rule in doas.conf and drop the password', where, name)
  }
}

function mergeHosts(raw: RawHost[]): Map<string, Host> {
  const hosts = new Map<string, Host>()
  for (const h of raw) {
    const seen = hosts.get(h.name)
    if (!seen) {
      hosts.set(h.name, { name: h.name, position: h.position, vars: { ...h.vars }, settings: { ...h.settings } })
      continue
    }
    const where = { what: `host ${h.name}`, first: seen.position, position: h.position, host: h.name }
    mergeVars(seen.vars, h.vars, where)
    mergeSettings(seen.settings, h.settings, where)
  }
  return hosts
}

function mergeGroups(raw: RawInventory): Map<string, Group> {
  const groups = new Map<string, Group>()
  const get = (name: string, position: SourcePosition): Group => {
    let g = groups.get(name)
    if (!g) {
      g = { name, position, declared: name === ALL || name === UNGROUPED, hosts: [], children: [], vars: {}, settings: {} }
      groups.set(name, g)
    }
    return g
  }
  const origin = { file: raw.source }
  get(ALL, origin)
  get(UNGROUPED, origin)
  // first mention (as a group or as someone's child) fixes a group's place in the order
  for (const r of raw.groups) {
    get(r.name, r.position)
    for (const c of r.children) get(c.value, c.position)
  }
  for (const r of raw.groups) {
    const g = groups.get(r.name)!
    if (r.declares && !g.declared) {
      g.declared = true
      g.position = r.position
    }
    g.hosts.push(...r.hosts)
    g.children.push(...r.children)
    const where = { what: `group ${r.name}`, first: g.position, position: r.position }
    mergeVars(g.vars, r.vars, where)
    mergeSettings(g.settings, r.settings, where)
  }
  // a host that names its groups makes them exist, and is a member like any listed host
  for (const h of raw.hosts) {
    for (const m of h.groups) {
      const g = get(m.value, m.position)
      g.declared = true
      g.hosts.push({ value: h.name, position: h.position })
    }
  }
  return groups
}

interface Where {
  what: string
  first: SourcePosition
  position: SourcePosition
  host?: string
}

function mergeVars(into: Vars, from: Vars, where: Where): void {
  for (const [k, v] of Object.entries(from)) {
    if (Object.hasOwn(into, k) && !sameValue(into[k], v)) conflict(`var '${k}'`, into[k], v, where)
    into[k] = v
  }
}

function mergeSettings(into: RawSettings, from: RawSettings, where: Where): void {
  for (const key of Object.keys(from) as SettingKey[]) {
    const a = into[key]
    const b = from[key]!
    if (a && !sameValue(a.value, b.value)) conflict(key, a.value, b.value, { ...where, first: a.position, position: b.position })
    ;(into as Record<string, unknown>)[key] = b
  }
}

function conflict(what: string, a: unknown, b: unknown, where: Where): never {
  const first = where.first.line ? `${where.first.file}:${where.first.line}` : where.first.file
  throw new InventoryError(
    `${where.host ? '' : `${where.what}: `}declared again with a different ${what} (${show(b)}, earlier ${show(a)} at ${first})`,
    where.position,
    where.host,
  )
}

function checkReferences(groups: Map<string, Group>, hosts: Map<string, Host>): void {
  for (const g of groups.values()) {
    if (!g.declared) {
      throw new InventoryError(`vars for group '${g.name}', which is not defined`, g.position)
    }
    for (const c of g.children) {
      if (c.value === ALL) throw new InventoryError(`group ${g.name}: 'all' cannot be a child group`, c.position)
      if (!groups.get(c.value)?.declared) {
        throw new InventoryError(`group ${g.name}: child group '${c.value}' is not defined`, c.position)
      }
    }
    for (const h of g.hosts) {
      if (!hosts.has(h.value)) throw new InventoryError(`group ${g.name} lists host '${h.value}', which is not defined`, h.position, h.value)
    }
  }
}

function parentsOf(groups: Map<string, Group>): Map<string, string[]> {
  const parents = new Map<string, string[]>([...groups.keys()].map((g) => [g, []]))
  for (const g of groups.values()) for (const c of g.children) {
    const list = parents.get(c.value)!
    if (!list.includes(g.name)) list.push(g.name)
  }
  // every group without a parent hangs under "all", as Ansible reconciles it
  for (const [name, list] of parents) if (name !== ALL && list.length === 0) list.push(ALL)
  return parents
}

function checkCycles(groups: Map<string, Group>): void {
  const state = new Map<string, 'visiting' | 'done'>()
  const path: string[] = []
  const visit = (name: string, via?: Located<string>): void => {
    if (state.get(name) === 'done') return
    if (state.get(name) === 'visiting') {
      const cycle = [...path.slice(path.indexOf(name)), name].join(' -> ')
      throw new InventoryError(`cycle in group children: ${cycle}`, via?.position ?? groups.get(name)!.position)
    }
    state.set(name, 'visiting')
    path.push(name)
    for (const c of groups.get(name)!.children) visit(c.value, c)
    path.pop()
    state.set(name, 'done')
  }
  for (const name of groups.keys()) visit(name)
}

/** Longest path from "all": a group sits below every one of its parents. */
function depthOf(groups: Map<string, Group>, parents: Map<string, string[]>): Map<string, number> {
  const depth = new Map<string, number>([[ALL, 0]])
  const of = (name: string): number => {
    const known = depth.get(name)
    if (known !== undefined) return known
    const d = 1 + Math.max(...parents.get(name)!.map(of))
    depth.set(name, d)
    return d
  }
  for (const name of groups.keys()) of(name)
  return depth
}

function unique(list: string[]): string[] {
  return [...new Set(list)]
}
