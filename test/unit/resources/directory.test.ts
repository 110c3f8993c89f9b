import { expect } from 'chai'
import { mkdir, stat, writeFile, chmod } from 'node:fs/promises'
import { join } from 'node:path'
import { directory } from '../../../src/resources/directory.ts'
import { pathState } from '../../../src/facts/path.ts'
import { asChange, converge, fixtureState, P, predicted, useTempDir } from './file-family.support.ts'
import { forEachRelease } from '../../support/fixture-release.ts'

describe('directory', () => {
  forEachRelease('plan, against path states recorded on Debian 12 and Debian 13', () => {
    const rows: { fixture: string; key: string; opts: Parameters<typeof directory>[1]; expect: string }[] = [
      { fixture: 'directory', key: 'etc-dir', opts: {}, expect: 'ok' },
      { fixture: 'directory', key: 'etc-dir', opts: { mode: '2750', owner: 'root', group: 'adm' }, expect: 'ok' },
      { fixture: 'directory', key: 'etc-dir', opts: { mode: '0755' }, expect: 'mode 2750 -> 0755' },
      { fixture: 'directory', key: 'etc-dir', opts: { group: 'root', owner: 'www-data' }, expect: 'owner root -> www-data, group adm -> root' },
      { fixture: 'absent', key: 'missing', opts: {}, expect: 'create' },
      { fixture: 'absent', key: 'missing', opts: { mode: '0700', owner: 'nobody' }, expect: 'create' },
    ]
    for (const row of rows) {
      it(`${row.fixture} ${JSON.stringify(row.opts)} -> ${row.expect}`, async () => {
        const plan = directory(P(row.key), row.opts).plan({ state: await fixtureState(row.fixture, row.key) })
        if (row.expect === 'ok') expect(plan.kind).to.equal('ok')
        else expect(asChange(plan).summary).to.equal(row.expect)
      })
    }

    for (const [fixture, key, why] of [
      ['file-0644', 'app.conf', /is a file/],
      ['symlink', 'app-link', /is a symlink \(-> app\.conf\)/],
      ['fifo', 'pipe', /not a directory/],
    ] as const) {
      it(`${fixture}: refuses to replace it`, async () => {
        const state = await fixtureState(fixture, key)
        expect(() => directory(P(key)).plan({ state })).to.throw(why)
      })
    }

    it('predicts the directory a creation makes (0755, root by default)', () => {
      const c = asChange(directory('/srv/app').plan({ state: { type: 'absent' } }))
      expect(predicted(c, pathState('/srv/app'))).to.deep.equal({ type: 'directory', mode: '0755', owner: 'root', group: 'root', mtime: Number.NaN })
      const d = asChange(directory('/srv/app', { mode: '0750', owner: 'www-data', group: 'www-data' }).plan({ state: { type: 'absent' } }))
      expect(predicted(d, pathState('/srv/app'))).to.deep.include({ mode: '0750', owner: 'www-data', group: 'www-data' })
    })
  })

  describe('apply', () => {
    const tmp = useTempDir('dir')
    it('creates missing parents and the mode asked for, then is ok', async () => {
      const path = join(tmp.path, 'a', 'b', 'c')
      const r = directory(path, { mode: '0700' })
      expect(asChange(await converge(r)).summary).to.equal('create')
      expect(((await stat(path)).mode & 0o7777).toString(8)).to.equal('700')
      expect((await converge(r)).kind).to.equal('ok')
    })

    it('fixes mode and owner of an existing directory without touching its contents', async function () {
      if (process.getuid?.() !== 0) this.skip()
      const path = join(tmp.path, 'd')
      await mkdir(path)
      await chmod(path, 0o755)
      await writeFile(join(path, 'keep'), 'x')
      const plan = await converge(directory(path, { mode: '2770', owner: 'nobody', group: 'adm' }))
      expect(asChange(plan).summary).to.equal('mode 0755 -> 2770, owner root -> nobody, group root -> adm')
      const st = await stat(path)
      expect([(st.mode & 0o7777).toString(8), st.uid, st.gid]).to.deep.equal(['2770', 65534, 4])
      expect((await stat(join(path, 'keep'))).isFile()).to.equal(true)
    })
  })
})
