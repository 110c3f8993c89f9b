import { expect } from 'chai'
import { mkdir, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parseReleaseState, releaseOfTarget, releaseState, releaseStateFact, type ReleaseState } from '../../../src/resources/deploy/release-state.ts'
import { planDeploy, previousRelease, targetId } from '../../../src/resources/deploy/target.ts'
import { releasesToPrune } from '../../../src/resources/deploy/prune.ts'
import { parseShowStat } from '../../../src/resources/deploy/haproxy-runtime.ts'
import { healthCommand, isHealthy, parseHealth } from '../../../src/resources/deploy/health.ts'
import { deploySettings } from '../../../src/resources/deploy/settings.ts'
import type { Release } from '../../../src/resources/release.ts'
import { probeNow } from '../../support/record-probes.ts'
import { localConn, useTempDir } from './file-family.support.ts'

const A = '20260101T000000Z-aaaaaaaaaaaa'
const B = '20260102T000000Z-bbbbbbbbbbbb'
const C = '20260103T000000Z-cccccccccccc'
const rel = (id: string): Release => ({ id }) as Release

function state(over: Partial<ReleaseState> = {}): ReleaseState {
  return {
    current: A,
    currentTarget: `/srv/app/releases/${A}`,
    previous: null,
    running: { pid: 100, release: A },
    releases: [
      { id: A, arrived: 100, complete: true },
    ],
    ...over,
  }
}

describe('deploy: what a host has and what a deploy means there', () => {
  describe('release-state probe', () => {
    const tmp = useTempDir('deploy-state')

    it('reads current, previous and every release directory (newest arrival first) from a real tree', async () => {
      const root = join(tmp.path, 'app')
      for (const id of [A, B]) {
        await mkdir(join(root, 'releases', id), { recursive: true })
        await writeFile(join(root, 'releases', id, '.muster-release.json'), '{}')
      }
      await mkdir(join(root, 'releases', C)) // no manifest: a leftover
      await mkdir(join(root, 'releases', `.${C}.muster-x1`)) // a stage: hidden, not listed
      await symlink(join(root, 'releases', B), join(root, 'current'))
      await symlink(join(root, 'releases', A), join(root, 'previous'))
      const q = releaseState(root)
      const got = (await probeNow(localConn, releaseStateFact, [q.key])).get(q.key)!
      expect(got.current).to.equal(B)
      expect(got.previous).to.equal(A)
      expect(got.running).to.deep.equal({ pid: 0, release: null })
      expect(got.releases.map((r) => [r.id, r.complete]).sort()).to.deep.equal([[A, true], [B, true], [C, false]])
    })

    it('a host with nothing yet', async () => {
      const q = releaseState(join(tmp.path, 'none'))
      const got = (await probeNow(localConn, releaseStateFact, [q.key])).get(q.key)!
      expect(got).to.deep.equal({ current: null, currentTarget: null, previous: null, running: { pid: 0, release: null }, releases: [] })
    })

    it('parses the running process from its working directory', () => {
      const s = parseReleaseState(`current /srv/app/releases/${B}\nprevious -\npid 4242\ncwd /srv/app/releases/${A}\nrel 200 1 ${B}\nrel 100 1 ${A}\n`, '/srv/app')
      expect(s.running).to.deep.equal({ pid: 4242, release: A })
      expect(s.releases.map((r) => r.id)).to.deep.equal([B, A])
      expect(parseReleaseState('current -\npid 7\ncwd /opt/elsewhere\n', '/srv/app').running).to.deep.equal({ pid: 7, release: null })
    })

    it('a link target names a release only inside releases/', () => {
      expect(releaseOfTarget(`/srv/app/releases/${A}/`, '/srv/app/releases', '/srv/app')).to.equal(A)
      expect(releaseOfTarget(`releases/${A}`, '/srv/app/releases', '/srv/app')).to.equal(A)
      expect(releaseOfTarget('/opt/app', '/srv/app/releases', '/srv/app')).to.equal(null)
      expect(releaseOfTarget(`/srv/app/releases/${A}/public`, '/srv/app/releases', '/srv/app')).to.equal(null)
    })
  })

  describe('planDeploy', () => {
    it('a release already current and running is live: nothing to do', () => {
      expect(planDeploy(rel(A), state())).to.deep.equal({ kind: 'live', id: A })
    })
    it('another release means a switch, from the current one', () => {
      expect(planDeploy(rel(B), state())).to.deep.equal({ kind: 'switch', id: B, from: A })
      expect(planDeploy(rel(B), state({ current: null, running: { pid: 0, release: null } }))).to.deep.equal({ kind: 'switch', id: B, from: null })
    })
    it('current right but the service runs other code, or none: an interrupted switch, restart it', () => {
      expect(planDeploy(rel(B), state({ current: B, running: { pid: 9, release: A } }))).to.deep.equal({ kind: 'restart', id: B, running: A })
      expect(planDeploy(rel(B), state({ current: B, running: { pid: 0, release: null } }))).to.deep.equal({ kind: 'restart', id: B, running: null })
    })
    it('a process outside releases/ cannot be judged: the link decides', () => {
      expect(planDeploy(rel(A), state({ running: { pid: 9, release: null } }))).to.deep.equal({ kind: 'live', id: A })
    })
  })

  describe('rollback target (previous)', () => {
    const two = state({ current: B, previous: A, running: { pid: 1, release: B }, releases: [{ id: B, arrived: 2, complete: true }, { id: A, arrived: 1, complete: true }] })

    it('is the previous release, pinned once read: after the switch it does not chase the new `previous`', () => {
      const t = previousRelease()
      expect(planDeploy(t, two)).to.deep.equal({ kind: 'switch', id: A, from: B })
      const after = { ...two, current: A, previous: B, running: { pid: 2, release: A } }
      expect(planDeploy(t, after)).to.deep.equal({ kind: 'live', id: A })
    })

    it('refuses a host with no previous release, one equal to current, or one that was pruned', () => {
      expect(() => targetId(previousRelease(), state(), 'web-01')).to.throw('web-01: no previous release is recorded')
      expect(() => targetId(previousRelease(), state({ previous: A }))).to.throw('is the current one')
      expect(() => targetId(previousRelease(), { ...two, releases: [{ id: B, arrived: 2, complete: true }] })).to.throw('no longer on the host')
    })
  })

  describe('releasesToPrune', () => {
    const many = (ids: string[]) => ids.map((id, i) => ({ id, arrived: 1000 - i, complete: true }))
    it('keeps the newest N, and always current, previous and running', () => {
      const ids = ['r6', 'r5', 'r4', 'r3', 'r2', 'r1']
      expect(releasesToPrune(state({ current: 'r6', previous: 'r5', running: { pid: 1, release: 'r6' }, releases: many(ids) }), 5)).to.deep.equal(['r1'])
      expect(releasesToPrune(state({ current: 'r6', previous: 'r5', running: { pid: 1, release: 'r6' }, releases: many(ids) }), 1)).to.deep.equal(['r4', 'r3', 'r2', 'r1'])
      // after a rollback the current release is an old one: still kept
      expect(releasesToPrune(state({ current: 'r1', previous: 'r6', running: { pid: 1, release: 'r1' }, releases: many(ids) }), 2)).to.deep.equal(['r4', 'r3', 'r2'])
      expect(releasesToPrune(state({ releases: many(['r1']) }), 5)).to.deep.equal([])
    })
    it('refuses a keep below 1', () => {
      expect(() => releasesToPrune(state(), 0)).to.throw(RangeError)
    })
  })

  describe('settings', () => {
    it('appRoot and appUnit, with defaults', () => {
      expect(deploySettings({})).to.deep.equal({ root: '/srv/app', unit: 'app.service' })
      expect(deploySettings({ appRoot: '/opt/shop/', appUnit: 'shop' })).to.deep.equal({ root: '/opt/shop', unit: 'shop.service' })
      expect(() => deploySettings({ appRoot: 'relative' })).to.throw('absolute')
    })
  })
})

