import { expect } from 'chai'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { typecheckPlaybook } from '../../../src/cli/typecheck.ts'
import { UsageError } from '../../../src/core/errors.ts'

/**
 * The same declarations that check a host's vars before a run make mistakes
 * compile errors: in a TypeScript inventory typed with InventoryVars, and in a
 * role's own code. Each fixture marks the lines that must fail, and with what.
 */
const fixture = (name: string) => fileURLToPath(new URL(`../../fixtures/typed-roles/${name}`, import.meta.url))

function expectedErrors(file: string): string[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .flatMap((line, i) => {
      const m = /\/\/ error (TS\d+)/.exec(line)
      return m ? [`${i + 1} ${m[1]}`] : []
    })
}

/** `// error TS2561 says: Did you mean to write 'mysqlServerId'?`: what the message at that line must contain (the rest of the line). */
function expectedMessages(file: string): Map<number, string> {
  const out = new Map<number, string>()
  readFileSync(file, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      const m = /\/\/ error TS\d+ says: (.+)$/.exec(line)
      if (m) out.set(i + 1, m[1]!)
    })
  return out
}

function typecheckOutput(file: string): string {
  try {
    typecheckPlaybook(file, `test-${Date.now()}-${Math.random()}`)
  } catch (err) {
    if (!(err instanceof UsageError)) throw err
    return err.message
  }
  return ''
}

function reportedErrors(file: string, output: string): string[] {
  const name = file.split('/').pop()!
  return [...output.matchAll(new RegExp(`${name.replace('.', '\\.')}\\((\\d+),\\d+\\): error (TS\\d+)`, 'g'))].map((m) => `${m[1]} ${m[2]}`)
}

/** The message of the error at `line`, with the lines that follow it (up to the next error). */
function messageAt(file: string, output: string, line: number): string {
  const name = file.split('/').pop()!
  const start = output.indexOf(`${name}(${line},`)
  if (start < 0) return ''
  const next = output.indexOf(`${name}(`, start + 1)
  return output.slice(start, next < 0 ? undefined : next)
}

describe('typed roles at compile time', function () {
  this.timeout(60_000)
  for (const name of ['inventory.ts', 'inventory-for.ts', 'role.ts', 'catalogue.ts']) {
    it(`${name}: exactly the marked lines fail to type-check, with the marked errors`, () => {
      const file = fixture(name)
      const expected = expectedErrors(file)
      expect(expected.length).to.be.greaterThan(1)
      const output = typecheckOutput(file)
      expect(reportedErrors(file, output)).to.deep.equal(expected)
      for (const [line, text] of expectedMessages(file)) expect(messageAt(file, output, line), `line ${line}`).to.include(text)
    })
  }
})
