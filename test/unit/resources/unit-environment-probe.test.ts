import { expect } from 'chai'
import { spawn, execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { probeScript } from '../../../src/resources/unit-environment.ts'

/**
 * The unit-environment probe on a real process of this machine, with `systemctl show` stood in by a
 * script that names its PID. The case CI's drift suite hit on Debian 13: right after `systemctl start`
 * of a Type=simple unit, its MainPID is systemd's forked child, named "(node)" until it execs, with
 * systemd's environment; read then, every variable was "live unset" and apply restarted the app that
 * check had (rightly) not planned to restart.
 */
describe('unitEnvironment probe: a process caught before its exec', function () {
  this.timeout(20_000)
  let dir: string
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'muster-unit-env-'))
  })
  afterEach(() => rmSync(dir, { recursive: true, force: true }))

  const probe = (pid: number): string => {
    writeFileSync(join(dir, 'systemctl'), `#!/bin/sh\necho ${pid}\n`, { mode: 0o755 })
    return execFileSync('sh', ['-c', probeScript('app.service', ['PORT'], [])], { env: { PATH: `${dir}:/usr/bin:/bin` }, encoding: 'utf8' })
  }

  it('waits for the exec, then reads the environment the service runs with', async () => {
    // named "(node)" for 0.6 s with an environment without PORT, as systemd's child is, then exec'd with PORT
    // (`PORT=3000 exec sleep`, not `exec env PORT=3000 sleep`: env would be a second exec, whose own environ lacks PORT)
    const child = spawn('sh', ['-c', 'printf "(node)" > /proc/self/comm; sleep 0.6; PORT=3000 exec sleep 10'], { env: { PATH: '/usr/bin:/bin' }, stdio: 'ignore' })
    try {
      await new Promise((r) => setTimeout(r, 100))
      expect(execFileSync('cat', [`/proc/${child.pid}/comm`], { encoding: 'utf8' }).trim()).to.equal('(node)')
      expect(probe(child.pid!)).to.equal('PORT=3000\n')
    } finally {
      child.kill()
    }
  })

  it('a running process is read at once', async () => {
    const child = spawn('env', ['PORT=3000', 'sleep', '10'], { stdio: 'ignore' })
    try {
      await new Promise((r) => setTimeout(r, 100))
      expect(probe(child.pid!)).to.equal('PORT=3000\n')
    } finally {
      child.kill()
    }
  })
})
