import { expect } from 'chai'
import { ensureLab, resetHosts, onHost } from '../support/lab.ts'
import { muster as cli } from '../support/cli.ts'
import { agreement, agreementTable, explain, results } from '../support/drift.ts'
import { startLocalRepo, type LocalRepo } from '../support/local-apt-repo.ts'
import { readState } from '../../src/lab/state.ts'

/**
 * aptRepository against a signed repository served from the controller in the
 * lab (never a public one): from bare, check plans the repository and the
 * install of its package and apply does exactly that; a second run changes
 * nothing and does not refresh apt's lists; a source edited by hand is drift;
 * a key whose sha256 does not match and a repository signed by another key are
 * refused with the host's apt as it was.
 */
const HOSTS = ['web-01', 'web-02']
const MINUTE = 60_000
const SOURCES = '/etc/apt/sources.list.d/muster-test.sources'
const KEY = '/etc/apt/keyrings/muster-test.asc'

describe('lab: aptRepository with a local signed repository', function () {
  this.timeout(15 * MINUTE)
  let repo: LocalRepo
  const muster = (args: string[]) =>
    cli([...args, '--json'], { MUSTER_TEST_REPO_URL: repo.url, MUSTER_TEST_REPO_KEY: repo.key, MUSTER_TEST_REPO_KEY_SHA256: repo.keySha256, MUSTER_TEST_REPO_OTHER_KEY: repo.otherKey }, 10 * MINUTE)
  const PB = ['test/fixtures/lab/apt-repository.ts', '-i', 'test/fixtures/lab/inventory.ts']
  // the test repository's suite is "stable", the mirror's "bookworm": these are its lists only
  const lists = (h: string) => onHost(h, 'stat -c %Y:%n /var/lib/apt/lists/*_dists_stable_* 2>/dev/null | sort || true')

  before(async function () {
    await ensureLab(this)
    await resetHosts(HOSTS)
    repo = await startLocalRepo(readState()!.bridge.address)
    // the lab's apt proxy serves the mirror only: the test repository is reached directly
    const host = new URL(repo.url).hostname
    for (const h of HOSTS) await onHost(h, `echo 'Acquire::http::Proxy::${host} "DIRECT";' > /etc/apt/apt.conf.d/99-muster-test-repo`)
  })
  after(async function () {
    this.timeout(5 * 60_000)
    if (repo) await repo.close()
    // the hosts keep a source whose server is gone, and apt-get update would fail on it:
    // the suites after this one get bare hosts back
    await resetHosts(HOSTS)
  })

  it('from bare: check plans the repository and the install of its package, and apply does exactly that', async () => {
    const c = await muster(['check', ...PB])
    expect(c.code, explain(c)).to.equal(2)
    expect(results(c).map((e) => `${e.host} ${e.resource} ${e.status}: ${e.summary}`)).to.include.members([
      `web-01 apt-repository:muster-test would-change: key ${KEY}: create, ${SOURCES}: create, refresh its lists`,
      'web-01 apt:muster-hello would-change: install muster-hello',
    ])
    const a = await muster(['apply', ...PB])
    expect(a.code, explain(a)).to.equal(0)
    const row = agreement('bare', c, a)
    expect(row.agree, agreementTable([row])).to.equal(true)
    for (const h of HOSTS) expect(await onHost(h, 'cat /usr/share/muster-hello/hello.txt')).to.equal('hello from muster-hello 1.0')
  })

  it('a second run changes nothing and leaves apt\'s lists alone', async () => {
    const was = await lists('web-01')
    expect(was).to.include('_dists_stable_InRelease')
    const r = await muster(['apply', ...PB])
    expect(r.code, explain(r)).to.equal(0)
    for (const h of HOSTS) {
      expect(r.recap!.hosts[h]!.changed, h).to.equal(0)
      expect(r.recap!.hosts[h]!.probeBatches, h).to.equal(1)
    }
    expect(await lists('web-01')).to.equal(was)
  })

  it('a source edited by hand is drift with a diff, fixed by one apply (which refreshes the lists)', async () => {
    await onHost('web-02', `sed -i 's/^Components: main$/Components: main contrib/' ${SOURCES}`)
    const c = await muster(['check', ...PB])
    expect(c.code, explain(c)).to.equal(2)
    const d = results(c).filter((e) => e.status === 'would-change')
    expect(d.map((e) => `${e.host} ${e.resource}`)).to.deep.equal(['web-02 apt-repository:muster-test'])
    expect(d[0]!.diff).to.match(/-Components: main contrib\n\+Components: main/)
    const a = await muster(['apply', ...PB])
    expect(a.code, explain(a)).to.equal(0)
    expect(results(a).filter((e) => e.status === 'changed').map((e) => `${e.host} ${e.resource}`)).to.deep.equal(['web-02 apt-repository:muster-test'])
  })

  it('a key fetched by URL (on the host, or through the controller) is checked against its sha256 and fetched only when it differs', async () => {
    const same = await muster(['apply', ...PB, '-e', 'keyFrom=url'])
    expect(same.code, explain(same)).to.equal(0)
    expect(same.recap!.hosts['web-01']!.changed).to.equal(0) // the inline key is the same bytes
    await onHost('web-01', `rm ${KEY}`)
    await onHost('web-02', `rm ${KEY}`)
    const fetched = await muster(['apply', ...PB, '-e', 'keyFrom=url', '--limit', 'web-01'])
    expect(fetched.code, explain(fetched)).to.equal(0)
    const viaController = await muster(['apply', ...PB, '-e', 'keyFrom=url-controller', '--limit', 'web-02'])
    expect(viaController.code, explain(viaController)).to.equal(0)
    for (const h of HOSTS) expect(await onHost(h, `sha256sum < ${KEY}`)).to.match(new RegExp(`^${repo.keySha256} `))
  })

  for (const [bad, error] of [
    ['badsha', /sha256 [0-9a-f]{64}, not the pinned f{64}[\s\S]*back as they were/],
    ['otherkey', /apt-get update[\s\S]*(NO_PUBKEY|not signed|signatures? (couldn't be verified|were invalid))[\s\S]*back as they were/],
  ] as const) {
    it(`bad input (${bad}): refused, and the host's key, source and apt as they were`, async () => {
      const snapshot = `sha256sum ${KEY} ${SOURCES}; ls /etc/apt/keyrings /etc/apt/sources.list.d; apt-cache policy muster-hello | head -3`
      const was = await onHost('web-01', snapshot)
      const r = await muster(['apply', ...PB, '-e', `keyFrom=${bad}`, '--limit', 'web-01'])
      expect(r.code, explain(r)).to.equal(1)
      const failed = results(r).filter((e) => e.status === 'failed')
      expect(failed.map((e) => `${e.host} ${e.resource}`)).to.deep.equal(['web-01 apt-repository:muster-test'])
      expect(failed[0]!.error).to.match(error)
      expect(await onHost('web-01', snapshot)).to.equal(was)
      expect(await onHost('web-01', 'apt-get update -q --error-on=any >/dev/null 2>&1 && echo clean')).to.equal('clean')
    })
  }
})
