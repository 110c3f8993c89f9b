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

function reportedErrors(file: string): string[] {
  try {
    typecheckPlaybook(file, `test-${Date.now()}-${Math.random()}`)
  } catch (err) {
    if (!(err instanceof UsageError)) throw err
    const name = file.split('/').pop()!
    return [...err.message.matchAll(new RegExp(`${name.replace('.', '\\.')}\\((\\d+),\\d+\\): error (TS\\d+)`, 'g'))].map((m) => `${m[1]} ${m[2]}`)
  }
  return []
}

describe('typed roles at compile time', function () {
  this.timeout(60_000)
  for (const name of ['inventory.ts', 'role.ts', 'catalogue.ts']) {
    it(`${name}: exactly the marked lines fail to type-check, with the marked errors`, () => {
      const file = fixture(name)
      const expected = expectedErrors(file)
      expect(expected.length).to.be.greaterThan(1)
      expect(reportedErrors(file)).to.deep.equal(expected)
    })
  }
})
