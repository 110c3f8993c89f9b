import { expect } from 'chai'
import { mkdir, writeFile, readFile, symlink as fsSymlink, access } from 'node:fs/promises'
import { join } from 'node:path'
import { absent } from '../../../src/resources/absent.ts'
import { pathState, pathFact } from '../../../src/facts/path.ts'
import { fileContent } from '../../../src/facts/file-content.ts'
import { asChange, converge, fixtureState, P, predicted, useTempDir } from './file-family.support.ts'
import { forEachRelease } from '../../support/fixture-release.ts'

const exists = (p: string) => access(p).then(() => true, () => false)

describe('absent', () => {
  forEachRelease('plan, against path states recorded on Debian 12 and Debian 13', () => {
    const rows: [fixture: string, key: string, recursive: boolean, expected: string][] = [
      ['absent', 'missing', false, 'ok'],
      ['absent', 'app.conf/under-a-file', false, 'ok'],
      ['file-0644', 'app.conf', false, 'remove file'],
      ['symlink', 'app-link', false, 'remove symlink'],
      ['dangling-symlink', 'dangling', false, 'remove symlink'],
      ['fifo', 'pipe', false, 'remove special file'],
      ['directory', 'etc-dir', false, 'remove directory'],
      ['directory', 'etc-dir', true, 'remove directory recursively'],
    ]
    for (const [fixture, key, recursive, expected] of rows) {
      it(`${fixture} ${recursive ? '(recursive) ' : ''}-> ${expected}`, async () => {
        const plan = absent(P(key), { recursive }).plan({ state: await fixtureState(fixture, key) })
        if (expected === 'ok') expect(plan.kind).to.equal('ok')
        else expect(asChange(plan).summary).to.equal(expected)
      })
    }

    it('predicts absence, and "unknown" for whatever was under a removed tree', async () => {
      const c = asChange(absent(P('etc-dir'), { recursive: true }).plan({ state: await fixtureState('directory', 'etc-dir') }))
      expect(predicted(c, pathState(P('etc-dir')))).to.deep.equal({ type: 'absent' })
      expect(predicted(c, fileContent(P('etc-dir')))).to.equal(null)
      expect(c.predicts?.some((p) => 'prefix' in p && p.kind === pathFact && p.prefix === `${P('etc-dir')}/`)).to.equal(true)
    })

    it('refuses /', () => {
      expect(() => absent('/')).to.throw(/refusing/)
    })
  })

  describe('apply', () => {
    const tmp = useTempDir('absent')
    it('removes a symlink, never what it points to', async () => {
      await writeFile(join(tmp.path, 't'), 't')
      await fsSymlink('t', join(tmp.path, 'l'))
      await converge(absent(join(tmp.path, 'l')))
      expect(await exists(join(tmp.path, 'l'))).to.equal(false)
      expect(await readFile(join(tmp.path, 't'), 'utf8')).to.equal('t')
    })

    it('a non-empty directory stays unless recursive', async () => {
      const d = join(tmp.path, 'd')
      await mkdir(d)
      await writeFile(join(d, 'x'), 'x')
      let failed = false
      await converge(absent(d)).catch(() => {
        failed = true
      })
      expect(failed).to.equal(true)
      expect(await exists(join(d, 'x'))).to.equal(true)
      await converge(absent(d, { recursive: true }))
      expect(await exists(d)).to.equal(false)
      expect((await converge(absent(d))).kind).to.equal('ok')
    })
  })
})
