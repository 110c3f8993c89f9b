import { expect } from 'chai'
import { commandNames, loadCommands } from '../../../src/cli/main.ts'

describe('CLI commands, loaded on demand', () => {
  it('each name loads the module whose command it is, and help loads them all in the same order', async () => {
    const all = await loadCommands(['--help'])
    expect(all.map((c) => String(c.command).split(' ')[0])).to.deep.equal(commandNames)
    for (const name of commandNames) {
      const [only, ...more] = await loadCommands([name, '--json'])
      expect(more, name).to.deep.equal([])
      expect(String(only!.command).split(' ')[0]).to.equal(name)
    }
  })

  it('anything but a command name (a typo, an option, nothing) loads every command, for the error or help that lists them', async () => {
    for (const argv of [['chek'], ['--version'], [], ['constructor']]) expect(await loadCommands(argv), argv.join(' ')).to.have.length(commandNames.length)
  })
})
