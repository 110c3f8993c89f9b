import { expect } from 'chai'
import { planTable, recorded, literal, factValue, type PlanRow } from '../../../support/plan-table.ts'
import { loadFixture } from '../../../support/system-probe-fixture.ts'
import { aptRepository } from '../../../../src/resources/server/apt-repository.ts'
import { aptCandidate } from '../../../../src/facts/apt-candidate.ts'
import { pathState, type PathState } from '../../../../src/facts/path.ts'
import { isUnknown } from '../../../../src/contract/fact.ts'

// Recorded on lab web-01 (test/fixtures/probes/path/apt-repo-web-01-*) after test/lab/apt-repository.test.ts
// converged it against the repository it served, then with a source edited by hand. The source names the
// repository's address and the key is made for each recording: each release's recording has its own, the
// address in its meta.json (`url`; the first, Debian 12 one was served at http://10.83.0.1:46675).
const KEY = '/etc/apt/keyrings/muster-test.asc'
const recordedUrl = (): string => (loadFixture('path', 'apt-repo-web-01-converged').meta as { url?: string }).url ?? 'http://10.83.0.1:46675'
const recordedKey = () => factValue(pathState(KEY), recorded('path/apt-repo-web-01-converged')) as Extract<PathState, { type: 'file' }>
const repo = (sha256?: string) => () => {
  const URL = recordedUrl()
  return aptRepository('muster-test', { uris: URL, suites: ['stable'], components: ['main'], key: { url: `${URL}/key.asc`, sha256: sha256 ?? recordedKey().sha256 }, packages: ['muster-hello'] })
}
/** For rows over literals only. */
const URL = 'http://10.83.0.1:46675'
const facts = (state: string, name = 'muster-test') => ({ key: recorded(`path/apt-repo-web-01-${state}`, `/etc/apt/keyrings/${name}.asc`), sources: recorded(`path/apt-repo-web-01-${state}`, `/etc/apt/sources.list.d/${name}.sources`) })
const ARMOR = '-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmDMEZ...\n-----END PGP PUBLIC KEY BLOCK-----\n'

planTable('aptRepository: plan over recorded probes', (): PlanRow[] => [
  {
    name: 'bare (nothing of it on the host)',
    resource: repo(),
    facts: facts('converged', 'muster-other'),
    expect: `key ${KEY}: create, /etc/apt/sources.list.d/muster-test.sources: create, refresh its lists`,
    diff: /\+Signed-By: \/etc\/apt\/keyrings\/muster-test.asc/,
    // set aside, key fetched on the host and checked, source written, only this source refreshed
    commands: /muster-prev[\s\S]*curl -fsSL[\s\S]*sha256sum[\s\S]*t=\/etc\/apt\/sources.list.d\/muster-test.sources[\s\S]*apt-get update -q -o Dir::Etc::sourcelist=\/etc\/apt\/sources.list.d\/muster-test.sources -o Dir::Etc::sourceparts=- -o APT::Get::List-Cleanup=0 --error-on=any\nrm -f -- /,
    predicts: [{ query: pathState(KEY), value: { type: 'file', sha256: recordedKey().sha256 } }],
  },
  { name: 'converged (the key compared by its hash: not fetched)', resource: repo(), facts: facts('converged'), expect: 'ok' },
  { name: 'a source edited by hand', resource: repo(), facts: facts('drifted'), expect: '/etc/apt/sources.list.d/muster-test.sources: content, refresh its lists' },
  { name: 'a new key pinned', resource: repo('a'.repeat(64)), facts: facts('converged'), expect: `key ${KEY}: content, refresh its lists` },
  { name: 'an inline key that is not armored', resource: () => aptRepository('x', { uris: URL, suites: ['stable'], key: { inline: 'AAAA' } }), facts: {}, expect: { throws: /ASCII-armored/ } },
  { name: 'a sha256 that is not one', resource: repo('abc'), facts: {}, expect: { throws: /64 lowercase hex/ } },
  { name: 'a URI with a space', resource: () => aptRepository('x', { uris: 'http://a b', suites: ['s'], key: { inline: ARMOR } }), facts: {}, expect: { throws: /not an http\(s\) or file URI/ } },
  { name: 'an inline key, bare', resource: () => aptRepository('x', { uris: URL, suites: ['stable/'], key: { inline: ARMOR } }), facts: { key: literal({ type: 'absent' }), sources: literal({ type: 'absent' }) }, expect: 'key /etc/apt/keyrings/x.asc: create, /etc/apt/sources.list.d/x.sources: create, refresh its lists' },
])

describe('aptRepository: check mode on a bare host', () => {
  it('makes the candidates of the packages it offers unknown (not "none"), so apt after it plans instead of failing', () => {
    const r = aptRepository('muster-test', { uris: URL, suites: ['stable'], components: ['main'], key: { url: `${URL}/key.asc`, sha256: 'a'.repeat(64) }, packages: ['muster-hello'] })
    const plan = r.plan({ key: { type: 'absent' }, sources: { type: 'absent' } } as never)
    expect(plan.kind).to.equal('change')
    const p = (plan.kind === 'change' ? plan.predicts ?? [] : []).find((x) => 'query' in x && x.query.kind === aptCandidate('muster-hello').kind)
    expect(p && 'query' in p && isUnknown(p.value)).to.equal(true)
  })
})
