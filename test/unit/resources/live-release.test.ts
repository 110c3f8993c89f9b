import { expect } from 'chai'
import { liveRelease, planLiveRelease } from '../../../src/resources/live-release.ts'
import { parseReleaseState, releaseState, type ReleaseState } from '../../../src/resources/deploy/release-state.ts'
import { pathState } from '../../../src/facts/path.ts'
import { commandsOf } from '../../support/system-probe-fixture.ts'
import { asChange, predicted } from './file-family.support.ts'

const NEW = '20261125T095800Z-3e19dbba2ad4'
const OLD = '20200101T000000Z-0123456789ab'

/** What the release-state probe prints on a deployed host, parsed as the engine does. */
function hostSays(lines: string[]): ReleaseState {
  return parseReleaseState(lines.join('\n'), '/srv/app')
}
const deployed = (current: string, pid: number, cwd: string) =>
  hostSays([`current /srv/app/releases/${current}`, 'previous -', `pid ${pid}`, ...(pid ? [`cwd /srv/app/releases/${cwd}`] : []), `rel 1764064680 1 ${NEW}`, `rel 1577836800 1 ${OLD}`])

describe('liveRelease', () => {
  it('reads the release state of the root and its unit, in the probe batch', () => {
    const r = liveRelease({ root: '/srv/app', unit: 'app.service' })
    expect(r.id).to.equal('live-release:/srv/app/current')
    expect(Object.values(r.probe)[0]!.key).to.equal(releaseState('/srv/app', 'app.service').key)
  })

  it('current naming the release the service runs is ok; so are a host not deployed yet and a stopped service', () => {
    expect(planLiveRelease('/srv/app', 'app.service', deployed(NEW, 4242, NEW))).to.deep.equal({ kind: 'ok', detail: `release ${NEW} live` })
    expect(planLiveRelease('/srv/app', 'app.service', hostSays(['current -', 'previous -', 'pid 0'])).kind).to.equal('ok')
    expect(planLiveRelease('/srv/app', 'app.service', deployed(OLD, 0, ''))).to.deep.equal({ kind: 'ok', detail: `current -> ${OLD}; app.service is not running` })
  })

  it('current pointed by hand at an older release: drift, fixed by pointing it back at the running release, with no restart', async () => {
    const c = asChange(planLiveRelease('/srv/app', 'app.service', deployed(OLD, 4242, NEW)))
    expect(c.summary).to.equal(`current -> ${OLD} but app.service runs ${NEW}: point current back at ${NEW}`)
    expect(predicted(c, pathState('/srv/app/current'))).to.deep.include({ type: 'symlink', target: `/srv/app/releases/${NEW}` })
    expect(predicted(c, releaseState('/srv/app', 'app.service'))).to.deep.include({ current: NEW })
    const ran = await commandsOf(c)
    expect(ran).to.have.length(1)
    expect(ran[0]!.command).to.include(`ln -s -- /srv/app/releases/${NEW}`).and.include("mv -fT -- \"$tmp\" /srv/app/current")
    expect(ran[0]!.command).not.to.include('systemctl')
  })

  it('a running release that is gone from the host cannot be pointed back at: a person must deploy', () => {
    const s = hostSays([`current /srv/app/releases/${OLD}`, 'previous -', 'pid 4242', `cwd /srv/app/releases/${NEW}`, `rel 1577836800 1 ${OLD}`])
    expect(() => planLiveRelease('/srv/app', 'app.service', s)).to.throw(/no longer whole on this host/)
  })
})
