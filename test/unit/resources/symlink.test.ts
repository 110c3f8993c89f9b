import { expect } from 'chai'
import { mkdir, readlink, writeFile, readdir, readFile, lstat } from 'node:fs/promises'
import { join } from 'node:path'
import { symlink } from '../../../src/resources/symlink.ts'
import { pathState } from '../../../src/facts/path.ts'
import { LocalConnection } from '../../../src/ssh/local-connection.ts'
import { createApplyContext, localHostInfo } from '../../../src/engine/apply-context.ts'
import type { ExecOptions } from '../../../src/ssh/connection.ts'
import { asChange, converge, fixtureState, observe, P, predicted, useTempDir } from './file-family.support.ts'
import { forEachRelease } from '../../support/fixture-release.ts'

describe('symlink', () => {
  forEachRelease('plan, against path states recorded on Debian 12 and Debian 13', () => {
    const rows: { fixture: string; key: string; target: string; opts?: Parameters<typeof symlink>[2]; expect: string }[] = [
      { fixture: 'symlink', key: 'app-link', target: 'app.conf', expect: 'ok' },
      { fixture: 'symlink', key: 'app-link', target: 'app.conf', opts: { owner: 'root' }, expect: 'ok' },
      { fixture: 'symlink', key: 'app-link', target: '/srv/app/releases/2', expect: 'target app.conf -> /srv/app/releases/2' },
      { fixture: 'symlink', key: 'app-link', target: 'app.conf', opts: { owner: 'www-data' }, expect: 'owner root -> www-data' },
      { fixture: 'dangling-symlink', key: 'dangling', target: `${P('nowhere')}`, expect: 'ok' },
      { fixture: 'absent', key: 'missing', target: 'app.conf', expect: 'create -> app.conf' },
      { fixture: 'file-0644', key: 'app.conf', target: 'x', opts: { force: true }, expect: 'replace file with symlink -> x' },
      { fixture: 'directory', key: 'etc-dir', target: 'x', opts: { force: true }, expect: 'replace directory with symlink -> x' },
    ]
    for (const row of rows) {
      it(`${row.fixture} -> ${row.target} ${JSON.stringify(row.opts ?? {})}: ${row.expect}`, async () => {
        const plan = symlink(P(row.key), row.target, row.opts).plan({ state: await fixtureState(row.fixture, row.key) })
        if (row.expect === 'ok') expect(plan.kind).to.equal('ok')
        else expect(asChange(plan).summary).to.equal(row.expect)
      })
    }

    for (const [fixture, key, why] of [
      ['file-0644', 'app.conf', /is a regular file, not a symlink; set force: true/],
      ['directory', 'etc-dir', /is a directory, not a symlink; set force: true/],
      ['fifo', 'pipe', /special file/],
    ] as const) {
      it(`${fixture}: fails clearly without force`, async () => {
        const state = await fixtureState(fixture, key)
        expect(() => symlink(P(key), 'x').plan({ state })).to.throw(why)
      })
    }

    it('predicts the link', () => {
      const c = asChange(symlink('/srv/app/current', '/srv/app/releases/3').plan({ state: { type: 'absent' } }))
      expect(predicted(c, pathState('/srv/app/current'))).to.deep.include({ type: 'symlink', target: '/srv/app/releases/3' })
    })
  })

  describe('apply', () => {
    const tmp = useTempDir('link')
    it('creates, then retargets by renaming a new link over the old one (never rm + ln)', async () => {
      const path = join(tmp.path, 'current')
      await mkdir(join(tmp.path, 'r1'))
      await mkdir(join(tmp.path, 'r2'))
      expect((await converge(symlink(path, 'r1'))).kind).to.equal('change')
      expect(await readlink(path)).to.equal('r1')

      const commands: string[] = []
      const spy = new (class extends LocalConnection {
        override exec(command: string, opts: ExecOptions = {}) {
          commands.push(command)
          return super.exec(command, opts)
        }
      })()
      const r = symlink(path, 'r2')
      const plan = asChange(r.plan(await observe(r)))
      expect(plan.summary).to.equal('target r1 -> r2')
      await plan.apply(createApplyContext(localHostInfo(), spy))
      expect(await readlink(path)).to.equal('r2')
      expect(commands.join('\n')).to.match(/mv -fT -- "\$tmp"/).and.not.match(/\brm -f[^\n]*current/)
      expect((await readdir(tmp.path)).sort()).to.deep.equal(['current', 'r1', 'r2'])
      expect((await converge(r)).kind).to.equal('ok')
    })

    it('force replaces a regular file; a non-empty directory still fails and stays', async () => {
      const f = join(tmp.path, 'f')
      await writeFile(f, 'x')
      await converge(symlink(f, 'elsewhere', { force: true }))
      expect((await lstat(f)).isSymbolicLink()).to.equal(true)

      const d = join(tmp.path, 'd')
      await mkdir(d)
      await writeFile(join(d, 'keep'), 'k')
      let failed = false
      await converge(symlink(d, 'elsewhere', { force: true })).catch(() => {
        failed = true
      })
      expect(failed).to.equal(true)
      expect(await readFile(join(d, 'keep'), 'utf8')).to.equal('k')
      expect((await readdir(tmp.path)).filter((n) => n.startsWith('.'))).to.deep.equal([])
    })
  })
})
