import { expect } from 'chai'
import { parseShard, partition, partitionAll, planShard, shardOf, unshardable } from '../../../src/engine/shard.ts'
import { playbook, role } from '../../../src/engine/playbook.ts'
import type { HostInfo, Inventory } from '../../../src/inventory/types.ts'

const names = (n: number, from = 0): string[] => Array.from({ length: n }, (_, i) => `host-${String(i + from).padStart(5, '0')}`)
const r = role('r', () => [])

function inventoryOf(hosts: string[], groups: Record<string, string[]> = {}): Inventory {
  const m = new Map<string, HostInfo>()
  const of = (n: string): string[] => ['all', ...Object.entries(groups).filter(([, hs]) => hs.includes(n)).map(([g]) => g)]
  for (const n of hosts) m.set(n, { name: n, address: '127.0.0.1', port: 22, user: 'root', become: false, groups: of(n), vars: {}, ssh: {} })
  const g = new Map([['all', { name: 'all', hosts, children: [], vars: {} }]])
  for (const [name, hs] of Object.entries(groups)) g.set(name, { name, hosts: hs, children: [], vars: {} })
  return { source: 'test', hosts: m, groups: g }
}

describe('--shard K/N (rendezvous hashing)', () => {
  it('parses K/N with K from 0, and says what is wrong otherwise', () => {
    expect(parseShard('2/3')).to.deep.equal({ index: 2, count: 3 })
    expect(() => parseShard('3/3')).to.throw(/K counts from 0/)
    expect(() => parseShard('0/0')).to.throw(/at least 1/)
    expect(() => parseShard('1-3')).to.throw(/expected K\/N/)
  })

  it('every host lands in exactly one shard, the shards are near even, and partition() agrees with partitionAll()', () => {
    const hosts = names(1000)
    for (const n of [1, 3, 7]) {
      const parts = partitionAll(hosts, n)
      expect(parts.flat().sort()).to.deep.equal(hosts)
      for (const p of parts) expect(p.length).to.be.within((1000 / n) * 0.75, (1000 / n) * 1.25)
      expect(partition(hosts, { index: n - 1, count: n })).to.deep.equal(parts[n - 1])
    }
  })

  it('adding one host to a 1,000-host inventory moves at most that host', () => {
    const before = names(1000)
    for (const added of ['host-99999', 'web-new', 'db-00001']) {
      const after = [...before.slice(0, 500), added, ...before.slice(500)] // inserted mid-inventory, as a slicing scheme would not survive
      for (const n of [2, 3, 7, 16]) {
        const was = partitionAll(before, n)
        const now = partitionAll(after, n)
        for (let k = 0; k < n; k++) expect(now[k]!.filter((h) => h !== added), `shard ${k}/${n} after adding ${added}`).to.deep.equal(was[k])
      }
    }
  })

  it('going from N to N+1 shards moves only hosts into the new shard', () => {
    const hosts = names(1000)
    for (const n of [1, 3, 6]) {
      const moved = hosts.filter((h) => shardOf(h, n) !== shardOf(h, n + 1))
      for (const h of moved) expect(shardOf(h, n + 1)).to.equal(n)
      expect(moved.length).to.be.within(1000 / (n + 1) / 1.5, (1000 / (n + 1)) * 1.5)
    }
  })

  describe('playbooks that cannot be split', () => {
    it('maxFailPercentage: refused in check and apply, naming the play', () => {
      const pb = playbook({ name: 'rollout', hosts: 'all', roles: [r], maxFailPercentage: 10 })
      for (const mode of ['check', 'apply'] as const) expect(unshardable(pb, mode)).to.match(/^play 1 "rollout" has maxFailPercentage 10/)
    })
    it('serial: refused in apply (batches would run in every shard at once), allowed in check', () => {
      const pb = playbook({ name: 'deploy', hosts: 'all', roles: [r], serial: 2 })
      expect(unshardable(pb, 'apply')).to.match(/^play 1 "deploy" is a serial rollout \(serial: 2\)/)
      expect(unshardable(pb, 'check')).to.equal(undefined)
    })
    it('a barrier between plays (a deploy lock, a replica after its primary): refused in apply, allowed in check', () => {
      const pb = playbook({ name: 'lock', hosts: 'all', roles: [r] }, { name: 'work', hosts: 'all', roles: [r] }, { name: 'unlock', hosts: 'all', roles: [r], always: true })
      const why = unshardable(pb, 'apply')!
      expect(why).to.match(/^play 2 "work" starts only when play 1 "lock" has finished on all its hosts/)
      expect(why).to.contain('always')
      expect(unshardable(pb, 'check')).to.equal(undefined)
    })
    it('a single plain play is fine in both modes', () => {
      const pb = playbook({ name: 'fleet', hosts: 'all', roles: [r] })
      expect(unshardable(pb, 'apply')).to.equal(undefined)
    })
    it('planShard refuses with a UsageError (exit 64) that names the play', () => {
      const pb = playbook({ name: 'deploy', hosts: 'all', roles: [r], serial: 1 })
      expect(() => planShard(pb, inventoryOf(names(10)), 'apply', { index: 0, count: 2 }, undefined)).to.throw(/--shard 0\/2: cannot split this playbook safely: play 1 "deploy" is a serial rollout/).with.property('name', 'UsageError')
    })
  })

  it('planShard splits the hosts of every play within --limit, and records them all', () => {
    const inv = inventoryOf(names(20), { web: names(10), db: names(10, 10) })
    const pb = playbook({ name: 'web', hosts: 'web', roles: [r] }, { name: 'db', hosts: 'db', roles: [r] })
    const limit = new Set(names(15))
    const plans = [0, 1, 2].map((k) => planShard(pb, inv, 'check', { index: k, count: 3 }, limit))
    expect(plans[0]!.selected).to.deep.equal(names(15))
    expect(plans.flatMap((p) => [...p.mine]).sort()).to.deep.equal(names(15))
  })
})
