import { planTable, recorded, factValue, type PlanRow } from '../../../support/plan-table.ts'
import { cron, systemdTimer, download } from '../../../../src/resources/server/index.ts'
import { pathState, type PathState } from '../../../../src/facts/path.ts'

// Recorded on lab web-01 (test/fixtures/probes/{path,systemd-unit}/jobs-web-01-*): bare, converged by
// test/fixtures/lab/jobs.ts, and drifted by hand (see the fixtures' meta.json).
const path = (state: string) => recorded(`path/jobs-web-01-${state}`)
const unit = (state: string) => recorded(`systemd-unit/jobs-web-01-${state}`)
const BLOB = '/usr/local/share/muster-blob.bin'
/** The blob the host was served when it was recorded (each release's recording had its own). */
const recordedBlobSha = (): string => (factValue(pathState(BLOB), recorded('path/jobs-web-01-converged')) as Extract<PathState, { type: 'file' }>).sha256
const job = () => cron('muster-job', { schedule: '*/5 * * * *', command: 'touch /var/tmp/muster-cron', env: { MAILTO: '' } })
const tick = () => systemdTimer('muster-tick', { onCalendar: '*-*-* 03:00:00', command: '/usr/bin/touch /var/tmp/muster-tick' })
const blob = (sha?: string) => () => download(BLOB, { url: 'http://10.83.0.1:8080/blob.bin', sha256: sha ?? recordedBlobSha(), mode: '0640' })

planTable('cron: plan over recorded probes', [
  { name: 'bare', resource: job, facts: { state: path('bare') }, expect: 'create', diff: /\+MAILTO=\n\+\*\/5 \* \* \* \* root touch \/var\/tmp\/muster-cron/ },
  { name: 'converged', resource: job, facts: { state: path('converged') }, expect: 'ok' },
  { name: 'schedule edited by hand', resource: job, facts: { state: path('drifted') }, expect: 'content' },
  { name: 'a dotted name cron skips', resource: () => cron('job.sh', { schedule: '@daily', command: 'true' }), facts: {}, expect: { throws: /cron skips files with a dot/ } },
  { name: 'four fields', resource: () => cron('j', { schedule: '* * * *', command: 'true' }), facts: {}, expect: { throws: /not five cron fields/ } },
  { name: 'a two-line command', resource: () => cron('j', { schedule: '@daily', command: 'a\nb' }), facts: {}, expect: { throws: /one non-empty line/ } },
])

planTable('systemdTimer: plan over recorded probes', [
  { name: 'bare: the service file', resource: () => tick()[0]!, facts: { state: path('bare'), unit: recorded('systemd-unit/jobs-web-01-bare', 'muster-tick.service') }, expect: 'create', diff: /\+ExecStart=\/usr\/bin\/touch \/var\/tmp\/muster-tick/ },
  { name: 'bare: the timer file', resource: () => tick()[1]!, facts: { state: path('bare'), unit: unit('bare') }, expect: 'create', diff: /\+OnCalendar=\*-\*-\* 03:00:00\n\+Persistent=true/, commands: /systemd-analyze calendar --iterations=1 -- '\*-\*-\* 03:00:00'/ },
  { name: 'converged: the timer file', resource: () => tick()[1]!, facts: { state: path('converged'), unit: unit('converged') }, expect: 'ok' },
  { name: 'converged: the timer runs', resource: () => tick()[2]!, facts: { unit: unit('converged') }, expect: 'ok' },
  { name: 'OnCalendar edited by hand', resource: () => tick()[1]!, facts: { state: path('drifted'), unit: unit('converged') }, expect: /^content/ },
  { name: 'a relative command', resource: () => systemdTimer('x', { onCalendar: 'daily', command: 'touch /x' })[0]!, facts: {}, expect: { throws: /absolute path/ } },
])

planTable('download: plan over recorded probes', (): PlanRow[] => {
  const blobSha = recordedBlobSha()
  return [
  { name: 'bare', resource: blob(), facts: { state: path('bare') }, expect: 'fetch from http://10.83.0.1:8080/blob.bin', commands: /curl -fsSL[\s\S]*sha256sum[\s\S]*chmod -- 0640 "\$tmp"\nmv -fT -- "\$tmp" "\$t"$/, predicts: [{ query: pathState(BLOB), value: { type: 'file', mode: '0640', sha256: blobSha } }] },
  { name: 'converged: compared by hash, nothing fetched', resource: blob(), facts: { state: path('converged') }, expect: 'ok' },
  { name: 'overwritten by hand', resource: blob(), facts: { state: path('drifted') }, expect: new RegExp(`^fetch \\(sha256 [0-9a-f]{12} -> ${blobSha.slice(0, 12)}\\) from http`) },
  { name: 'through the controller', resource: () => download(BLOB, { url: 'http://10.83.0.1:8080/blob.bin', sha256: blobSha, via: 'controller' }), facts: { state: path('bare') }, expect: 'fetch from http://10.83.0.1:8080/blob.bin through the controller', controllerApply: true },
  { name: 'a sha256 that is not one', resource: blob('xyz'), facts: {}, expect: { throws: /64 lowercase hex/ } },
]
})
