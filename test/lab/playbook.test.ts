import { expect } from 'chai'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ensureLab } from '../support/lab.ts'
import { muster } from '../support/cli.ts'
import { labExec, labKillHost, labUp, labStatus } from '../../src/lab/index.ts'

const INV = 'test/fixtures/lab/inventory.ts'
const HOSTS = ['web-01', 'web-02', 'lb-01', 'db-03']

describe('lab: playbooks on four real Debian hosts', function () {
  this.timeout(10 * 60_000)
  let state: string
  let env: Record<string, string>
  before(async function () {
    await ensureLab(this)
    state = mkdtempSync(join(tmpdir(), 'muster-lab-state-'))
    env = { MUSTER_STATE_DIR: state }
  })
  after(() => state && rmSync(state, { recursive: true, force: true }))

  it('installs a package, manages a file and a service on all four hosts; the second run is changed=0', async () => {
    const first = await muster(['apply', 'test/fixtures/lab/cron.ts', '-i', INV, '--json'], env)
    expect(first.code, first.stdout + first.stderr).to.equal(0)
    for (const h of HOSTS) {
      const st = await labExec(h, "systemctl is-active cron && systemctl is-enabled cron && cat /etc/cron.d/muster-lab && dpkg-query -W -f='${Status}' cron")
      expect(st.stdout, h).to.contain('active\nenabled\n')
      expect(st.stdout, h).to.contain(`# managed by muster on ${h}`)
      expect(st.stdout, h).to.contain('install ok installed')
    }
    const second = await muster(['apply', 'test/fixtures/lab/cron.ts', '-i', INV, '--json', '-v'], env)
    expect(second.code).to.equal(0)
    for (const h of HOSTS) {
      expect(second.recap!.hosts[h]!.changed, h).to.equal(0)
      expect(second.recap!.hosts[h]!.ok, h).to.equal(4)
      expect(second.recap!.hosts[h]!.probeBatches, h).to.equal(1)
    }
    const check = await muster(['check', 'test/fixtures/lab/cron.ts', '-i', INV], env)
    expect(check.code, check.stdout).to.equal(0)
  })

  it('a host killed mid-run is reported unreachable (exit 3) while the others finish; lab up brings it back and a rerun converges', async () => {
    await Promise.all(HOSTS.map((h) => labExec(h, 'rm -f /var/tmp/muster-slow-done /var/tmp/muster-after-slow')))
    const run = muster(['apply', 'test/fixtures/lab/slow.ts', '-i', INV, '--json'], env)
    await new Promise((r) => setTimeout(r, 2500))
    await labKillHost('db-03')
    const res = await run
    expect(res.code, res.stdout + res.stderr).to.equal(3)
    expect(res.recap!.hosts['db-03']!.unreachable).to.equal(true)
    for (const h of HOSTS.filter((x) => x !== 'db-03')) {
      expect(res.recap!.hosts[h]!.changed, h).to.equal(2)
      expect((await labExec(h, 'cat /var/tmp/muster-after-slow')).stdout).to.equal('done\n')
    }
    expect((await labStatus()).hosts.find((h) => h.name === 'db-03')!.condition).to.equal('down')

    await labUp()
    const rerun = await muster(['apply', 'test/fixtures/lab/slow.ts', '-i', INV, '--json', '--rerun', 'failed'], env)
    expect(rerun.code, rerun.stdout + rerun.stderr).to.equal(0)
    expect(Object.keys(rerun.recap!.hosts)).to.deep.equal(['db-03'])
    expect(rerun.recap!.hosts['db-03']!.changed).to.equal(2)
    const again = await muster(['apply', 'test/fixtures/lab/slow.ts', '-i', INV, '--json'], env)
    expect(again.code).to.equal(0)
    for (const h of HOSTS) expect(again.recap!.hosts[h]!.changed, h).to.equal(0)
  })

  it('a non-root login becomes root through sudo -n: root-owned files and root commands, idempotent', async () => {
    const key = (await labExec('web-01', 'cat /root/.ssh/authorized_keys')).stdout
    const setup = await labExec(
      'web-01',
      `id deploy >/dev/null 2>&1 || useradd -m -s /bin/bash deploy
mkdir -p /home/deploy/.ssh && printf '%s' "$KEY" > /home/deploy/.ssh/authorized_keys
chown -R deploy:deploy /home/deploy/.ssh && chmod 700 /home/deploy/.ssh && chmod 600 /home/deploy/.ssh/authorized_keys
echo 'deploy ALL=(ALL) NOPASSWD:ALL' > /etc/sudoers.d/deploy && chmod 0440 /etc/sudoers.d/deploy
rm -f /etc/muster-become.conf /var/tmp/muster-become-uid`.replace('"$KEY"', `'${key.trim()}\n'`),
    )
    expect(setup.code, setup.stderr).to.equal(0)
    const inv = 'test/fixtures/lab/inventory-deploy.ts'
    const first = await muster(['apply', 'test/fixtures/lab/become.ts', '-i', inv, '--json'], env)
    expect(first.code, first.stdout + first.stderr).to.equal(0)
    expect(first.recap!.hosts['web-01']!.changed).to.equal(2)
    const st = await labExec('web-01', "stat -c '%U:%G %a' /etc/muster-become.conf && cat /var/tmp/muster-become-uid")
    expect(st.stdout).to.equal('root:root 640\n0\n')
    const second = await muster(['apply', 'test/fixtures/lab/become.ts', '-i', inv, '--json'], env)
    expect(second.code).to.equal(0)
    expect(second.recap!.hosts['web-01']!.changed).to.equal(0)
  })
})
