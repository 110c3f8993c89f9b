import { expect } from 'chai'
import { untilDeployed } from '../../../src/resources/deploy/until-deployed.ts'
import { releaseUpload, currentRelease, type Release } from '../../../src/resources/release.ts'
import { pathState } from '../../../src/facts/path.ts'
import { asChange, predicted } from './file-family.support.ts'

/** A release as buildRelease describes it, without building anything. */
const release: Release = {
  id: '20261125T095800Z-3e19dbba2ad4',
  hash: '3e19dbba2ad4',
  time: new Date(0),
  source: '/nonexistent',
  manifest: '{}\n',
  artifact: () => Promise.reject(new Error('not built in unit tests')),
}
const CURRENT = pathState('/srv/app/current')

// Check mode on a bare host: every step of the first release reads `current` (to know whether the
// host is deployed yet). A change that leaves `current` alone must say so, or the engine makes
// `current` unknown for every step after it: "unknown until applied" where apply is predictable.
describe('untilDeployed in check mode', () => {
  it('a wrapped change that does not touch `current` predicts it as it was', () => {
    const up = untilDeployed('/srv/app', releaseUpload(release, { root: '/srv/app' }))
    const c = asChange(up.plan({ manifest: { type: 'absent' }, __current: { type: 'absent' } } as never))
    expect(c.summary).to.equal(`upload release ${release.id}`)
    expect(predicted(c, CURRENT)).to.deep.equal({ type: 'absent' })
    expect(predicted(c, pathState(`/srv/app/releases/${release.id}/.muster-release.json`))).to.deep.include({ type: 'file' })
  })

  it('the change that makes `current` keeps its own prediction of it', () => {
    const link = untilDeployed('/srv/app', currentRelease(release, { root: '/srv/app' }))
    const c = asChange(link.plan({ state: { type: 'absent' }, __current: { type: 'absent' } } as never))
    expect(predicted(c, CURRENT)).to.deep.include({ type: 'symlink', target: `/srv/app/releases/${release.id}` })
    expect((c.predicts ?? []).filter((p) => 'query' in p && p.query.key === '/srv/app/current')).to.have.length(1)
  })

  it('a deployed host is left to `muster deploy`', () => {
    const up = untilDeployed('/srv/app', releaseUpload(release, { root: '/srv/app' }))
    const link = { type: 'symlink', target: '/srv/app/releases/x', owner: 'root', group: 'root', mtime: 1 }
    expect(up.plan({ manifest: { type: 'absent' }, __current: link } as never).kind).to.equal('ok')
  })
})
