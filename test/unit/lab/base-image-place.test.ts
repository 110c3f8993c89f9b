import { mkdirSync, mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect } from 'chai'
import { placeBuild } from '../../../src/lab/base-image.ts'

describe('lab base image: a finished build takes its name', () => {
  let root: string
  beforeEach(() => (root = mkdtempSync(join(tmpdir(), 'muster-base-place-'))))
  afterEach(() => rmSync(root, { recursive: true, force: true }))
  const build = (name: string, complete: boolean): string => {
    const d = join(root, name)
    mkdirSync(join(d, 'etc'), { recursive: true })
    if (complete) writeFileSync(join(d, '.muster-lab-base.json'), '{}\n')
    return d
  }

  it('renames the build into place when the name is free', () => {
    const partial = build('.lab-base-x.partial-1', true)
    expect(placeBuild(partial, join(root, 'lab-base-x'))).to.equal(true)
    expect(existsSync(join(root, 'lab-base-x', '.muster-lab-base.json'))).to.equal(true)
  })

  it('when another build finished the same image first, says so (the caller adopts it) and leaves that image alone', () => {
    const first = build('lab-base-x', true)
    const partial = build('.lab-base-x.partial-2', true)
    expect(placeBuild(partial, first)).to.equal(false)
    expect(existsSync(join(first, '.muster-lab-base.json'))).to.equal(true)
  })

  it('anything incomplete under the name is still an error', () => {
    const stray = build('lab-base-x', false)
    const partial = build('.lab-base-x.partial-3', true)
    expect(() => placeBuild(partial, stray)).to.throw(/ENOTEMPTY|EEXIST/)
  })
})
