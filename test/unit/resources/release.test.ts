import { expect } from 'chai'
import { execFileSync } from 'node:child_process'
import { chmod, mkdir, readFile, readlink, stat, utimes, writeFile, readdir } from 'node:fs/promises'
import { createHash } from 'node:crypto'
import { join } from 'node:path'
import { buildRelease, releaseId, releaseUpload, currentRelease, releasePaths, unpackScript, RELEASE_MANIFEST } from '../../../src/resources/release.ts'
import { pathState, type PathState } from '../../../src/facts/path.ts'
import { asChange, converge, predicted, useTempDir } from './file-family.support.ts'

async function app(dir: string, files: Record<string, string>): Promise<void> {
  for (const [name, content] of Object.entries(files)) {
    await mkdir(join(dir, name, '..'), { recursive: true })
    await writeFile(join(dir, name), content)
  }
}

describe('release', () => {
  const tmp = useTempDir('release')
  const src = () => join(tmp.path, 'src')
  const cache = () => join(tmp.path, 'cache')

  describe('id', () => {
    it('is <UTC time>-<12 hex of the content hash>', () => {
      expect(releaseId(new Date('2026-01-02T03:04:05.678Z'), 'ab'.repeat(32))).to.equal('20260102T030405Z-abababababab')
    })

    it('is the same for the same content, whatever was built beside it, and changes with any file', async () => {
      await app(src(), { 'server.js': 'one', 'public/a.css': 'a' })
      const when = new Date('2026-03-01T10:00:00Z')
      for (const f of ['server.js', 'public/a.css', 'public']) await utimes(join(src(), f), when, when)
      const a = buildRelease({ source: src(), build: false, cacheDir: cache() })
      expect(a.id).to.match(/^20260301T100000Z-[0-9a-f]{12}$/)
      expect(a.time.toISOString()).to.equal('2026-03-01T10:00:00.000Z')

      // node_modules and .git are not the release's content: they change nothing
      await app(src(), { 'node_modules/dep/index.js': 'x', '.git/HEAD': 'ref' })
      const b = buildRelease({ source: src(), build: false, cacheDir: join(tmp.path, 'cache2') })
      expect(b.hash).to.equal(a.hash)

      await writeFile(join(src(), 'server.js'), 'two')
      const c = buildRelease({ source: src(), build: false, cacheDir: join(tmp.path, 'cache3') })
      expect(c.hash).not.to.equal(a.hash)

      // an executable bit is content too
      await writeFile(join(src(), 'server.js'), 'one')
      const d = buildRelease({ source: src(), build: false, cacheDir: join(tmp.path, 'cache4') })
      await chmod(join(src(), 'server.js'), 0o755)
      const e = buildRelease({ source: src(), build: false, cacheDir: join(tmp.path, 'cache5') })
      expect(d.hash).to.equal(a.hash)
      expect(e.hash).not.to.equal(d.hash)
    })

    it('called again for every host, it hashes again only when a file changed, even one rewritten to the same size and time; a commit moves the time', async () => {
      await app(src(), { 'server.js': 'one' })
      const when = new Date('2026-03-01T10:00:00Z')
      await utimes(join(src(), 'server.js'), when, when)
      // git, counted: a wrapper first on PATH that logs each call and runs the real one
      const bin = join(tmp.path, 'bin')
      const calls = join(tmp.path, 'git-calls')
      await mkdir(bin)
      await writeFile(join(bin, 'git'), `#!/bin/sh\necho "$*" >> ${calls}\nexec ${execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim()} "$@"\n`, { mode: 0o755 })
      const path = process.env.PATH
      process.env.PATH = `${bin}:${path}`
      let first: ReturnType<typeof buildRelease>
      try {
        first = buildRelease({ source: src(), build: false, cacheDir: cache() })
        for (let i = 0; i < 20; i++) expect(buildRelease({ source: src(), build: false, cacheDir: cache() }).id).to.equal(first.id)
      } finally {
        process.env.PATH = path
      }
      const gitCalls = (await readFile(calls, 'utf8')).trim().split('\n')
      expect(gitCalls.length, gitCalls.join('; ')).to.be.at.most(2) // the first call's status (and log), none after
      // same size, time put back: the change time still says it was written
      await writeFile(join(src(), 'server.js'), 'two')
      await utimes(join(src(), 'server.js'), when, when)
      expect(buildRelease({ source: src(), build: false, cacheDir: cache() }).hash).not.to.equal(first.hash)
      // not yet committed: the newest file's time; committed (no file of the source changed): the commit's
      const dirty = buildRelease({ source: src(), build: false, cacheDir: cache() }).time.toISOString()
      expect(dirty).to.equal('2026-03-01T10:00:00.000Z')
      const git = (...args: string[]) =>
        execFileSync('git', ['-C', src(), '-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { stdio: 'ignore', env: { ...process.env, GIT_COMMITTER_DATE: '2026-04-01T00:00:00Z' } })
      git('init', '-q')
      git('add', '.')
      git('commit', '-q', '-m', 'one')
      expect(buildRelease({ source: src(), build: false, cacheDir: cache() }).time.toISOString()).to.equal('2026-04-01T00:00:00.000Z')
    })

    it('a later run (a new process) finds the description in the cache: no hashing, no git, the same id; a changed file is seen', async () => {
      await app(src(), { 'server.js': 'one' })
      const bin = join(tmp.path, 'bin')
      const calls = join(tmp.path, 'git-calls')
      await mkdir(bin)
      await writeFile(join(bin, 'git'), `#!/bin/sh\necho "$*" >> ${calls}\nexec ${execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim()} "$@"\n`, { mode: 0o755 })
      const moduleUrl = new URL('../../../src/resources/release.ts', import.meta.url).href
      const runOnce = (): string =>
        execFileSync(process.execPath, [...process.execArgv, '--input-type=module', '-e', `const m = await import(${JSON.stringify(moduleUrl)}); console.log(m.buildRelease({ source: ${JSON.stringify(src())}, build: false }).id)`], {
          encoding: 'utf8',
          env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, MUSTER_CACHE_DIR: join(tmp.path, 'muster-cache') },
        }).trim()
      const gitCalls = async (): Promise<number> => (await readFile(calls, 'utf8').catch(() => '')).split('\n').filter(Boolean).length
      const first = runOnce()
      const afterFirst = await gitCalls()
      expect(afterFirst).to.be.greaterThan(0)
      expect(runOnce()).to.equal(first)
      expect(await gitCalls(), 'no git in the second run').to.equal(afterFirst)
      await writeFile(join(src(), 'server.js'), 'two')
      expect(runOnce()).to.not.equal(first)
    })

    it('refuses a source that is not a directory', () => {
      expect(() => buildRelease({ source: join(tmp.path, 'nope') })).to.throw(/not a directory/)
    })
  })

  describe('artifact', () => {
    it('runs the build in a copy and packs the result with RELEASE and the manifest, once', async () => {
      await app(src(), { 'server.js': 'console.log(1)\n', 'public/index.html': '<p>hi</p>\n', 'node_modules/stale/x.js': 'not shipped' })
      const rel = buildRelease({
        source: src(),
        cacheDir: cache(),
        build: ['sh', '-c', 'mkdir -p node_modules/dep && echo built > node_modules/dep/index.js'],
      })
      const [t1, t2] = await Promise.all([rel.artifact(), rel.artifact()])
      expect(t1).to.equal(t2)
      const list = execFileSync('tar', ['-tzf', t1], { encoding: 'utf8' }).split('\n')
      expect(list).to.include.members(['./server.js', './public/index.html', './RELEASE', `./${RELEASE_MANIFEST}`, './node_modules/dep/index.js'])
      expect(list.some((l) => l.includes('stale'))).to.equal(false)
      expect(execFileSync('tar', ['-xzOf', t1, './RELEASE'], { encoding: 'utf8' })).to.equal(`${rel.id}\n`)
      expect(JSON.parse(execFileSync('tar', ['-xzOf', t1, `./${RELEASE_MANIFEST}`], { encoding: 'utf8' }))).to.include({ id: rel.id, hash: rel.hash })
      // the source itself is untouched by the build
      expect(await readdir(join(src(), 'node_modules'))).to.deep.equal(['stale'])
    })

    it('a failing build names the command and shows its output', async () => {
      await app(src(), { 'server.js': 'x' })
      const rel = buildRelease({ source: src(), cacheDir: cache(), build: ['sh', '-c', 'echo npm ERR! no network >&2; exit 3'] })
      let err: Error | undefined
      await rel.artifact().catch((e: Error) => (err = e))
      expect(err?.message).to.match(/sh -c .* failed/).and.match(/npm ERR! no network/)
    })
  })

  describe('upload plan', () => {
    const rel = { id: 'REL', hash: 'h', time: new Date(0), source: '/x', manifest: '{"id":"REL"}\n', artifact: async () => '/nope' }
    const marker = '/srv/app/releases/REL/.muster-release.json'
    const good: PathState = {
      type: 'file', mode: '0644', owner: 'root', group: 'root', size: 13, mtime: 1, sha256: createHash('sha256').update(rel.manifest).digest('hex'),
    }
    it('is ok when the manifest is there with its hash, an upload otherwise', () => {
      const r = releaseUpload(rel, { root: '/srv/app' })
      expect(r.id).to.equal('release:/srv/app/releases/REL')
      expect(r.plan({ manifest: good }).kind).to.equal('ok')
      expect(asChange(r.plan({ manifest: { type: 'absent' } })).summary).to.equal('upload release REL')
      expect(asChange(r.plan({ manifest: { ...good, sha256: '0'.repeat(64) } })).summary).to.equal('replace incomplete release REL')
    })
    it('predicts the manifest, so check mode plans what follows against it', () => {
      const c = asChange(releaseUpload(rel, { root: '/srv/app/' }).plan({ manifest: { type: 'absent' } }))
      expect(predicted(c, pathState(marker))).to.include({ type: 'file', sha256: good.sha256 })
    })
    it('paths', () => {
      expect(releasePaths('/srv/app/', 'X')).to.deep.equal({ releases: '/srv/app/releases', current: '/srv/app/current', shared: '/srv/app/shared', release: '/srv/app/releases/X' })
      expect(() => releasePaths('srv')).to.throw(/absolute/)
      expect(unpackScript('/srv/app/releases', 'X')).to.include("mv -T -- \"$stage\" \"$dest\"")
    })
  })

  describe('on a host (this machine)', () => {
    it('uploads once, whole, and `current` switches by rename', async () => {
      await app(src(), { 'server.js': 'v1\n', 'public/app.css': 'body{}\n' })
      const root = join(tmp.path, 'srv')
      const v1 = buildRelease({ source: src(), build: false, cacheDir: cache() })
      expect((await converge(releaseUpload(v1, { root }))).kind).to.equal('change')
      expect(await readFile(join(root, 'releases', v1.id, 'server.js'), 'utf8')).to.equal('v1\n')
      expect(await readFile(join(root, 'releases', v1.id, 'RELEASE'), 'utf8')).to.equal(`${v1.id}\n`)
      expect((await stat(join(root, 'releases', v1.id))).mode & 0o777).to.equal(0o755)
      // no stage directories or uploads left behind
      expect(await readdir(join(root, 'releases'))).to.deep.equal([v1.id])
      expect((await converge(releaseUpload(v1, { root }))).kind).to.equal('ok')

      await converge(currentRelease(v1, { root }))
      expect(await readlink(join(root, 'current'))).to.equal(join(root, 'releases', v1.id))

      await writeFile(join(src(), 'server.js'), 'v2\n')
      await utimes(join(src(), 'server.js'), new Date(Date.now() + 5000), new Date(Date.now() + 5000))
      const v2 = buildRelease({ source: src(), build: false, cacheDir: cache() })
      expect(v2.id).not.to.equal(v1.id)
      await converge(releaseUpload(v2, { root }))
      const sw = await converge(currentRelease(v2, { root }))
      expect(asChange(sw).summary).to.equal(`target ${join(root, 'releases', v1.id)} -> ${join(root, 'releases', v2.id)}`)
      expect(await readFile(join(root, 'current', 'server.js'), 'utf8')).to.equal('v2\n')
      expect((await readdir(join(root, 'releases'))).sort()).to.deep.equal([v1.id, v2.id].sort())
    })

    it('a release dir without its manifest (a leftover) is replaced', async () => {
      await app(src(), { 'server.js': 'v1\n' })
      const root = join(tmp.path, 'srv')
      const rel = buildRelease({ source: src(), build: false, cacheDir: cache() })
      await app(join(root, 'releases', rel.id), { 'junk.js': 'half' })
      const plan = await converge(releaseUpload(rel, { root }))
      expect(asChange(plan).summary).to.equal(`upload release ${rel.id}`)
      expect((await readdir(join(root, 'releases', rel.id))).sort()).to.deep.equal([RELEASE_MANIFEST, 'RELEASE', 'server.js'].sort())
    })
  })
})
