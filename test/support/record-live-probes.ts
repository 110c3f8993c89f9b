/**
 * Records the live-state probes of issue 15 on the lab, from a converged
 * reference stack (`npx muster apply playbooks/site.ts -i inventory/lab.ts`):
 *
 *   npx tsx test/support/record-live-probes.ts
 *
 * haproxy-servers: lb-01 as converged; lb-01 with web-02 put in maintenance
 * and web-01's weight set to 0 through the runtime API (set back at once);
 * db-03, which runs no HAProxy. unit-environment: web-01's app as it runs, and
 * lb-01, which runs no app. The app's password hash is replaced by that of a
 * fixture password, so no credential of the lab is committed.
 */
import { createHash } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { shellFact } from '../../src/facts/shell.ts'
import { haproxyServers } from '../../src/resources/haproxy-servers.ts'
import { unitEnvironment } from '../../src/resources/unit-environment.ts'
import { handler } from '../../src/resources/service.ts'
import { secret } from '../../src/core/secret.ts'
import { labExec } from '../../src/lab/exec.ts'
import { recordProbe, labConnection, FIXTURES_DIR } from './record-probes.ts'

export const FIXTURE_APP_PASSWORD = 'fixture-app-password'
const keyOf = (r: { probe: Record<string, { key: string }> }): string => r.probe.live!.key

/** The probes as the reference roles make them (roles/haproxy, roles/app): the fixtures' keys. */
export const haproxyProbe = keyOf(haproxyServers({ backend: 'web' }) as never)
export const appEnvProbe = keyOf(
  unitEnvironment('app.service', { PORT: 3000, DB_PASSWORD: secret(FIXTURE_APP_PASSWORD) }, { restart: handler('restart app', 'true') }) as never,
)

async function runtime(command: string): Promise<void> {
  const r = await labExec('lb-01', 'socat stdio UNIX-CONNECT:/run/haproxy/admin.sock', { stdin: `${command}\n` })
  if (r.code !== 0 || r.stdout.trim() !== '') throw new Error(`lb-01: ${command}: ${r.stdout}${r.stderr}`)
}

if (process.argv[1]?.endsWith('record-live-probes.ts')) {
  const kind = shellFact as never
  await recordProbe(labConnection('lb-01'), kind, [haproxyProbe], 'haproxy-servers', 'converged')
  await runtime('set server web/web-02 state maint')
  await runtime('set weight web/web-01 0')
  try {
    await recordProbe(labConnection('lb-01'), kind, [haproxyProbe], 'haproxy-servers', 'forced')
  } finally {
    await runtime('set server web/web-02 state ready')
    await runtime('set weight web/web-01 1')
  }
  await recordProbe(labConnection('db-03'), kind, [haproxyProbe], 'haproxy-servers', 'no-haproxy')

  await recordProbe(labConnection('web-01'), kind, [appEnvProbe], 'unit-environment', 'app-running')
  await recordProbe(labConnection('lb-01'), kind, [appEnvProbe], 'unit-environment', 'not-running')
  // the lab's password hash becomes the fixture password's
  const file = join(FIXTURES_DIR, 'unit-environment', 'app-running.txt')
  const fake = createHash('sha256').update(FIXTURE_APP_PASSWORD).digest('hex')
  const text = readFileSync(file, 'utf8').replace(/^(#muster-secret DB_PASSWORD )[0-9a-f]{64}/m, `$1${fake}`)
  if (!text.includes(fake)) throw new Error(`${file}: no DB_PASSWORD hash to replace`)
  writeFileSync(file, text.replace(/\b10\.(7[7-9]|8[0-6])\.0\.(\d+)\b/g, '10.77.0.$2'))
  for (const n of ['converged', 'forced']) {
    const f = join(FIXTURES_DIR, 'haproxy-servers', `${n}.txt`)
    writeFileSync(f, readFileSync(f, 'utf8').replace(/\b10\.(7[7-9]|8[0-6])\.0\.(\d+)\b/g, '10.77.0.$2'))
  }
  console.log('recorded test/fixtures/probes/{haproxy-servers,unit-environment}/')
}
