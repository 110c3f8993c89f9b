import { expect } from 'chai'
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
})
