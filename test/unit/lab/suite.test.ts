import { expect } from 'chai'
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chooseLabSuite, parseLabSuite } from '../../../src/lab/suite.ts'
import { baseImageDir } from '../../../src/lab/base-image.ts'
import { osRelease } from '../../../src/lab/status.ts'
import { UsageError } from '../../../src/core/errors.ts'

describe('lab: which Debian release', () => {
  const saved = process.env.MUSTER_LAB_SUITE
  afterEach(() => {
    if (saved === undefined) delete process.env.MUSTER_LAB_SUITE
    else process.env.MUSTER_LAB_SUITE = saved
  })

  it('asked (--suite) > MUSTER_LAB_SUITE > the release running > trixie', () => {
    delete process.env.MUSTER_LAB_SUITE
    expect(chooseLabSuite(undefined, undefined)).to.equal('trixie')
    expect(chooseLabSuite(undefined, 'bookworm')).to.equal('bookworm')
    process.env.MUSTER_LAB_SUITE = 'bookworm'
    expect(chooseLabSuite(undefined, 'trixie')).to.equal('bookworm')
    expect(chooseLabSuite('trixie', 'bookworm')).to.equal('trixie')
  })

  it('refuses a suite it cannot boot, naming where it came from', () => {
    expect(() => parseLabSuite('sid', '--suite')).to.throw(UsageError, '--suite must be one of trixie, bookworm, not "sid"')
    process.env.MUSTER_LAB_SUITE = 'Buster'
    expect(() => chooseLabSuite(undefined, undefined)).to.throw(UsageError, /MUSTER_LAB_SUITE must be one of/)
    expect(parseLabSuite(' TRIXIE ', 'x')).to.equal('trixie')
  })

  it('each release has its own base image; bookworm keeps the cache key it had before releases existed', () => {
    expect(baseImageDir('trixie')).not.to.equal(baseImageDir('bookworm'))
    // machines that built the Debian 12 image before this change keep using it
    expect(baseImageDir('bookworm')).to.match(/lab-base-f80c75557ffb$/)
  })

  it('reads the release a host says it runs from its disk', () => {
    const root = mkdtempSync(join(tmpdir(), 'muster-osr-'))
    try {
      expect(osRelease(root)).to.equal(undefined)
      mkdirSync(join(root, 'usr/lib'), { recursive: true })
      writeFileSync(join(root, 'usr/lib/os-release'), 'PRETTY_NAME="Debian GNU/Linux 13 (trixie)"\nNAME="Debian GNU/Linux"\nVERSION_ID="13"\n')
      expect(osRelease(root)).to.equal('Debian GNU/Linux 13 (trixie)')
    } finally {
      rmSync(root, { recursive: true, force: true })
    }
  })
})
