import { expect } from 'chai'
import { ensureLab, onHost, resetHosts } from '../support/lab.ts'
import { muster as cli } from '../support/cli.ts'
import { agreement, agreementTable, explain, results } from '../support/drift.ts'

/**
 * The catalogue's live-state resources on one lab host (web-02): `mount` with
 * a bind mount and a tmpfs. A lab host has its own mount namespace, so its
 * mounts are its own; it has no loop devices (no /dev/loop-control), so a
 * loop-mounted image is proven by plan tests only. From bare, check says
 * exactly what apply changes; a second run is changed=0 in one probe batch;
 * drift made by hand (a mount gone, an fstab line edited) is found by check
 * and fixed by one apply; a mount of a missing device fails naming host and
 * resource and leaves fstab, the mounts and the directories as they were.
 */
const PB = ['test/fixtures/lab/catalogue.ts', '-i', 'test/fixtures/lab/inventory.ts', '--json']
const HOST = 'web-02'
const MINUTE = 60_000
const muster = (args: string[]) => cli(args, {}, 5 * MINUTE)
const mounts = () => onHost(HOST, "awk '$2 ~ /^\\/srv\\// {print $1, $2, $3}' /proc/self/mounts")

describe('lab: catalogue resources (mount)', function () {
  this.timeout(10 * MINUTE)
  before(async function () {
    await ensureLab(this)
    await resetHosts([HOST])
  })
  after(async function () {
    this.timeout(5 * MINUTE)
    await resetHosts([HOST]) // its mounts and fstab lines are not the next suite's business
  })

  it('from bare: check says exactly what apply then changes', async () => {
    const c = await muster(['check', ...PB])
    expect(c.code, explain(c)).to.equal(2)
    const a = await muster(['apply', ...PB])
    expect(a.code, explain(a)).to.equal(0)
    const row = agreement('bare', c, a)
    expect(row.agree, agreementTable([row])).to.equal(true)
    expect(row.changed).to.deep.equal([`${HOST} directory:/srv/data`, `${HOST} mount:/srv/bind`, `${HOST} mount:/srv/scratch`])
    // the bind mount really shows the source directory's files
    await onHost(HOST, 'echo hello > /srv/data/probe')
    expect(await onHost(HOST, 'cat /srv/bind/probe')).to.equal('hello')
    expect(await mounts()).to.match(/^\S+ \/srv\/bind \S+\ntmpfs \/srv\/scratch tmpfs$/)
    expect(await onHost(HOST, "grep '^[^#]' /etc/fstab")).to.equal('/srv/data /srv/bind none bind 0 0\ntmpfs /srv/scratch tmpfs size=8m,mode=0755 0 0')
  })

  it('a second run changes nothing, in one probe batch', async () => {
    const r = await muster(['apply', ...PB])
    expect(r.code, explain(r)).to.equal(0)
    expect(r.recap!.hosts[HOST]!.changed).to.equal(0)
    expect(r.recap!.hosts[HOST]!.probeBatches).to.equal(1)
  })

  it('drift made by hand is found by check (exit 2, host, resource, diff) and fixed by one apply', async () => {
    await onHost(HOST, 'umount /srv/scratch && sed -i "s#^/srv/data /srv/bind none bind 0 0#/srv/data /srv/bind none bind,ro 0 0#" /etc/fstab')
    const c = await muster(['check', ...PB])
    expect(c.code, explain(c)).to.equal(2)
    const drifted = results(c).filter((e) => e.status === 'would-change')
    expect(drifted.map((e) => `${e.host} ${e.resource} ${e.summary}`).sort()).to.deep.equal([
      `${HOST} mount:/srv/bind /etc/fstab: replace "/srv/data /srv/bind none bind,ro 0 0"`,
      `${HOST} mount:/srv/scratch mount tmpfs`,
    ])
    expect(drifted[0]!.diff).to.match(/-\/srv\/data \/srv\/bind none bind,ro 0 0\n\+\/srv\/data \/srv\/bind none bind 0 0/)
    const a = await muster(['apply', ...PB])
    expect(a.code, explain(a)).to.equal(0)
    expect(results(a).filter((e) => e.status === 'changed').map((e) => e.resource).sort()).to.deep.equal(['mount:/srv/bind', 'mount:/srv/scratch'])
    expect(await mounts()).to.match(/\ntmpfs \/srv\/scratch tmpfs$/)
    const again = await muster(['check', ...PB])
    expect(again.code, explain(again)).to.equal(0)
  })

  it('bad input (a mount of a missing device): a clear error naming host and resource, and the host as it was', async () => {
    const snapshot = 'sha256sum /etc/fstab; cat /proc/self/mounts | sha256sum; ls -a /srv'
    const was = await onHost(HOST, snapshot)
    const r = await muster(['apply', ...PB, '-e', 'bad=mount'])
    expect(r.code, explain(r)).to.equal(1)
    const failed = results(r).filter((e) => e.status === 'failed')
    expect(failed.map((e) => `${e.host} ${e.resource}`)).to.deep.equal([`${HOST} mount:/srv/missing`])
    expect(failed[0]!.error).to.match(/\/dev\/muster-no-such-disk/)
    expect(await onHost(HOST, snapshot)).to.equal(was)
  })
})
