/**
 * What muster would write, read from muster itself: the Ansible projects the
 * bench generates must leave hosts byte-for-byte as muster does (the two
 * tools take turns on the same hosts, and a file that differs would be
 * "changed" by each in turn). So every file and template an Ansible task
 * writes gets its content, mode and owner from the muster resource for the
 * same path and host: the playbook's roles are expanded per host, the
 * resource is planned against an absent file, and its apply runs against a
 * recording context that keeps the bytes it would send.
 */
import { flattenItems, type HostContext, type Playbook } from '../../src/engine/playbook.ts'
import type { ApplyContext, Resource } from '../../src/contract/resource.ts'
import type { HostFacts } from '../../src/engine/host-facts.ts'
import type { HostInfo, Inventory } from '../../src/inventory/types.ts'
import { selectHosts } from '../../src/inventory/patterns.ts'
import { pathFact, type PathState } from '../../src/facts/path.ts'
import { emptyStats, type Connection, type ExecResult } from '../../src/ssh/connection.ts'

export interface ExpandedHost {
  host: HostInfo
  /** Every resource of every play the host is in, in run order. */
  resources: Resource[]
}

/** Roles expanded per host as the engine does (facts are not gathered: a role that reads them fails here, loudly). */
export function expandPlaybook(playbook: Playbook, inventory: Inventory): Map<string, ExpandedHost> {
  const out = new Map<string, ExpandedHost>()
  for (const play of playbook.plays) {
    for (const name of selectHosts(inventory, play.hosts)) {
      const host = inventory.hosts.get(name)!
      const ctx: HostContext = {
        host,
        name,
        vars: host.vars,
        need<T>(v: string): T {
          if (host.vars[v] === undefined) throw new Error(`host ${name}: the playbook needs var ${v}`)
          return host.vars[v] as T
        },
        get facts(): HostFacts {
          throw new Error(`host ${name}: a role reads host facts; the bench's Ansible generator cannot expand it without a host`)
        },
        inventory,
        hostsOf: (pattern: string) => selectHosts(inventory, pattern).map((n) => inventory.hosts.get(n)!),
      }
      const entry = out.get(name) ?? { host, resources: [] }
      for (const role of play.roles) entry.resources.push(...flattenItems(role.build(ctx)))
      out.set(name, entry)
    }
  }
  return out
}

export interface MusterFile {
  path: string
  content: Buffer
  mode: string
  owner: string
  group: string
}

const ABSENT: PathState = { type: 'absent' }

/** The bytes, mode and owner muster's file/template resource `id` writes on `host`. */
export async function musterFile(expanded: Map<string, ExpandedHost>, hostName: string, id: string): Promise<MusterFile> {
  const h = expanded.get(hostName)
  if (!h) throw new Error(`bench/ansible: host ${hostName} is in no play of the muster playbook`)
  const r = h.resources.find((x) => x.id === id)
  if (!r) throw new Error(`bench/ansible: the muster playbook has no resource ${id} on ${hostName}; the Ansible project must follow the roles (update bench/ansible)`)
  const observed = Object.fromEntries(Object.keys(r.probe).map((k) => [k, ABSENT]))
  const plan = r.plan(observed as never)
  if (plan.kind !== 'change') throw new Error(`bench/ansible: ${id} on ${hostName} plans ${plan.kind} against an absent file`)
  const predicted = plan.predicts
    ?.filter((p) => 'query' in p && p.query.kind === pathFact)
    .map((p) => ('query' in p ? (p.value as PathState) : ABSENT))
    .find((s) => s.type === 'file')
  if (!predicted || predicted.type !== 'file') throw new Error(`bench/ansible: ${id} on ${hostName} predicts no file`)
  let content: Buffer | undefined
  const keep = (data: string | Buffer) => (content = Buffer.isBuffer(data) ? data : Buffer.from(data, 'utf8'))
  const done: ExecResult = { code: 0, stdout: '/tmp/muster-upload.bench\n', stderr: '' }
  const conn: Connection = {
    host: hostName,
    stats: emptyStats(),
    exec: async (_c, o) => (o?.stdin !== undefined && keep(o.stdin), done),
    put: async (data) => void keep(data),
    get: async () => Buffer.alloc(0),
    close: async () => {},
  }
  const ctx: ApplyContext = {
    host: h.host,
    conn,
    run: async (_c, o) => (o?.stdin !== undefined && keep(o.stdin), done),
    log: () => {},
    connectTo: async () => conn,
  }
  await plan.apply(ctx)
  if (!content) throw new Error(`bench/ansible: ${id} on ${hostName} sent no content`)
  return { path: id.slice(id.indexOf(':') + 1), content, mode: predicted.mode, owner: predicted.owner, group: predicted.group }
}
