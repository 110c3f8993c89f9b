import { expect } from 'chai'
import { readFile, writeFile, chmod, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { lineInFile, editLines, type LineEdit } from '../../../src/resources/line-in-file.ts'
import { pathState } from '../../../src/facts/path.ts'
import { fileContent } from '../../../src/facts/file-content.ts'
import type { PathState } from '../../../src/facts/path.ts'
import { asChange, converge, fixtureContent, fixtureState, P, predicted, useTempDir } from './file-family.support.ts'
import { forEachRelease } from '../../support/fixture-release.ts'

const LINES = '# hosts\n127.0.0.1 localhost\nPermitRootLogin yes\n' // test/fixtures/probes/file-content/edit-targets: lines.txt

describe('lineInFile', () => {
  describe('editLines (pure)', () => {
    const rows: [what: string, text: string, edit: LineEdit, after: string, summary: string][] = [
      ['present already', LINES, { state: 'present', line: '127.0.0.1 localhost' }, LINES, ''],
      ['appended', LINES, { state: 'present', line: 'UseDNS no' }, `${LINES}UseDNS no\n`, 'add line'],
      ['regexp replaces the last match', LINES, { state: 'present', line: 'PermitRootLogin no', regexp: /^#?PermitRootLogin/ }, LINES.replace('yes', 'no'), 'replace line "PermitRootLogin yes"'],
      ['regexp without a match, line there: nothing', LINES, { state: 'present', line: '127.0.0.1 localhost', regexp: /^10\./ }, LINES, ''],
      ['inserted after the last match', LINES, { state: 'present', line: '::1 localhost', insertAfter: /^127\./ }, '# hosts\n127.0.0.1 localhost\n::1 localhost\nPermitRootLogin yes\n', 'add line'],
      ['insertAfter without a match: at the end', LINES, { state: 'present', line: 'x', insertAfter: /^nomatch/ }, `${LINES}x\n`, 'add line'],
      ['no final newline: one is added before the new line', 'no final newline', { state: 'present', line: 'x' }, 'no final newline\nx\n', 'add line'],
      ['no final newline, line there: untouched', 'no final newline', { state: 'present', line: 'no final newline' }, 'no final newline', ''],
      ['absent removes every equal line', 'a\nb\na\n', { state: 'absent', line: 'a' }, 'b\n', 'remove 2 lines'],
      ['absent by regexp', LINES, { state: 'absent', regexp: /^Permit/ }, '# hosts\n127.0.0.1 localhost\n', 'remove 1 line'],
      ['absent, nothing there', LINES, { state: 'absent', line: 'zzz' }, LINES, ''],
      ['empty file', '', { state: 'present', line: 'first' }, 'first\n', 'add line'],
    ]
    for (const [what, text, edit, after, summary] of rows) {
      it(what, () => {
        const got = editLines(text, edit)
        expect(got).to.deep.equal({ text: after, summary })
        // idempotent: the same edit on the result changes nothing
        expect(editLines(got.text, edit).text).to.equal(got.text)
      })
    }
  })

  forEachRelease('plan, against content and state recorded on Debian 12 and Debian 13', () => {
    async function planOn(key: string, opts: Parameters<typeof lineInFile>[1]) {
      const r = lineInFile(P(key), opts)
      return r.plan({ content: await fixtureContent('edit-targets', key), state: await fixtureState('edit-targets', key) })
    }

    it('noChange when the line is there', async () => {
      expect((await planOn('lines.txt', { line: '127.0.0.1 localhost' })).kind).to.equal('ok')
    })

    it('a replacement comes with a diff, and a second plan on the result is noChange', async () => {
      const opts = { line: 'PermitRootLogin no', regexp: '^PermitRootLogin' }
      const c = asChange(await planOn('lines.txt', opts))
      expect(c.summary).to.equal('replace line "PermitRootLogin yes"')
      expect(c.diff).to.equal(
        [`--- ${P('lines.txt')} (host)`, `+++ ${P('lines.txt')} (muster)`, '@@ -1,3 +1,3 @@', ' # hosts', ' 127.0.0.1 localhost', '-PermitRootLogin yes', '+PermitRootLogin no', ''].join('\n'),
      )
      const after = predicted(c, fileContent(P('lines.txt'))) as string
      const state = predicted(c, pathState(P('lines.txt'))) as PathState
      expect(state).to.include({ type: 'file', mode: '0644', owner: 'root' })
      expect(lineInFile(P('lines.txt'), opts).plan({ content: after, state }).kind).to.equal('ok')
    })

    it('a missing file is created (0644), or is an error with create: false', async () => {
      let msg = ''
      try {
        await planOn('missing.cnf', { line: 'x', create: false })
      } catch (err) {
        msg = (err as Error).message
      }
      expect(msg).to.match(/missing\.cnf does not exist \(create: false\)/)
      const c = asChange(await planOn('missing.cnf', { line: 'x' }))
      expect(c.summary).to.equal('create with "x"')
      expect(c.diff).to.equal(`--- ${P('missing.cnf')} (host)\n+++ ${P('missing.cnf')} (muster)\n@@ -0,0 +1,1 @@\n+x\n`)
      expect(predicted(c, pathState(P('missing.cnf')))).to.include({ type: 'file', mode: '0644' })
      expect((await planOn('missing.cnf', { state: 'absent', line: 'x' })).kind).to.equal('ok')
    })

    it('refuses to edit through a symlink (the write would replace the link)', async () => {
      const r = lineInFile(P('app-link'), { line: 'x' })
      const state = await fixtureState('symlink', 'app-link')
      expect(() => r.plan({ content: 'listen 80;\n', state })).to.throw(/is a symlink/)
    })

    it('options are checked when built', () => {
      expect(() => lineInFile('/x', { line: 'a\nb' })).to.throw(/one line/)
      expect(() => lineInFile('/x', { state: 'absent' })).to.throw(/line or a regexp/)
      expect(lineInFile('/etc/ssh/sshd_config', { line: 'PermitRootLogin no', regexp: /^PermitRootLogin/ }).id).to.equal(
        'lineinfile:/etc/ssh/sshd_config:/^PermitRootLogin/',
      )
    })
  })

  describe('apply', () => {
    const tmp = useTempDir('lineinfile')
    it('edits atomically, keeps the mode, and a second run is ok', async () => {
      const path = join(tmp.path, 'sshd_config')
      await writeFile(path, 'Port 22\nPermitRootLogin yes\n')
      await chmod(path, 0o600)
      const r = lineInFile(path, { line: 'PermitRootLogin prohibit-password', regexp: /^#?PermitRootLogin\b/ })
      expect(asChange(await converge(r)).summary).to.equal('replace line "PermitRootLogin yes"')
      expect(await readFile(path, 'utf8')).to.equal('Port 22\nPermitRootLogin prohibit-password\n')
      expect(((await stat(path)).mode & 0o7777).toString(8)).to.equal('600')
      expect((await converge(r)).kind).to.equal('ok')
    })
  })
})
