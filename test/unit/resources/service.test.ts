import { expect } from 'chai'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { service, reload, restart, handler, type ServiceOptions } from '../../../src/resources/service.ts'
import { systemdUnitFact, type UnitState } from '../../../src/facts/systemd-unit.ts'
import { installedUnit } from '../../../src/resources/package-provides.ts'
import { localHostInfo } from '../../../src/engine/apply-context.ts'
import type { ApplyContext } from '../../../src/contract/resource.ts'
import { fixtureValue, planOf, commandsOf } from '../../support/system-probe-fixture.ts'
import { available, forEachRelease } from '../../support/fixture-release.ts'

const unit = (fixture: string, key = 'nginx.service'): UnitState => fixtureValue(systemdUnitFact, fixture, key)

forEachRelease('service resource', () => {
  // fixture (systemd-unit/<name>, nginx.service unless said), options, expected kind, summary or detail
  const table: [string, string, ServiceOptions, 'ok' | 'change', string][] = [
    ['web-01-provisioned', 'nginx', { running: true, enabled: true }, 'ok', 'nginx.service active (running), enabled'],
    ['web-01-provisioned', 'nginx', { running: false }, 'change', 'stop nginx.service'],
    ['web-01-provisioned', 'nginx', { enabled: false }, 'change', 'disable nginx.service'],
    ['web-01-provisioned', 'nginx', { running: false, enabled: false }, 'change', 'disable and stop nginx.service'],
    ['web-01-provisioned', 'mariadb', { running: true, enabled: true }, 'ok', 'mariadb.service active (running), enabled'],
    ['nginx-stopped-disabled', 'nginx', { running: true, enabled: true }, 'change', 'enable and start nginx.service'],
    ['nginx-stopped-disabled', 'nginx', { running: false, enabled: false }, 'ok', 'nginx.service inactive (dead), disabled'],
    ['nginx-stopped-enabled', 'nginx', { running: true, enabled: true }, 'change', 'start nginx.service'],
    ['nginx-running-disabled', 'nginx', { running: true, enabled: true }, 'change', 'enable nginx.service'],
    ['nginx-failed', 'nginx', { running: true }, 'change', 'start nginx.service'],
    ['nginx-failed', 'nginx', { running: false, enabled: true }, 'ok', 'nginx.service failed (failed), enabled'],
    ['ssh-active', 'ssh', { running: true, enabled: true }, 'ok', 'ssh.service active (running), enabled'],
    ['stopped-disabled', 'debug-shell', { running: false, enabled: false }, 'ok', 'debug-shell.service inactive (dead), disabled'],
    ['masked', 'getty@tty1', { running: false }, 'ok', 'getty@tty1.service inactive (dead), masked'],
    ['masked', 'getty@tty1', { enabled: false }, 'ok', 'getty@tty1.service inactive (dead), masked'],
  ]
  for (const [fixture, name, opts, kind, text] of table) {
    it(`${fixture}: service(${name}, ${JSON.stringify(opts)}) -> ${kind} "${text}"`, function () {
      if (!available('systemd-unit', fixture)) this.skip() // derived by hand on Debian 12 (NO_TWIN)
      const key = name.includes('.') ? name : `${name}.service`
      const p = planOf(service(name, opts), { unit: unit(fixture, key) })
      expect(p.kind).to.equal(kind)
      expect(p.kind === 'change' ? p.summary : p.kind === 'ok' ? p.detail : '').to.equal(text)
    })
  }

  it('a static unit (no [Install]) is never "would enable": systemctl enable would do nothing', () => {
    const staticUnit = fixtureValue(systemdUnitFact, 'web-01-mix', 'dpkg-db-backup.service')
    const p = planOf(service('dpkg-db-backup', { enabled: true }), { unit: staticUnit })
    expect(p.kind).to.equal('ok')
  })

  it('a unit the host does not have fails at plan time, naming it', () => {
    expect(() => planOf(service('nginx', { running: true }), { unit: unit('not-found') })).to.throw(
      /service nginx.service: no such unit on this host \(systemctl: LoadState=not-found\)/,
    )
  })

  it('a masked unit asked to run or be enabled fails with the way out', () => {
    const masked = unit('masked', 'getty@tty1.service')
    expect(() => planOf(service('getty@tty1', { running: true }), { unit: masked })).to.throw(/masked.*systemctl unmask getty@tty1.service/)
    expect(() => planOf(service('getty@tty1', { enabled: true }), { unit: masked })).to.throw(/masked.*unmask/)
  })

  it('in check mode, a unit predicted by a package install plans as apply will', () => {
    const predicted = installedUnit('nginx.service', { running: true, enabled: true })
    expect(planOf(service('nginx', { running: true, enabled: true }), { unit: predicted }).kind).to.equal('ok')
    const keepalived = installedUnit('keepalived.service', { running: false, enabled: true })
    const p = planOf(service('keepalived', { running: true, enabled: true }), { unit: keepalived })
    expect(p.kind === 'change' && p.summary).to.equal('start keepalived.service')
  })

  it('runs only what differs, in one round trip, and predicts the result', async function () {
    if (!available('systemd-unit', 'nginx-stopped-disabled')) this.skip() // derived by hand on Debian 12 (NO_TWIN)
    const p = planOf(service('nginx', { running: true, enabled: true }), { unit: unit('nginx-stopped-disabled') })
    expect((await commandsOf(p)).map((c) => c.command)).to.deep.equal(['systemctl enable nginx.service && systemctl start nginx.service'])
    if (p.kind !== 'change') throw new Error('expected a change')
    const v = (p.predicts ?? [])[0]
    expect(v && 'query' in v && v.query.key).to.equal('nginx.service')
    expect(v && 'value' in v && v.value).to.deep.include({ activeState: 'active', unitFileState: 'enabled' })
  })

  it('needs something to manage', () => {
    expect(() => service('nginx')).to.throw(/running and\/or enabled/)
  })
})

