import { expect } from 'chai'
import { writeFile, readFile, stat, chmod, symlink as fsSymlink } from 'node:fs/promises'
import { join } from 'node:path'
import { file } from '../../../src/resources/file.ts'
import { secret } from '../../../src/core/secret.ts'
import { pathFact, pathState } from '../../../src/facts/path.ts'
import { fileContent } from '../../../src/facts/file-content.ts'
import { createApplyContext, localHostInfo } from '../../../src/engine/apply-context.ts'
import { LocalConnection } from '../../../src/ssh/local-connection.ts'
import type { Change, DiffRequest } from '../../../src/contract/resource.ts'
import type { ExecOptions } from '../../../src/ssh/connection.ts'
import { probeNow } from '../../support/record-probes.ts'
import { asChange, converge, fixtureContent, fixtureState, P, predicted, useTempDir } from './file-family.support.ts'
import { forEachRelease } from '../../support/fixture-release.ts'

describe('file', () => {
  forEachRelease('plan, against path states recorded on Debian 12 and Debian 13', () => {
    const rows: { fixture: string; key: string; opts: Parameters<typeof file>[1]; expect: 'ok' | string }[] = [
      { fixture: 'file-0644', key: 'app.conf', opts: { content: 'listen 80;\n' }, expect: 'ok' },
      { fixture: 'file-0644', key: 'app.conf', opts: { content: 'listen 80;\n', mode: '0644', owner: 'root', group: 'root' }, expect: 'ok' },
      { fixture: 'file-0644', key: 'app.conf', opts: { content: 'listen 80;\n', mode: 0o644 }, expect: 'ok' },
      { fixture: 'file-0644', key: 'app.conf', opts: { content: 'listen 8080;\n' }, expect: 'content' },
      { fixture: 'file-0644', key: 'app.conf', opts: { content: 'listen 80;\n', mode: '600' }, expect: 'mode 0644 -> 0600' },
      { fixture: 'file-0644', key: 'app.conf', opts: { content: 'x\n', mode: '0600', group: 'adm' }, expect: 'content, mode 0644 -> 0600, group root -> adm' },
      { fixture: 'file-0600', key: 'private.key', opts: { content: 'secret=1\n' }, expect: 'ok' },
      { fixture: 'file-0600', key: 'private.key', opts: { content: secret('secret=1\n') }, expect: 'ok' },
      { fixture: 'setuid-4755', key: 'suid-tool', opts: { content: '#!/bin/sh\necho hi\n', mode: '4755' }, expect: 'ok' },
      { fixture: 'setuid-4755', key: 'suid-tool', opts: { content: '#!/bin/sh\necho hi\n', owner: 'www-data' }, expect: 'owner root -> www-data' },
      { fixture: 'numeric-owner', key: 'orphan', opts: { content: 'nobody knows\n', owner: 'nobody' }, expect: 'owner 12345 -> nobody' },
      { fixture: 'numeric-owner', key: 'orphan', opts: { content: 'nobody knows\n', owner: '12345' }, expect: 'ok' },
      { fixture: 'space-name', key: 'my site.conf', opts: { content: 'server_name example.org;\n' }, expect: 'ok' },
      { fixture: 'absent', key: 'missing', opts: { content: 'new\n' }, expect: 'create' },
      { fixture: 'absent', key: 'missing', opts: { content: secret('new\n') }, expect: 'create (content is a secret: no diff)' },
      { fixture: 'file-0600', key: 'private.key', opts: { content: secret('other=2\n') }, expect: 'content (a secret: no diff)' },
      { fixture: 'symlink', key: 'app-link', opts: { content: 'listen 80;\n' }, expect: 'replace symlink (-> app.conf) with a file' },
    ]
    for (const row of rows) {
      it(`${row.fixture} ${JSON.stringify({ ...row.opts, content: String(row.opts.content) })} -> ${row.expect}`, async () => {
        const r = file(P(row.key), row.opts)
        const plan = r.plan({ state: await fixtureState(row.fixture, row.key) })
        if (row.expect === 'ok') expect(plan.kind).to.equal('ok')
        else expect(asChange(plan).summary).to.equal(row.expect)
      })
    }

    for (const [fixture, key, why] of [
      ['directory', 'etc-dir', /is a directory/],
      ['fifo', 'pipe', /not a regular file/],
    ] as const) {
      it(`${fixture}: refuses to replace it`, async () => {
        const r = file(P(key), { content: 'x' })
        const state = await fixtureState(fixture, key)
        expect(() => r.plan({ state })).to.throw(why)
      })
    }

    it('a secret\'s content is never diffed: no diff, and the host\'s text is not even fetched', async () => {
      const key = '-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgN2QMoApk0W5MAUt8\n-----END PRIVATE KEY-----\n'
      for (const [fixture, k] of [['absent', 'missing'], ['file-0600', 'private.key'], ['symlink', 'app-link']] as const) {
        const c = asChange(file(P(k), { content: secret(key), mode: '0600' }).plan({ state: await fixtureState(fixture, k) }))
        expect(c.diff, fixture).to.equal(undefined)
      }
    })

    it('a content change asks for the host content and renders a unified diff from it', async () => {
      const r = file(P('app.conf'), { content: 'listen 8080;\n' })
      const c = asChange(r.plan({ state: await fixtureState('file-0644', 'app.conf') }))
      const req = c.diff as DiffRequest
      expect(req.query).to.deep.equal(fileContent(P('app.conf')))
      const before = await fixtureContent('text', 'app.conf')
      expect(req.render(before)).to.equal(
        [`--- ${P('app.conf')} (host)`, `+++ ${P('app.conf')} (muster)`, '@@ -1,1 +1,1 @@', '-listen 80;', '+listen 8080;', ''].join('\n'),
      )
    })

    it('mode or owner drift has no diff and never rewrites content', async () => {
      const c = asChange(file(P('app.conf'), { content: 'listen 80;\n', mode: '0600' }).plan({ state: await fixtureState('file-0644', 'app.conf') }))
      expect(c.diff).to.equal(undefined)
    })

    it('create: the diff is known without asking the host', async () => {
      const c = asChange(file(P('missing'), { content: 'a\nb\n' }).plan({ state: { type: 'absent' } }))
      expect(c.diff).to.equal([`--- ${P('missing')} (host)`, `+++ ${P('missing')} (muster)`, '@@ -0,0 +1,2 @@', '+a', '+b', ''].join('\n'))
    })

    it('binary content: "binary content differs"', async () => {
      const c = asChange(file(P('blob.bin'), { content: Buffer.from([0, 1, 2, 0xff]) }).plan({ state: await fixtureState('batch', 'blob.bin') }))
      expect((c.diff as DiffRequest).render(await fixtureContent('batch', 'blob.bin'))).to.equal(`binary content differs: ${P('blob.bin')}`)
    })

    it('predicts the new PathState: defaults for a new file, the old mode and owner for a replaced one', async () => {
      const created = asChange(file(P('missing'), { content: 'new\n' }).plan({ state: { type: 'absent' } }))
      expect(predicted(created, pathState(P('missing')))).to.deep.include({
        type: 'file', mode: '0644', owner: 'root', group: 'root', size: 4,
        sha256: '7aa7a5359173d05b63cfd682e3c38487f3cb4f7f1d60659fe59fab1505977d4c',
      })
      expect(predicted(created, fileContent(P('missing')))).to.equal('new\n')
      const replaced = asChange(file(P('orphan'), { content: 'y\n', mode: '0640' }).plan({ state: await fixtureState('numeric-owner', 'orphan') }))
      expect(predicted(replaced, pathState(P('orphan')))).to.deep.include({ mode: '0640', owner: '12345', group: '12345' })
    })

    it('options are checked when the resource is built', () => {
      expect(() => file('rel/x', { content: '' })).to.throw(/absolute/)
      expect(() => file('/x', { content: '', mode: '888' })).to.throw(/octal/)
      expect(() => file('/x', { content: '', owner: 'a b' })).to.throw(/owner/)
      expect(() => file('/x', { content: '', validate: { command: 'nginx -t' } })).to.throw(/%s/)
      expect(file('/etc/x', { content: '' })).to.include({ id: 'file:/etc/x', type: 'file' })
    })
  })

  describe('apply, for real on this machine', () => {
    const tmp = useTempDir('file')
    let dir: string
    beforeEach(() => {
      dir = tmp.path
    })
    const conn = new LocalConnection()

    it('create, then nothing to do; the prediction matches what the host then says', async () => {
      const path = join(dir, 'app.conf')
      const r = file(path, { content: 'listen 80;\n', mode: '0640' })
      const first = await converge(r)
      expect(first.kind).to.equal('change')
      expect(await readFile(path, 'utf8')).to.equal('listen 80;\n')
      const now = (await probeNow(conn, pathFact, [path])).get(path)
      expect({ ...(predicted(first as Change, pathState(path)) as object), mtime: 0 }).to.deep.equal({ ...now, mtime: 0 })
      expect((await converge(r)).kind).to.equal('ok')
    })

    it('mode drift is fixed by chmod alone: same inode, content untouched', async () => {
      const path = join(dir, 'm')
      await writeFile(path, 'same\n')
      await chmod(path, 0o644)
      const ino = (await stat(path)).ino
      const plan = await converge(file(path, { content: 'same\n', mode: '0600' }))
      expect((plan as Change).summary).to.equal('mode 0644 -> 0600')
      const st = await stat(path)
      expect([st.ino, (st.mode & 0o7777).toString(8)]).to.deep.equal([ino, '600'])
    })

    it('owner drift keeps a setuid mode (chown would clear it)', async function () {
      if (process.getuid?.() !== 0) this.skip()
      const path = join(dir, 'tool')
      await writeFile(path, '#!/bin/sh\n')
      await chmod(path, 0o4755)
      await converge(file(path, { content: '#!/bin/sh\n', owner: 'nobody' }))
      const st = await stat(path)
      expect([st.uid, (st.mode & 0o7777).toString(8)]).to.deep.equal([65534, '4755'])
    })

    it('content drift rewrites and keeps the mode it had', async () => {
      const path = join(dir, 'c')
      await writeFile(path, 'old\n')
      await chmod(path, 0o600)
      await converge(file(path, { content: 'new\n' }))
      expect(await readFile(path, 'utf8')).to.equal('new\n')
      expect(((await stat(path)).mode & 0o7777).toString(8)).to.equal('600')
    })

    it('a symlink is replaced by a file; its target is left alone', async () => {
      await writeFile(join(dir, 'target'), 't\n')
      await fsSymlink('target', join(dir, 'link'))
      await converge(file(join(dir, 'link'), { content: 'f\n' }))
      expect(await readFile(join(dir, 'link'), 'utf8')).to.equal('f\n')
      expect(await readFile(join(dir, 'target'), 'utf8')).to.equal('t\n')
      expect((await converge(file(join(dir, 'link'), { content: 'f\n' }))).kind).to.equal('ok')
    })

    it('secret content reaches the file but never a command line', async () => {
      const seen: string[] = []
      const spy = new (class extends LocalConnection {
        override exec(command: string, opts: ExecOptions = {}) {
          seen.push(command)
          return super.exec(command, opts)
        }
      })()
      const path = join(dir, 'env')
      const plan = file(path, { content: secret('DB_PASSWORD=tr0ub4dor&3\n'), mode: '0600' }).plan({ state: { type: 'absent' } })
      await asChange(plan).apply(createApplyContext(localHostInfo(), spy))
      expect(await readFile(path, 'utf8')).to.equal('DB_PASSWORD=tr0ub4dor&3\n')
      expect(seen.join('\n')).to.not.include('tr0ub4dor')
    })
  })
})
