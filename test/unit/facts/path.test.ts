import { expect } from 'chai'
import { mkdtemp, rm, writeFile, mkdir, symlink, chmod, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathFact, pathState, pathStatFact, pathStat, type PathState } from '../../../src/facts/path.ts'
import { LocalConnection } from '../../../src/ssh/local-connection.ts'
import { quote } from '../../../src/core/sh.ts'
import { fileContent } from '../../../src/facts/file-content.ts'
import { buildBatch, parseBatch } from '../../../src/engine/probe-batch.ts'
import { factId } from '../../../src/contract/fact.ts'
import { loadFixture, probeNow, SCENARIO } from '../../support/record-probes.ts'

const P = (n: string): string => `${SCENARIO}/${n}`
const T = 1704067200 // the scenario's fixed mtime

describe('path fact', () => {
  describe('queries', () => {
    it('refuses relative paths and paths with a newline', () => {
      expect(() => pathState('etc/x')).to.throw(/absolute/)
      expect(() => pathState('/etc/a\nb')).to.throw(/newline/)
      expect(() => pathFact.script(['/ok', 'rel'])).to.throw(/absolute/)
      expect(pathState('/etc/x')).to.deep.equal({ kind: pathFact, key: '/etc/x' })
    })

    it('coalesces: one find and one sha256sum for every path, each path quoted', () => {
      const s = pathFact.script(['/etc/a', '/etc/my site.conf', "/etc/it's"])
      expect(s.match(/\bfind /g)).to.have.length(1)
      expect(s.match(/\bsha256sum /g)).to.have.length(1)
      expect(s).to.include(`/etc/a '/etc/my site.conf' '/etc/it'\\''s'`)
      expect(s).to.include('-maxdepth 0')
    })
  })

  describe('the stat kind (no hash)', () => {
    it('runs the same single find and never sha256sum', () => {
      const s = pathStatFact.script(['/var/cache/apt/pkgcache.bin', '/etc/a'])
      expect(s.match(/\bfind /g)).to.have.length(1)
      expect(s).not.to.include('sha256sum')
      expect(pathStat('/etc/x')).to.deep.equal({ kind: pathStatFact, key: '/etc/x' })
      expect(() => pathStat('rel')).to.throw(/absolute/)
    })

    it('recorded batch: the same answer as the path kind for every key, less the hash', async () => {
      const full = await loadFixture(pathFact, 'path', 'batch')
      const stat = await loadFixture(pathStatFact, 'path-stat', 'batch')
      expect(stat.stdout).not.to.match(/[0-9a-f]{64}/)
      expect([...stat.values.keys()]).to.deep.equal(full.meta.keys)
      for (const [key, value] of full.values) {
        const { sha256: _, ...rest } = value as PathState & { sha256?: string }
        expect(stat.value(key), key).to.deep.equal(rest)
      }
    })
  })

  describe('parse of outputs recorded on Debian 12', () => {
    const rows: [fixture: string, key: string, expected: PathState][] = [
      ['file-0644', 'app.conf', { type: 'file', mode: '0644', owner: 'root', group: 'root', size: 11, mtime: T, sha256: 'ae7ea37f433fb97005c5025e69e5fcefe0ea3c808e5d3a1dd0c3499958dfe539' }],
      ['file-0600', 'private.key', { type: 'file', mode: '0600', owner: 'root', group: 'root', size: 9, mtime: T, sha256: '415b34811ea9df9a7b1ca4a0b5ca171e88022bb9314b9dcea0c56821878a41d5' }],
      ['setuid-4755', 'suid-tool', { type: 'file', mode: '4755', owner: 'root', group: 'root', size: 18, mtime: T, sha256: '299001868fb8c02fd431c336c6d058f5558c5dff5b5af5e6fe04b870a6a9cbba' }],
      ['numeric-owner', 'orphan', { type: 'file', mode: '0644', owner: '12345', group: '12345', size: 13, mtime: T, sha256: '021b30702f5dc14c6fde1e3e519069ecdea85bed4d8715eade2d75430c00a959' }],
      ['space-name', 'my site.conf', { type: 'file', mode: '0644', owner: 'root', group: 'root', size: 25, mtime: T, sha256: 'f8456039cb59b97b6a2d585ef4b9cf45b7b5199017946cc9ce90372a2f452283' }],
      ['directory', 'etc-dir', { type: 'directory', mode: '2750', owner: 'root', group: 'adm', mtime: T }],
      ['symlink', 'app-link', { type: 'symlink', target: 'app.conf', owner: 'root', group: 'root', mtime: T }],
      ['dangling-symlink', 'dangling', { type: 'symlink', target: `${SCENARIO}/nowhere`, owner: 'root', group: 'root', mtime: T }],
      ['absent', 'missing', { type: 'absent' }],
      ['absent', 'app.conf/under-a-file', { type: 'absent' }],
      ['fifo', 'pipe', { type: 'other', mode: '0644', owner: 'root', group: 'root', mtime: T }],
      ['odd-names', 'back\\slash', { type: 'file', mode: '0644', owner: 'root', group: 'root', size: 0, mtime: T, sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' }],
      ['odd-names', "it's", { type: 'file', mode: '0644', owner: 'root', group: 'root', size: 0, mtime: T, sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' }],
    ]
    for (const [fixture, key, expected] of rows) {
      it(`${fixture}: ${key} -> ${expected.type}`, async () => {
        const f = await loadFixture(pathFact, 'path', fixture)
        expect(f.value(P(key))).to.deep.equal(expected)
      })
    }

    it('batch: every key of a coalesced query gets its own answer', async () => {
      const f = await loadFixture(pathFact, 'path', 'batch')
      expect([...f.values.keys()]).to.deep.equal(f.meta.keys)
      const types = Object.fromEntries([...f.values].map(([k, v]) => [k.slice(SCENARIO.length + 1), v.type]))
      expect(types).to.deep.equal({
        'app.conf': 'file', 'private.key': 'file', 'suid-tool': 'file', orphan: 'file', 'my site.conf': 'file',
        'etc-dir': 'directory', 'app-link': 'symlink', dangling: 'symlink', missing: 'absent', pipe: 'other',
        'blob.bin': 'file', empty: 'file',
      })
      // the batch and the single-key fixture agree
      const single = await loadFixture(pathFact, 'path', 'setuid-4755')
      expect(f.value(P('suid-tool'))).to.deep.equal(single.value())
    })
  })

  describe('parse errors are not mistaken for "absent"', () => {
    const out = (errors: string) => `\x1epath:find-errors\n${errors}\n\x1epath:sha256\n`
    it('permission denied fails the probe', () => {
      expect(() => pathFact.parse(out("find: '/root/x': Permission denied"), ['/root/x'], 0)).to.throw(/Permission denied/)
    })
    it('a file that could not be hashed fails the probe', () => {
      const rec = `f 0600 root root 3 1.0 \x1f/x\n`
      expect(() => pathFact.parse(rec + out(''), ['/x'], 0)).to.throw(/could not be hashed/)
    })
    it('output without the markers fails', () => {
      expect(() => pathFact.parse('garbage', ['/x'], 0)).to.throw(/markers/)
    })
  })

  describe('on this machine', () => {
    let dir: string
    beforeEach(async () => {
      dir = await mkdtemp(join(tmpdir(), 'muster-path-'))
    })
    afterEach(async () => {
      await rm(dir, { recursive: true, force: true })
    })

    it('answers a whole batch in one exec, matching stat(2)', async () => {
      await writeFile(join(dir, 'a'), 'hello\n')
      await chmod(join(dir, 'a'), 0o640)
      await mkdir(join(dir, 'd'))
      await symlink('a', join(dir, 'l'))
      const conn = new LocalConnection()
      const keys = ['a', 'd', 'l', 'none'].map((n) => join(dir, n))
      const got = await probeNow(conn, pathFact, keys)
      expect(conn.stats.execs).to.equal(1)
      const a = got.get(keys[0])
      const st = await stat(keys[0])
      expect(a).to.include({ type: 'file', mode: '0640', size: 6, sha256: '5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03' })
      expect((a as { mtime: number }).mtime).to.be.closeTo(st.mtimeMs / 1000, 0.01)
      expect(got.get(keys[1])?.type).to.equal('directory')
      expect(got.get(keys[2])).to.include({ type: 'symlink', target: 'a' })
      expect(got.get(keys[3])).to.deep.equal({ type: 'absent' })
    })

    it('a path the probing user may not see is an error, not "absent"', async function () {
      if (process.getuid?.() !== 0) this.skip() // needs root to drop to nobody
      await mkdir(join(dir, 'closed'), { mode: 0o700 })
      await writeFile(join(dir, 'closed', 'f'), 'x')
      await chmod(dir, 0o755)
      const key = join(dir, 'closed', 'f')
      const conn = new LocalConnection()
      const res = await conn.exec(`su nobody -s /bin/sh -c ${quote(pathFact.script([key]))}`)
      expect(() => pathFact.parse(res.stdout, [key], res.code)).to.throw(/Permission denied/)
    })

    it("travels in the engine's probe batch with file-content, in one exec", async () => {
      await writeFile(join(dir, 'a b'), 'x = 1\n')
      const conn = new LocalConnection()
      const keys = [join(dir, 'a b'), join(dir, 'none')]
      const queries = [...keys.map(pathState), ...keys.map(fileContent)]
      const batch = buildBatch(queries)
      const res = await conn.exec(batch.script)
      const got = parseBatch(batch, res.stdout)
      expect(conn.stats.execs).to.equal(1)
      expect(got.get(factId(pathState(keys[0])))).to.include({ type: 'file', size: 6 })
      expect(got.get(factId(pathState(keys[1])))).to.deep.equal({ type: 'absent' })
      expect(got.get(factId(fileContent(keys[0])))).to.equal('x = 1\n')
      expect(got.get(factId(fileContent(keys[1])))).to.equal(null)
    })

    it('does not block on a FIFO (only regular files are hashed)', async () => {
      const conn = new LocalConnection()
      const fifo = join(dir, 'fifo')
      await conn.exec(`mkfifo '${fifo}'`)
      const got = await probeNow(new LocalConnection(), pathFact, [fifo])
      expect(got.get(fifo)?.type).to.equal('other')
    })
  })
})