describe('deploy: HAProxy runtime API and health answers', () => {
  it('reads `show stat` by its header, leaving out FRONTEND and BACKEND rows', () => {
    const csv = [
      '# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight',
      'http,FRONTEND,,,3,9,9979,10,0,0,0,0,0,,,,,OPEN,',
      'web,web-01,0,0,2,5,,7,0,0,,0,,0,0,0,0,DRAIN,1',
      'web,web-02,1,0,0,5,,7,0,0,,0,,0,0,0,0,UP 1/2,1',
      'web,BACKEND,0,0,2,5,998,14,0,0,0,0,,0,0,0,0,UP,2',
      '',
    ].join('\n')
    expect(parseShowStat(csv)).to.deep.equal([
      { backend: 'web', server: 'web-01', status: 'DRAIN', sessions: 2, queued: 0 },
      { backend: 'web', server: 'web-02', status: 'UP 1/2', sessions: 0, queued: 1 },
    ])
    expect(() => parseShowStat('Unknown command.\n')).to.throw('no header')
  })

  it('health: status and body from curl, and what counts as healthy', () => {
    const cmd = healthCommand('http://127.0.0.1:3000/health')
    expect(cmd).to.match(/^curl -sS -o - --max-time 3 -w '\n__muster_http_status__ %\{http_code\}' http:\/\/127\.0\.0\.1:3000\/health$/)
    const ok = parseHealth(`{"ok":true,"release":"${A}"}\n__muster_http_status__ 200`, '')
    expect(ok).to.deep.equal({ status: 200, body: `{"ok":true,"release":"${A}"}` })
    expect(isHealthy(ok, { bodyIncludes: A })).to.equal(true)
    expect(isHealthy(ok, { bodyIncludes: B }), 'the old release still answering is not the new one healthy').to.equal(false)
    expect(isHealthy(parseHealth('{"ok":false}\n__muster_http_status__ 503', ''), {})).to.equal(false)
    expect(parseHealth('\n__muster_http_status__ 000', 'curl: (7) Failed to connect to 127.0.0.1 port 3000')).to.deep.include({ status: 0, error: 'curl: (7) Failed to connect to 127.0.0.1 port 3000' })
    expect(() => healthCommand('file:///etc/passwd')).to.throw('not an http(s) URL')
  })
})
