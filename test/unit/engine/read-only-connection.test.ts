import { expect } from 'chai'
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { readOnly, CheckModeViolation } from '../../../src/engine/read-only-connection.ts'
import { RecordingConnection } from '../../support/fake-connection.ts'
import { READ_ONLY_HEADER } from '../../../src/engine/probe-batch.ts'

describe('engine: check mode is enforced at the connection', () => {
  it('lets probe scripts through and refuses any other command or upload', async () => {
    const inner = new RecordingConnection('h')
    const ro = readOnly(inner)
    expect((await ro.exec('sh -s', { stdin: `${READ_ONLY_HEADER}echo probe` })).stdout).to.equal('probe\n')
    let refused: unknown
    await ro.exec('sh -s', { stdin: 'rm -rf /tmp/x' }).catch((e: unknown) => (refused = e))
    expect(refused).to.be.instanceOf(CheckModeViolation)
    let err: unknown
    await ro.exec('touch /tmp/should-not-exist').catch((e: unknown) => (err = e))
    expect(err).to.be.instanceOf(CheckModeViolation)
    await ro.put('x', '/tmp/should-not-exist').catch((e: unknown) => (err = e))
    expect((err as Error).message).to.match(/check mode refused to upload/)
    expect(inner.commands.map((c) => c.command)).to.deep.equal(['sh -s'])
  })

  it('MUSTER_RECORD_PROBES (the bench floor\'s recorder) gets the probe scripts and reads that went through, in order, and nothing refused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'muster-record-'))
    const file = join(dir, 'probes.jsonl')
    writeFileSync(join(dir, 'f'), 'content')
    process.env.MUSTER_RECORD_PROBES = file
    try {
      const ro = readOnly(new RecordingConnection('h'))
      await ro.exec('sh -s', { stdin: `${READ_ONLY_HEADER}echo one` })
      await ro.exec('sh -s', { stdin: 'printf secret > /tmp/x' }).catch(() => undefined)
      await ro.put('secret', '/tmp/x').catch(() => undefined)
      await ro.get(join(dir, 'f'))
      const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, string>)
      expect(lines).to.deep.equal([
        { host: 'h', kind: 'exec', command: 'sh -s', script: `${READ_ONLY_HEADER}echo one` },
        { host: 'h', kind: 'get', path: join(dir, 'f') },
      ])
      expect(statSync(file).mode & 0o077).to.equal(0)
    } finally {
      delete process.env.MUSTER_RECORD_PROBES
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