describe('service handlers', () => {
  const ctx = (ran: string[]): ApplyContext => ({
    host: localHostInfo('fake'),
    conn: undefined as never,
    run: async (command) => {
      ran.push(command)
      return { code: 0, stdout: '', stderr: '' }
    },
    log: () => {},
    connectTo: async () => {
      throw new Error('none')
    },
  })

  it('reload and restart run systemctl, once per unit name', async () => {
    const ran: string[] = []
    await reload('nginx').run(ctx(ran))
    await restart('haproxy.service').run(ctx(ran))
    expect(ran).to.have.length(2)
    expect(ran[0]).to.match(/^systemctl reload nginx\.service \|\| exit \$\?; /)
    expect(ran[1]).to.equal('systemctl restart haproxy.service')
    expect(reload('nginx').name).to.equal('reload nginx.service')
    // the engine queues a handler once by identity: two roles notifying reload('nginx') must share it
    expect(reload('nginx')).to.equal(reload('nginx.service'))
    expect(reload('nginx')).to.not.equal(restart('nginx'))
  })

  it('handler() names a command, a function or another handler', async () => {
    const ran: string[] = []
    await handler('flush', 'nft -f /etc/nftables.conf').run(ctx(ran))
    await handler('reload web', reload('nginx')).run(ctx(ran))
    let called = false
    await handler('custom', async () => void (called = true)).run(ctx(ran))
    expect(ran[0]).to.equal('nft -f /etc/nftables.conf')
    expect(ran[1]).to.match(/^systemctl reload nginx\.service /)
    expect(called).to.equal(true)
    expect(handler('reload web', reload('nginx')).name).to.equal('reload web')
  })

  // the reload handler's script under a real sh, with a systemctl that answers from a list of states
  describe('reload waits for the unit to settle (HAProxy is "reloading" after systemctl reload returns)', () => {
    const script = async (): Promise<string> => {
      const ran: string[] = []
      await reload('haproxy').run(ctx(ran))
      return ran[0]!
    }
    const runWith = async (reloadExit: number, states: string[]): Promise<{ code: number; stderr: string; asked: number }> => {
      const dir = mkdtempSync(join(tmpdir(), 'muster-reload-'))
      try {
        writeFileSync(join(dir, 'states'), states.join('\n') + '\n')
        // reload exits as told; show prints the next state, the last one forever
        writeFileSync(join(dir, 'systemctl'), `#!/bin/sh
d=${dir}
case "$1" in
  reload) exit ${reloadExit} ;;
  show) n=$(cat $d/n 2>/dev/null || echo 0); echo $((n + 1)) > $d/n
        s=$(sed -n "$((n + 1))p" $d/states); [ -n "$s" ] || s=$(tail -n 1 $d/states); echo "$s" ;;
esac
`, { mode: 0o755 })
        const r = spawnSync('sh', ['-c', await script()], { env: { ...process.env, PATH: `${dir}:${process.env.PATH}` }, encoding: 'utf8' })
        return { code: r.status ?? -1, stderr: r.stderr, asked: existsSync(join(dir, 'n')) ? Number(readFileSync(join(dir, 'n'), 'utf8').trim()) : 0 }
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    }

    it('active at once: done after one look', async () => {
      expect(await runWith(0, ['active'])).to.deep.include({ code: 0, asked: 2 })
    })
    it('reloading, then active: waits, then succeeds', async () => {
      expect(await runWith(0, ['reloading', 'reloading', 'reloading', 'active'])).to.deep.include({ code: 0, asked: 5 })
    })
    it('reloading, then failed: the handler fails and says so', async () => {
      const r = await runWith(0, ['reloading', 'failed'])
      expect(r.code).to.equal(1)
      expect(r.stderr).to.contain('haproxy.service is failed after its reload')
    })
    it('systemctl reload itself fails: its exit code, and no wait', async () => {
      expect(await runWith(5, ['active'])).to.deep.include({ code: 5, asked: 0 })
    })
  })
})
