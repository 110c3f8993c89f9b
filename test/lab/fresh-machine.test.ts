import { expect } from 'chai'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { ensureLab } from '../support/lab.ts'
import { repoRoot } from '../support/cli.ts'
import { labExec } from '../../src/lab/exec.ts'
import { labReset } from '../../src/lab/reset.ts'

/**
 * `npm test` on a fresh machine, without trusting this one: its first step
 * (scripts/test-setup.sh) runs on a bare lab host, a Debian root with
 * nothing installed by hand, from which openssh-server has been removed as a
 * newcomer's machine lacks it. The script must install what the tests need,
 * say so, and do nothing the second time. The host is reset afterwards.
 */

const HOST = 'db-03'
const DIR = '/tmp/muster-test-setup'

describe('npm test on a fresh machine: scripts/test-setup.sh on a bare Debian host', function () {
  this.timeout(600_000) // apt on a loaded machine

  before(async function () {
    await ensureLab(this)
    await labReset([HOST])
    for (const f of ['test-setup.sh', 'test-packages.txt']) {
      const r = await labExec(HOST, `mkdir -p ${DIR} && cat > ${DIR}/${f}`, { stdin: readFileSync(join(repoRoot, 'scripts', f), 'utf8') })
      expect(r.code, r.stderr).to.equal(0)
    }
    const purge = await labExec(HOST, 'DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq openssh-server >/dev/null && ! test -e /usr/sbin/sshd')
    expect(purge.code, purge.stderr).to.equal(0)
  })

  after(async function () {
    await labReset([HOST]) // give the other suites their bare host back, sshd and all
  })

  it('as a user who cannot install, it stops at once naming the missing tools and the packages to install', async function () {
    const r = await labExec(HOST, `su nobody -s /bin/bash -c 'bash ${DIR}/test-setup.sh'`)
    expect(r.code).to.equal(1)
    expect(r.stderr).to.match(/missing .*sshd/)
    expect(r.stderr).to.include('openssh-server')
    expect((await labExec(HOST, 'test -e /usr/sbin/sshd')).code).to.not.equal(0)
  })

  it('as root, it installs what is missing, says so, and the tools are there after', async function () {
    const r = await labExec(HOST, `bash ${DIR}/test-setup.sh`)
    expect(r.code, r.stdout + r.stderr).to.equal(0)
    expect(r.stdout).to.match(/^npm test: installing .*openssh-server.* \(missing: .*sshd.*\)/m)
    const manifest = readFileSync(join(repoRoot, 'scripts/test-packages.txt'), 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '' && !l.startsWith('#'))
      .map((l) => l.trim().split(/\s+/)[0]!)
    for (const cmd of manifest) {
      const has = await labExec(HOST, `command -v ${cmd} || test -x /usr/sbin/${cmd}`)
      expect(has.code, `${cmd} after the set-up`).to.equal(0)
    }
  })

  it('a second run finds everything and installs nothing, silently', async function () {
    const r = await labExec(HOST, `bash ${DIR}/test-setup.sh`)
    expect(r.code, r.stderr).to.equal(0)
    expect(r.stdout + r.stderr).to.equal('')
  })
})
