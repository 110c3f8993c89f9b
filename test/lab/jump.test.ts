import { expect } from 'chai'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ensureLab, onHost } from '../support/lab.ts'
import { muster } from '../support/cli.ts'
import { labExec } from '../../src/lab/index.ts'
import { hostAddress } from '../../src/lab/layout.ts'

/**
 * The production pattern: a database host that takes SSH only from the
 * bastion. db-03's sshd admits logins from lb-01's address alone; muster
 * reaches it through lb-01 (a direct-tcpip channel on lb-01's connection).
 */
describe('lab: a host reached only through a bastion', function () {
  this.timeout(5 * 60_000)
  const DROPIN = '/etc/ssh/sshd_config.d/muster-jump-test.conf'
  const lbAddress = hostAddress(3) // lb-01, third in the reference fleet
  let state: string
  let env: Record<string, string>

  before(async function () {
    await ensureLab(this)
    state = mkdtempSync(join(tmpdir(), 'muster-lab-jump-'))
    env = { MUSTER_STATE_DIR: state }
    expect(await onHost('lb-01', 'hostname -I')).to.include(lbAddress)
    await onHost('db-03', `printf 'AllowUsers root@${lbAddress}\\n' > ${DROPIN} && sshd -t && systemctl reload ssh`)
  })
  after(async function () {
    await labExec('db-03', `rm -f ${DROPIN} /etc/muster-jump.conf && systemctl reload ssh`)
    await labExec('lb-01', 'rm -f /etc/muster-jump.conf')
    if (state) rmSync(state, { recursive: true, force: true })
  })

  it('a direct login to db-03 is refused now', async function () {
    const r = await muster(['ping', 'db-03', '-i', 'test/fixtures/lab/inventory.ts', '--timeout', '5'], env)
    expect(r.code, r.stdout + r.stderr).to.equal(3)
  })

  it('through lb-01 it converges, a second run changes nothing, and db-03\'s sshd saw the login come from lb-01', async function () {
    const since = (await onHost('db-03', 'date +%s')).trim()
    const first = await muster(['apply', 'test/fixtures/lab/jump-playbook.ts', '-i', 'test/fixtures/lab/jump-inventory.ts', '--json'], env)
    expect(first.code, first.stdout + first.stderr).to.equal(0)
    expect(first.recap!.hosts['db-03']!.changed).to.equal(1)
    expect(await onHost('db-03', 'cat /etc/muster-jump.conf')).to.equal('reached db-03')
    const second = await muster(['apply', 'test/fixtures/lab/jump-playbook.ts', '-i', 'test/fixtures/lab/jump-inventory.ts', '--json'], env)
    expect(second.recap!.hosts['db-03']!.changed, second.stderr).to.equal(0)
    expect(second.recap!.hosts['db-03']!.probeBatches).to.equal(1)
    const check = await muster(['check', 'test/fixtures/lab/jump-playbook.ts', '-i', 'test/fixtures/lab/jump-inventory.ts'], env)
    expect(check.code, check.stdout).to.equal(0)
    const log = await onHost('db-03', `journalctl -u ssh --since @${since} --no-pager -o cat`)
    expect(log).to.match(new RegExp(`Accepted publickey for root from ${lbAddress.replace(/\./g, '\\.')} `))
  })
})
