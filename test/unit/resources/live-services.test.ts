import { expect } from 'chai'
import { createHash } from 'node:crypto'
import { planHaproxyServers, parseServersState } from '../../../src/resources/haproxy-servers.ts'
import { planUnitEnvironment, probeScript } from '../../../src/resources/unit-environment.ts'
import { shellFact, type ShellResult } from '../../../src/facts/shell.ts'
import { handler } from '../../../src/resources/service.ts'
import { secret } from '../../../src/core/secret.ts'
import type { ApplyContext } from '../../../src/contract/resource.ts'
import { localHostInfo } from '../../../src/engine/apply-context.ts'
import { asChange } from './file-family.support.ts'
import { loadFixture } from '../../support/record-probes.ts'
import { FIXTURE_APP_PASSWORD } from '../../support/record-live-probes.ts'
import { forEachRelease } from '../../support/fixture-release.ts'

/**
 * Issue 15: HAProxy's servers as its runtime API has them, and the
 * environment the app's process runs with, over probe outputs recorded on
 * the lab (test/support/record-live-probes.ts).
 */
const live = async (dir: string, name: string): Promise<ShellResult> => (await loadFixture(shellFact, dir, name)).value()

forEachRelease('live services against their config (issue 15)', () => {
  describe('haproxy-servers', () => {
    it('reads show servers state by its header', async () => {
      const s = parseServersState((await live('haproxy-servers', 'forced')).stdout, 'web')
      expect(s).to.deep.equal([
        { server: 'web-01', admin: 0, weight: 0, configWeight: 1 },
        { server: 'web-02', admin: 1, weight: 1, configWeight: 1 },
      ])
    })

    it('servers as haproxy.cfg has them are ok; HAProxy not there yet is ok too', async () => {
      const ok = planHaproxyServers('web', await live('haproxy-servers', 'converged'))
      expect(ok.kind === 'ok' && ok.detail).to.equal('2 servers of web as haproxy.cfg has them')
      const none = planHaproxyServers('web', await live('haproxy-servers', 'no-haproxy'))
      expect(none.kind).to.equal('ok')
      // a stopped HAProxy's stale socket: socat cannot connect, prints nothing and fails (found by `muster test`)
      const stopped = planHaproxyServers('web', { code: 1, stdout: '' })
      expect(stopped.kind === 'ok' && stopped.detail).to.match(/not running/)
    })

    it('maintenance and a weight set through the runtime API are drift, set back through it', async () => {
      const c = asChange(planHaproxyServers('web', await live('haproxy-servers', 'forced')))
      expect(c.summary).to.equal('web/web-01 weight: live 0, config 1; web/web-02: live MAINT, config ready')
      const sent: string[] = []
      const ctx = {
        host: localHostInfo('lb-01'),
        conn: {
          host: 'lb-01',
          async exec(command: string, o: { stdin?: string } = {}) {
            expect(command).to.match(/^socat /)
            sent.push(String(o.stdin))
            return { code: 0, stdout: '\n', stderr: '' }
          },
        },
      } as unknown as ApplyContext
      await c.apply(ctx)
      expect(sent).to.deep.equal(['set weight web/web-01 1\n', 'set server web/web-02 state ready\n'])
    })
  })

  describe('unit-environment', () => {
    const restart = handler('restart app', 'true')
    const env = { PORT: 3000, DB_PASSWORD: secret(FIXTURE_APP_PASSWORD) }

    it('the running process with the same values is ok; its secret is compared by the hash made on the host', async () => {
      const l = await live('unit-environment', 'app-running')
      expect(l.stdout).not.to.include(FIXTURE_APP_PASSWORD)
      expect(l.stdout).to.include(createHash('sha256').update(FIXTURE_APP_PASSWORD).digest('hex'))
      const p = planUnitEnvironment('app.service', env, l, restart, 'app.env')
      expect(p.kind === 'ok' && p.detail).to.equal("app.service runs with app.env's 2 variables")
    })

    it('another password or port in the file than in the process queues the restart, naming the variable, never the secret', async () => {
      const l = await live('unit-environment', 'app-running')
      const c = asChange(planUnitEnvironment('app.service', { PORT: 3001, DB_PASSWORD: secret('rotated-password') }, l, restart, 'app.env'))
      expect(c.summary).to.equal('DB_PASSWORD: live differs from app.env (a secret: not shown); PORT: live 3000, app.env 3001 (restart app.service)')
      expect(c.notify).to.deep.equal([restart])
    })

    it('a service that is not running is ok: starting it reads the file', async () => {
      const p = planUnitEnvironment('app.service', env, await live('unit-environment', 'not-running'), restart, 'app.env')
      expect(p.kind).to.equal('ok')
    })

    it('the probe keeps the secret out of argv: it is read from /proc and piped to sha256sum', () => {
      const script = probeScript('app.service', ['PORT'], ['DB_PASSWORD'])
      expect(script).to.include('/proc/$pid/environ').and.include('sha256sum')
      expect(script).not.to.match(/echo \$|sha256sum [^|)]*\$/)
    })
  })
})
