import { expect } from 'chai'
import { createHash, randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ensureLab, resetHosts, onHost } from '../support/lab.ts'
import { muster as cli } from '../support/cli.ts'
import { agreement, agreementTable, explain, results } from '../support/drift.ts'
import { serveDirectory } from '../support/serve-files.ts'
import { readState } from '../../src/lab/state.ts'

/**
 * cron, systemdTimer and download on a real host (web-01): from bare, check
 * agrees with apply; a second run changes nothing; hand-made drift is found
 * and fixed; a download whose sha256 does not match is refused, on the host and
 * through the controller, and the file stays as it was.
 */
const MINUTE = 60_000
const BLOB = '/usr/local/share/muster-blob.bin'

describe('lab: cron, systemdTimer and download', function () {
  this.timeout(15 * MINUTE)
  const dir = mkdtempSync(join(tmpdir(), 'muster-files-'))
  const blob = randomBytes(200_000)
  writeFileSync(join(dir, 'blob.bin'), blob)
  const sha = createHash('sha256').update(blob).digest('hex')
  let served: { url: string; close(): Promise<void> }
  const muster = (args: string[]) => cli([...args, '--json'], { MUSTER_TEST_FILES_URL: served.url, MUSTER_TEST_BLOB_SHA256: sha }, 10 * MINUTE)
  const PB = ['test/fixtures/lab/jobs.ts', '-i', 'test/fixtures/lab/inventory.ts']

  before(async function () {
    await ensureLab(this)
    await resetHosts(['web-01'])
    served = await serveDirectory(dir, readState()!.bridge.address)
    // the lab's apt proxy is set for apt only; curl on the host goes direct
  })
  after(async function () {
    this.timeout(5 * 60_000)
    await served?.close()
    rmSync(dir, { recursive: true, force: true })
    await resetHosts(['web-01']) // its timers and cron jobs are not the next suite's business
  })

  it('from bare: check says exactly what apply then changes, and the timer, cron job and files are real', async () => {
    const c = await muster(['check', ...PB])
    expect(c.code, explain(c)).to.equal(2)
    const a = await muster(['apply', ...PB])
    expect(a.code, explain(a)).to.equal(0)
    const row = agreement('bare', c, a)
    expect(row.agree, agreementTable([row])).to.equal(true)
    expect(row.unknown, 'check predicted every step exactly').to.deep.equal([])
    expect(await onHost('web-01', 'systemctl is-enabled muster-tick.timer; systemctl is-active muster-tick.timer')).to.equal('enabled\nactive')
    await onHost('web-01', 'systemctl start muster-tick.service')
    expect(await onHost('web-01', 'test -f /var/tmp/muster-tick && echo ran')).to.equal('ran')
    expect(await onHost('web-01', 'stat -c %a:%U /etc/cron.d/muster-job; systemctl is-active cron')).to.equal('644:root\nactive')
    expect(await onHost('web-01', `sha256sum < ${BLOB} | cut -d' ' -f1; stat -c %a ${BLOB}; sha256sum < /usr/local/share/muster-blob-2.bin | cut -d' ' -f1`)).to.equal(`${sha}\n640\n${sha}`)
  })

  it('a second run changes nothing, in one probe batch, and fetches nothing', async () => {
    const r = await muster(['apply', ...PB])
    expect(r.code, explain(r)).to.equal(0)
    expect(r.recap!.hosts['web-01']!.changed).to.equal(0)
    expect(r.recap!.hosts['web-01']!.probeBatches).to.equal(1)
    expect(r.recap!.hosts['web-01']!.stats.execs).to.equal(1)
  })

  it('drift made by hand is found by check (with a diff for the job) and fixed by one apply', async () => {
    await onHost('web-01', [
      "sed -i 's#^\\*/5 #*/1 #' /etc/cron.d/muster-job",
      "sed -i 's/^OnCalendar=.*/OnCalendar=hourly/' /etc/systemd/system/muster-tick.timer",
      `head -c 100 /dev/urandom > ${BLOB}`,
    ].join(' && '))
    const c = await muster(['check', ...PB])
    expect(c.code, explain(c)).to.equal(2)
    const d = results(c).filter((e) => e.status === 'would-change')
    expect(d.map((e) => e.resource).sort()).to.deep.equal(['cron:/etc/cron.d/muster-job', `download:${BLOB}`, 'systemd-unit-file:/etc/systemd/system/muster-tick.timer'])
    expect(d.find((e) => e.resource.startsWith('cron'))!.diff).to.match(/-\*\/1 \* \* \* \* root touch \/var\/tmp\/muster-cron\n\+\*\/5 /)
    expect(d.find((e) => e.resource.startsWith('download'))!.summary).to.match(/^fetch \(sha256 [0-9a-f]{12} -> [0-9a-f]{12}\) from http/)
    const a = await muster(['apply', ...PB])
    expect(a.code, explain(a)).to.equal(0)
    expect(results(a).filter((e) => e.status === 'changed').map((e) => e.resource).sort()).to.deep.equal(d.map((e) => e.resource).sort())
    expect((await muster(['check', ...PB])).code).to.equal(0)
  })

  for (const bad of ['download', 'download-controller']) {
    it(`bad input (${bad} with a sha256 that does not match): refused, the file as it was`, async () => {
      const snapshot = 'sha256sum /usr/local/share/muster-blob*; ls -a /usr/local/share'
      const was = await onHost('web-01', snapshot)
      const r = await muster(['apply', ...PB, '-e', `bad=${bad}`])
      expect(r.code, explain(r)).to.equal(1)
      const failed = results(r).filter((e) => e.status === 'failed')
      expect(failed.map((e) => e.resource)).to.have.length(1)
      expect(failed[0]!.error).to.match(/has sha256 [0-9a-f]{64}, not the pinned e{64}; nothing written/)
      expect(await onHost('web-01', snapshot)).to.equal(was)
    })
  }
})
