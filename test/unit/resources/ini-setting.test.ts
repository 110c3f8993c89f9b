import { expect } from 'chai'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { iniSetting, editIni, type IniEdit } from '../../../src/resources/ini-setting.ts'
import { fileContent } from '../../../src/facts/file-content.ts'
import { pathState, type PathState } from '../../../src/facts/path.ts'
import { asChange, converge, fixtureContent, fixtureState, P, predicted, useTempDir } from './file-family.support.ts'
import { forEachRelease } from '../../support/fixture-release.ts'

// test/fixtures/probes/file-content/edit-targets: my.cnf
const CNF = '[client]\nport = 3306\n\n[mysqld]\nserver_id = 1\nlog_bin\n# bind-address = 127.0.0.1\n'

describe('iniSetting', () => {
  describe('editIni (pure)', () => {
    const rows: [what: string, text: string, edit: IniEdit, after: string, summary: string][] = [
      ['already set', CNF, { section: 'mysqld', key: 'server_id', value: '1' }, CNF, ''],
      ['set with other spacing counts as set', '[a]\nk=v\n', { section: 'a', key: 'k', value: 'v' }, '[a]\nk=v\n', ''],
      ['changed', CNF, { section: 'mysqld', key: 'server_id', value: '2' }, CNF.replace('server_id = 1', 'server_id = 2'), '[mysqld] server_id: 1 -> 2'],
      ['same key in another section is another setting', CNF, { section: 'client', key: 'server_id', value: '9' }, CNF.replace('port = 3306\n', 'port = 3306\nserver_id = 9\n'), 'add [client] server_id = 9'],
      ['added after the section\'s last line, before the blank line', CNF, { section: 'client', key: 'user', value: 'app' }, CNF.replace('port = 3306\n', 'port = 3306\nuser = app\n'), 'add [client] user = app'],
      ['a commented-out key does not count', CNF, { section: 'mysqld', key: 'bind-address', value: '0.0.0.0' }, `${CNF}bind-address = 0.0.0.0\n`, 'add [mysqld] bind-address = 0.0.0.0'],
      ['a bare key gets a value', CNF, { section: 'mysqld', key: 'log_bin', value: 'mysql-bin' }, CNF.replace('log_bin\n', 'log_bin = mysql-bin\n'), '[mysqld] log_bin: (no value) -> mysql-bin'],
      ['a new section at the end', CNF, { section: 'mysqldump', key: 'quick', value: 'true' }, `${CNF}\n[mysqldump]\nquick = true\n`, 'add [mysqldump] quick = true'],
      ['removed', CNF, { section: 'mysqld', key: 'log_bin' }, CNF.replace('log_bin\n', ''), 'remove [mysqld] log_bin'],
      ['removing what is not there', CNF, { section: 'nope', key: 'x' }, CNF, ''],
      ['top-level key (section null) before the first header', 'a = 1\n[s]\nb = 2\n', { section: null, key: 'c', value: '3' }, 'a = 1\nc = 3\n[s]\nb = 2\n', 'add c = 3'],
      ['duplicates all follow the new value', '[s]\nk = 1\nk = 2\n', { section: 's', key: 'k', value: '3' }, '[s]\nk = 3\nk = 3\n', '[s] k: 2 -> 3'],
      ['empty file', '', { section: 'mysqld', key: 'server_id', value: '3' }, '[mysqld]\nserver_id = 3\n', 'add [mysqld] server_id = 3'],
    ]
    for (const [what, text, edit, after, summary] of rows) {
      it(what, () => {
        const got = editIni(text, edit)
        expect(got).to.deep.equal({ text: after, summary })
        expect(editIni(got.text, edit).text).to.equal(got.text) // idempotent
      })
    }
  })

  forEachRelease('plan, against content and state recorded on Debian 12 and Debian 13', () => {
    it('noChange when set; a change has a diff; a second plan on the result is noChange', async () => {
      const content = await fixtureContent('edit-targets', 'my.cnf')
      const state = await fixtureState('edit-targets', 'my.cnf')
      expect(content).to.equal(CNF)
      expect(iniSetting(P('my.cnf'), { section: 'mysqld', key: 'server_id', value: 1 }).plan({ content, state }).kind).to.equal('ok')

      const r = iniSetting(P('my.cnf'), { section: 'mysqld', key: 'server_id', value: 2 })
      const c = asChange(r.plan({ content, state }))
      expect(c.summary).to.equal('[mysqld] server_id: 1 -> 2')
      expect(c.diff).to.include('-server_id = 1\n+server_id = 2\n').and.include(`--- ${P('my.cnf')} (host)`)
      const after = predicted(c, fileContent(P('my.cnf'))) as string
      const predictedState = predicted(c, pathState(P('my.cnf'))) as PathState
      expect(r.plan({ content: after, state: predictedState }).kind).to.equal('ok')
    })

    it('a missing file is created (0644) when a value is asked for, and is fine when absence is asked for', async () => {
      const state = await fixtureState('edit-targets', 'missing.cnf')
      const r = iniSetting(P('missing.cnf'), { section: 'mysqld', key: 'server_id', value: 3 })
      const c = asChange(r.plan({ content: null, state }))
      expect(c.summary).to.equal('create with add [mysqld] server_id = 3')
      expect(predicted(c, pathState(P('missing.cnf')))).to.include({ type: 'file', mode: '0644' })
      expect(iniSetting(P('missing.cnf'), { section: 'mysqld', key: 'x', state: 'absent' }).plan({ content: null, state }).kind).to.equal('ok')
    })

    it('bad keys and sections fail when built', () => {
      expect(() => iniSetting('/x', { section: 's', key: 'a=b', value: 1 })).to.throw(/key/)
      expect(() => iniSetting('/x', { section: 'a]', key: 'k', value: 1 })).to.throw(/section/)
      expect(() => iniSetting('/x', { section: 's', key: 'k', value: 'a\nb' })).to.throw(/one line/)
      expect(iniSetting('/etc/mysql/x.cnf', { section: 'mysqld', key: 'server_id', value: 1 }).id).to.equal('ini:/etc/mysql/x.cnf:[mysqld]server_id')
    })
  })

  describe('apply', () => {
    const tmp = useTempDir('ini')
    it('writes, and the next run is ok', async () => {
      const path = join(tmp.path, '50-server.cnf')
      await writeFile(path, CNF)
      const settings = [
        iniSetting(path, { section: 'mysqld', key: 'server_id', value: 2 }),
        iniSetting(path, { section: 'mysqld', key: 'read_only', value: 'ON' }),
      ]
      for (const r of settings) expect((await converge(r)).kind).to.equal('change')
      expect(await readFile(path, 'utf8')).to.equal(`${CNF.replace('server_id = 1', 'server_id = 2')}read_only = ON\n`)
      for (const r of settings) expect((await converge(r)).kind).to.equal('ok')
    })
  })
})
