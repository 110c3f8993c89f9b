import { createHash } from 'node:crypto'
import { planTable, recorded, literal, factValue, type PlanRow } from '../../../support/plan-table.ts'
import { archive } from '../../../../src/resources/server/index.ts'
import { pathState, type PathState } from '../../../../src/facts/path.ts'

// Recorded on trixie lab host web-02 (test/fixtures/probes/path/archive-web-02-*): a tarball and a file that is
// not one made in /srv/pkg (bare), then test/fixtures/lab/catalogue.ts applied (converged), then the marker
// rewritten by hand to name another archive (other).
// The tarball is made on the host (tar stores the time): each release's recording has its own sha256.
const recordedApp = (): string => (factValue(pathState('/srv/pkg/app.tar.gz'), recorded('path/archive-web-02-bare')) as Extract<PathState, { type: 'file' }>).sha256
const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex')
const JUNK = '0f184b53c2d29ec6cf9e22f6b187062e16ffb02a1a924f43dd54bd06f6455ef1'
const facts = (rec: string, src = '/srv/pkg/app.tar.gz') => ({ src: recorded(`path/archive-web-02-${rec}`, src), dir: recorded(`path/archive-web-02-${rec}`, '/srv/app'), marker: recorded(`path/archive-web-02-${rec}`, '/srv/app/.muster-archive') })
const app = () => archive('/srv/app', { src: '/srv/pkg/app.tar.gz', sha256: recordedApp() })

planTable('archive: plan over recorded probes', (): PlanRow[] => {
  const APP = recordedApp()
  return [
  { name: 'bare', resource: app, facts: facts('bare'), expect: 'unpack /srv/pkg/app.tar.gz', commands: /^new=\$\(mktemp -d \/srv\/app\.muster-XXXXXX\) \|\| exit 1\ntar -xf \/srv\/pkg\/app\.tar\.gz -C "\$new" --no-same-owner \|\| \{ rc=\$\?; rm -rf -- "\$new"; exit \$rc; \}[\s\S]*mv -T -- "\$new" \/srv\/app/, predicts: [{ query: pathState('/srv/app'), value: { type: 'directory' } }, { query: pathState('/srv/app/.muster-archive'), value: { type: 'file', sha256: sha256(`${APP}\n`) } }] },
  { name: 'converged', resource: app, facts: facts('converged'), expect: 'ok' },
  { name: 'converged, the tarball since removed', resource: app, facts: { ...facts('converged'), src: literal({ type: 'absent' }) }, expect: 'ok' },
  { name: 'another archive was unpacked there', resource: app, facts: facts('other'), expect: 'unpack /srv/pkg/app.tar.gz (another archive was there)' },
  { name: 'a sha256 the tarball does not have', resource: () => archive('/srv/app', { src: '/srv/pkg/app.tar.gz', sha256: 'e'.repeat(64) }), facts: facts('converged'), expect: { throws: new RegExp(`sha256 is ${APP.slice(0, 8)}.*, expected e{64}; nothing unpacked`) } },
  { name: 'not an archive: planned, tar refuses it on apply', resource: () => archive('/srv/app', { src: '/srv/pkg/not-an-archive.tar.gz', sha256: JUNK }), facts: facts('converged', '/srv/pkg/not-an-archive.tar.gz'), expect: 'unpack /srv/pkg/not-an-archive.tar.gz (another archive was there)' },
  { name: 'no tarball on the host', resource: app, facts: { ...facts('bare'), src: literal({ type: 'absent' }) }, expect: { throws: /no such file on this host/ } },
  { name: 'a bad sha256', resource: () => archive('/srv/app', { src: '/srv/pkg/app.tar.gz', sha256: 'abc' }), facts: {}, expect: { throws: /64 lowercase hex digits/ } },
  { name: 'a top-level directory', resource: () => archive('/srv', { src: '/srv/pkg/app.tar.gz', sha256: APP }), facts: {}, expect: { throws: /at least two levels deep/ } },
]
})
