import { expect } from 'chai'
import { execFileSync, spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { lstat, mkdir, readdir, readlink, symlink, writeFile } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { commandName, deployLock, deployUnlock, localLiveness, parseHolder, thisRun, DeployLockedError, type LockHolder } from '../../../src/resources/deploy/lock.ts'
import { switchScript } from '../../../src/resources/deploy/switch-release.ts'
import { pruneReleases } from '../../../src/resources/deploy/prune.ts'
import { sharedLinks } from '../../../src/resources/deploy/shared-links.ts'
import { untilDeployed } from '../../../src/resources/deploy/until-deployed.ts'
import { drainServer } from '../../../src/resources/deploy/rotation.ts'
import { preSwitchCheck, startCommand } from '../../../src/resources/deploy/pre-switch-check.ts'
import { releaseSource } from '../../../src/resources/deploy/release-source.ts'
import type { ReleaseState } from '../../../src/resources/deploy/release-state.ts'
import { file } from '../../../src/resources/file.ts'
import type { Release } from '../../../src/resources/release.ts'
import { asChange, converge, localCtx, observe, useTempDir } from './file-family.support.ts'

const A = '20260101T000000Z-aaaaaaaaaaaa'
const B = '20260102T000000Z-bbbbbbbbbbbb'

function holder(over: Partial<LockHolder> = {}): LockHolder {
  return { token: 'a1b2c3', user: 'ann', controller: 'ctl-1', pid: 4242, pidStart: 77, bootId: 'boot', since: '2026-01-01T10:00:00.000Z', command: 'muster deploy playbooks/deploy.ts', ...over }
}

async function releaseDir(root: string, id: string): Promise<void> {
  await mkdir(join(root, 'releases', id, 'public'), { recursive: true })
  await writeFile(join(root, 'releases', id, '.muster-release.json'), '{}')
}

describe('deploy: the lock', () => {
  const tmp = useTempDir('deploy-lock')
  const me = holder({ token: 'fee1', user: 'me', pid: 1 })

  it('is taken where there is none, held by this run after, and released only by it', async () => {
    const root = join(tmp.path, 'app')
    const lock = deployLock({ host: 'web-01', root, holder: me })
    expect(asChange(await converge(lock)).summary).to.equal('take the deploy lock (me@ctl-1, pid 1)')
    expect(parseHolder(readFileSync(join(root, '.deploy-lock'), 'utf8'))).to.deep.equal(me)
    expect(await converge(lock)).to.deep.equal({ kind: 'ok', detail: 'held by this run' })
    // another run's unlock leaves it alone
    const other = deployUnlock({ host: 'web-01', root, holder: holder() })
    expect((await converge(other)).kind).to.equal('ok')
    expect(existsSync(join(root, '.deploy-lock'))).to.equal(true)
    expect(asChange(await converge(deployUnlock({ host: 'web-01', root, holder: me }))).summary).to.equal('release the deploy lock')
    expect(existsSync(join(root, '.deploy-lock'))).to.equal(false)
  })

  it('held by a live process elsewhere: the plan fails naming who and since when', async () => {
    const root = join(tmp.path, 'app')
    await mkdir(root)
    await writeFile(join(root, '.deploy-lock'), JSON.stringify(holder()))
    const lock = deployLock({ host: 'web-01', root, holder: me, liveness: () => 'alive' })
    let err: unknown
    try {
      lock.plan(await observe(lock))
    } catch (e) {
      err = e
    }
    expect(err).to.be.instanceOf(DeployLockedError)
    expect((err as Error).message).to.match(/^web-01: the deploy lock is held by ann@ctl-1 \(pid 4242, `muster deploy playbooks\/deploy.ts`\) since 2026-01-01T10:00:00.000Z \(\d+ h ago\); .*--force-unlock/)
    // a holder on another controller cannot be checked: alive until proven gone
    expect(() => deployLock({ host: 'web-01', root, holder: me, liveness: () => 'unknown' }).plan({ lock: JSON.stringify(holder()) })).to.throw(DeployLockedError)
  })

  it('a stale lock (its process gone) is taken over; a live one only with force', async () => {
    const root = join(tmp.path, 'app')
    await mkdir(root)
    await writeFile(join(root, '.deploy-lock'), JSON.stringify(holder()))
    const stale = deployLock({ host: 'web-01', root, holder: me, liveness: () => 'gone' })
    expect(asChange(await converge(stale)).summary).to.match(/^take over a stale deploy lock: ann@ctl-1 \(pid 4242/)
    expect(parseHolder(readFileSync(join(root, '.deploy-lock'), 'utf8'))!.token).to.equal('fee1')

    await writeFile(join(root, '.deploy-lock'), JSON.stringify(holder()))
    const forced = deployLock({ host: 'web-01', root, holder: me, force: true, liveness: () => 'alive' })
    expect(asChange(await converge(forced)).summary).to.match(/--force-unlock\)$/)
    expect(parseHolder(readFileSync(join(root, '.deploy-lock'), 'utf8'))!.token).to.equal('fee1')
  })

  it('a lock that changed hands between plan and apply is not overwritten', async () => {
    const root = join(tmp.path, 'app')
    const lock = deployLock({ host: 'web-01', root, holder: me })
    const plan = asChange(lock.plan(await observe(lock)))
    await mkdir(root, { recursive: true })
    await writeFile(join(root, '.deploy-lock'), JSON.stringify(holder({ token: 'beef' })))
    let err: unknown
    await plan.apply(localCtx).catch((e: unknown) => (err = e))
    expect(err).to.be.instanceOf(DeployLockedError)
    expect(parseHolder(readFileSync(join(root, '.deploy-lock'), 'utf8'))!.token).to.equal('beef')
  })

  it('liveness: this process is alive, an exited one is gone, another controller is unknown', async () => {
    const self = thisRun()
    expect(self.pid).to.equal(process.pid)
    expect(localLiveness(self)).to.equal('alive')
    expect(localLiveness({ ...self, pidStart: (self.pidStart ?? 0) + 1 }), 'a reused PID').to.equal('gone')
    const child = spawn('true')
    await new Promise((r) => child.on('close', r))
    expect(localLiveness({ ...self, pid: child.pid!, pidStart: null })).to.equal('gone')
    expect(localLiveness({ ...self, controller: `not-${hostname()}` })).to.equal('unknown')
    expect(parseHolder('garbage')).to.equal(null)
  })

  it('names the holder by its command, never by option values (an -e value may be a secret)', () => {
    expect(commandName(['deploy', 'playbooks/deploy.ts', '-i', 'inv.ts', '-e', 'dbPassword=hunter2'])).to.equal('muster deploy playbooks/deploy.ts')
    expect(commandName(['--json', 'deploy'])).to.equal('muster')
  })
})

describe('deploy: switch, prune, shared links, first release', () => {
  const tmp = useTempDir('deploy-steps')

  it('switches current and previous by rename, and refuses a release without its manifest', async () => {
    const root = join(tmp.path, 'app')
    await releaseDir(root, A)
    await releaseDir(root, B)
    await symlink(join(root, 'releases', A), join(root, 'current'))
    await localCtx.run(switchScript(root, B, A))
    expect(await readlink(join(root, 'current'))).to.equal(join(root, 'releases', B))
    expect(await readlink(join(root, 'previous'))).to.equal(join(root, 'releases', A))
    await mkdir(join(root, 'releases', 'half'))
    let err: unknown
    await localCtx.run(switchScript(root, 'half', B)).catch((e: unknown) => (err = e))
    expect(String(err)).to.include('release half is not complete on this host')
    expect(await readlink(join(root, 'current')), 'current untouched').to.equal(join(root, 'releases', B))
    expect((await readdir(root)).filter((f) => f.includes('muster'))).to.deep.equal([])
  })

  it('prunes beyond keepReleases, never current or previous', async () => {
    const root = join(tmp.path, 'app')
    const ids = ['r1', 'r2', 'r3', 'r4']
    for (const id of ids) {
      await releaseDir(root, id)
      await new Promise((r) => setTimeout(r, 1100)) // arrival times a second apart (ctime)
    }
    await symlink(join(root, 'releases', 'r1'), join(root, 'current'))
    await symlink(join(root, 'releases', 'r2'), join(root, 'previous'))
    const p = asChange(await converge(pruneReleases({ root, keep: 1 })))
    expect(p.summary).to.equal('remove 1 old release(s), keeping 1: r3')
    expect((await readdir(join(root, 'releases'))).sort()).to.deep.equal(['r1', 'r2', 'r4'])
    expect((await converge(pruneReleases({ root, keep: 1 }))).kind).to.equal('ok')
  }).timeout(10_000)

  it('links paths of a release to shared/, replacing what the release shipped there', async () => {
    const root = join(tmp.path, 'app')
    await releaseDir(root, A)
    await mkdir(join(root, 'releases', A, 'public', 'uploads'))
    const r = sharedLinks({ id: A } as Release, { root, links: { 'public/uploads': 'uploads', 'log': 'log' } })
    expect(asChange(await converge(r)).summary).to.equal(`release ${A}: link public/uploads -> ${root}/shared/uploads, log -> ${root}/shared/log`)
    expect(await readlink(join(root, 'releases', A, 'public', 'uploads'))).to.equal(`${root}/shared/uploads`)
    expect((await lstat(`${root}/shared/log`)).isDirectory()).to.equal(true)
    expect((await converge(r)).kind).to.equal('ok')
    expect(() => sharedLinks(A, { root, links: { '../x': 'y' } })).to.throw('relative')
  })

  it('untilDeployed: the first release goes in, later runs leave `current` to deploys', async () => {
    const root = join(tmp.path, 'app')
    const marker = untilDeployed(root, file(join(tmp.path, 'first'), { content: 'x' }))
    expect((await converge(marker)).kind).to.equal('change')
    await mkdir(root)
    await symlink('/nowhere', join(root, 'current'))
    const again = untilDeployed(root, file(join(tmp.path, 'second'), { content: 'y' }))
    const plan = await converge(again)
    expect(plan).to.deep.equal({ kind: 'ok', detail: `${root}/current exists: releases are deployed with \`muster deploy\`` })
    expect(existsSync(join(tmp.path, 'second'))).to.equal(false)
  })
})

describe('deploy: drain and pre-switch check plans', () => {
  const live: ReleaseState = { current: A, currentTarget: `/srv/app/releases/${A}`, previous: null, running: { pid: 5, release: A }, releases: [{ id: A, arrived: 1, complete: true }] }
  const absent = { type: 'absent' } as const

  it('drains only when the host has something to deploy, and returns a server an interrupted deploy left drained', () => {
    const mk = (id: string) => drainServer({ host: 'web-01', lb: 'lb-01', backend: 'web', deploy: { root: '/srv/app', target: { id } as Release, unit: 'app.service' } })
    expect(mk(A).drain.plan({ marker: absent, state: live } as never)).to.deep.equal({ kind: 'ok', detail: `release ${A} is live: stays in rotation` })
    const back = asChange(mk(A).drain.plan({ marker: { type: 'file', mode: '0644', owner: 'root', group: 'root', size: 1, mtime: 0, sha256: '' }, state: live } as never))
    expect(back.summary).to.equal(`release ${A} is live: return lb-01 web/web-01 to rotation (left drained by an interrupted deploy)`)
    const d = mk(B)
    expect(asChange(d.drain.plan({ marker: absent, state: live } as never)).summary).to.equal(`drain lb-01 web/web-01 for release ${B} (from ${A})`)
    expect(d.drain.notify).to.deep.equal([d.undrain])
    expect(d.undrain.name).to.equal('return web/web-01 to rotation')
  })

  it('the pre-switch check starts the release in a transient unit on the side port, its port set after the environment file', () => {
    const opts = { host: 'web-01', root: '/srv/app', target: { id: B } as Release, unit: 'app.service', port: 3001, command: ['/usr/bin/node', 'server.js'], user: 'app', environmentFile: '/srv/app/shared/app.env', env: { PORT: '3001' } }
    expect(preSwitchCheck(opts).plan({ state: live } as never).kind).to.equal('change')
    expect(preSwitchCheck({ ...opts, target: { id: A } as Release }).plan({ state: live } as never).kind).to.equal('ok')
    expect(startCommand(opts, `/srv/app/releases/${B}`)).to.equal(
      'systemctl stop muster-pre-switch-check-3001.service 2>/dev/null; systemctl reset-failed muster-pre-switch-check-3001.service 2>/dev/null; ' +
        `systemd-run --unit=muster-pre-switch-check-3001.service --collect --quiet --property=RuntimeMaxSec=300 --working-directory=/srv/app/releases/${B} --uid=app --gid=app --property=EnvironmentFile=/srv/app/shared/app.env -- /usr/bin/env PORT=3001 /usr/bin/node server.js`,
    )
  })
})

describe('deploy: release source', () => {
  const tmp = useTempDir('deploy-source')

  it('a directory as it is; a git ref exported at that commit (cached), with the commit time on its files', async () => {
    const repo = join(tmp.path, 'repo')
    await mkdir(join(repo, 'app'), { recursive: true })
    const git = (...args: string[]) => execFileSync('git', ['-C', repo, ...args], { encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_DATE: '2026-02-03T04:05:06Z', GIT_COMMITTER_DATE: '2026-02-03T04:05:06Z' } })
    git('init', '-q')
    git('config', 'user.email', 't@example.invalid')
    git('config', 'user.name', 't')
    await writeFile(join(repo, 'app', 'server.js'), 'v1')
    git('add', '.')
    git('commit', '-qm', 'v1')
    git('tag', 'v1')
    // a later commit elsewhere in the repository: not the app's time
    await writeFile(join(repo, 'README'), 'later')
    execFileSync('git', ['-C', repo, 'add', 'README'])
    execFileSync('git', ['-C', repo, 'commit', '-qm', 'docs'], { env: { ...process.env, GIT_AUTHOR_DATE: '2026-03-01T00:00:00Z', GIT_COMMITTER_DATE: '2026-03-01T00:00:00Z' } })
    await writeFile(join(repo, 'app', 'server.js'), 'v2 (not committed)')
    const app = join(repo, 'app')
    expect(releaseSource(undefined, { app })).to.equal(app)
    expect(releaseSource(app, { app })).to.equal(app)
    const cache = join(tmp.path, 'cache')
    const out = releaseSource('v1', { app, cacheDir: cache })
    expect(readFileSync(join(out, 'server.js'), 'utf8')).to.equal('v1')
    expect((await lstat(join(out, 'server.js'))).mtime.toISOString()).to.equal('2026-02-03T04:05:06.000Z')
    expect(releaseSource('v1', { app, cacheDir: cache })).to.equal(out)
    // HEAD is the later commit, but the app's content (and time) is v1's: the same release
    const head = releaseSource('HEAD', { app, cacheDir: cache })
    expect((await lstat(join(head, 'server.js'))).mtime.toISOString()).to.equal('2026-02-03T04:05:06.000Z')
    expect((await lstat(head)).mtime.toISOString()).to.equal('2026-02-03T04:05:06.000Z')
    expect(() => releaseSource('no-such-ref', { app, cacheDir: cache })).to.throw('neither a directory nor a commit, tag or branch')
  })
})
