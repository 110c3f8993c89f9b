import { expect } from 'chai'
import { spawn, execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ensureLab, sshToLab, onHost } from '../support/lab.ts'
import { labUp } from '../../src/lab/up.ts'
import { labDown } from '../../src/lab/down.ts'
import { labReset } from '../../src/lab/reset.ts'
import { labKillHost } from '../../src/lab/kill-host.ts'
import { labExec } from '../../src/lab/exec.ts'
import { labStatus } from '../../src/lab/status.ts'
import { labHostSpecs } from '../../src/lab/inventory.ts'
import { labCgroupDir } from '../../src/lab/cgroup.ts'
import { labDir, labFiles, referenceHosts, bridge, netnsPrefix, vethPrefix, proxyPort, hostAddress, netnsName, vethName } from '../../src/lab/layout.ts'
import { readState, type LabState } from '../../src/lab/state.ts'
import { sshAnswers } from '../../src/lab/port-probe.ts'
import { isAlive, sleep } from '../../src/lab/processes.ts'

/** The lab itself: real hosts, as a person would check them by hand. */

const addressOf = (state: LabState, name: string): string => state.hosts.find((h) => h.name === name)!.address
const pidOf = (name: string): number | null => readState()!.hosts.find((h) => h.name === name)!.pid


/** Every trace of the lab the machine could hold, as the system tools show them. */
function labTraces(): { netns: string[]; links: string[]; mounts: string[] } {
  const netns = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.split(' ')[0])
    .filter((n) => n.startsWith(netnsPrefix))
  const links = execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' })
    .split('\n')
    .map((l) => (l.split(': ')[1] ?? '').split('@')[0])
    .filter((n) => n === bridge.name || n.startsWith(vethPrefix))
  const mounts = readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .filter((l) => l.includes(`${labDir()}/`) || l.includes(`/run/netns/${netnsPrefix}`))
  return { netns, links, mounts }
}

// Each test waits on whole hosts booting, dying or being wiped: on a loaded
// 2-core machine (load 8+, a CI run beside other work) `down` of four
// provisioned hosts took 30 s, so no test here runs under mocha's default 20 s.
const lifecycleTimeoutMs = 180_000

describe('muster lab (real hosts)', function () {
  this.timeout(lifecycleTimeoutMs)
  let state: LabState

  before(async function () {
    state = await ensureLab(this)
    // other suites may have provisioned these hosts already: this one is about bare hosts
    await labReset()
    state = readState()!
  })

  it('boots the four reference hosts, each answering OpenSSH with host-key checking on', async function () {
    expect(state.hosts.map((h) => h.name)).to.deep.equal([...referenceHosts])
    for (const h of state.hosts) {
      const r = await sshToLab(h.address, 'hostname')
      expect(r.code, r.stderr).to.equal(0)
      expect(r.stdout.trim()).to.equal(h.name)
    }
    // the same connection with a known_hosts that does not know the host must be refused: checking is really on
    const empty = join(labDir(), 'empty_known_hosts')
    writeFileSync(empty, '')
    const refused = await sshToLab(state.hosts[0].address, 'true', { knownHosts: empty })
    expect(refused.code).to.equal(255)
    expect(refused.stderr).to.match(/host key verification failed/i)
  })

  it('gives each host its own host keys and machine-id, and known_hosts holds exactly those keys', async function () {
    const knownHosts = readFileSync(labFiles.knownHosts(), 'utf8')
    const keys = new Set<string>()
    const ids = new Set<string>()
    for (const h of state.hosts) {
      const pub = (await onHost(h.name, 'cat /etc/ssh/ssh_host_ed25519_key.pub')).split(' ').slice(0, 2).join(' ')
      expect(knownHosts).to.include(`${h.name},${h.address} ${pub}`)
      keys.add(pub)
      ids.add(await onHost(h.name, 'cat /etc/machine-id'))
      expect(await onHost(h.name, 'hostname')).to.equal(h.name)
    }
    expect(keys.size).to.equal(4)
    expect(ids.size).to.equal(4)
    for (const id of ids) expect(id).to.match(/^[0-9a-f]{32}$/)
  })

  it('runs systemd to the end of boot on every host (is-system-running: running)', async function () {
    for (const h of state.hosts) {
      const r = await labExec(h.name, 'systemctl is-system-running; systemctl list-units --failed --plain --no-legend')
      expect(r.stdout.split('\n')[0], `${h.name}: ${r.stdout}`).to.equal('running')
      expect(await onHost(h.name, 'systemctl is-active ssh')).to.equal('active')
    }
  })

  it('lets hosts find and reach each other by name', async function () {
    expect(await onHost('web-01', 'getent hosts db-03')).to.match(new RegExp(`^${hostAddress(4).replace(/\./g, '\\.')}\\s+db-03$`))
    // a real connection by name: db-03's sshd greets web-01
    const banner = await onHost('web-01', "timeout 5 bash -c 'exec 3<>/dev/tcp/db-03/22; head -c 4 <&3'")
    expect(banner).to.equal('SSH-')
    expect(await onHost('lb-01', 'getent hosts web-02')).to.match(new RegExp(`^${hostAddress(2).replace(/\./g, '\\.')}\\s+web-02$`))
  })

  it('gives apt a way out through the lab proxy (apt-get update works on a host)', async function () {
    this.timeout(120_000)
    const r = await labExec('web-02', 'apt-get update -q')
    expect(r.code, r.stderr).to.equal(0)
    expect(await onHost('web-02', 'apt-config dump Acquire::http::Proxy')).to.include(`"http://${bridge.address}:${proxyPort}"`)
  })

  it('boots bare hosts: no nginx, haproxy, mariadb, nodejs or python', async function () {
    for (const pkg of ['nginx', 'haproxy', 'mariadb-server', 'nodejs', 'python3']) {
      const r = await labExec('lb-01', `dpkg -s ${pkg}`)
      expect(r.code, `${pkg} should not be installed`).to.not.equal(0)
    }
    expect((await labExec('lb-01', 'command -v python3')).code).to.not.equal(0)
    expect(await onHost('lb-01', 'dpkg -s openssh-server | grep ^Status')).to.equal('Status: install ok installed')
  })

  it('lists the hosts for inventories (labHostSpecs): address, root, the lab key and known_hosts', function () {
    const specs = labHostSpecs()
    expect(Object.keys(specs)).to.deep.equal([...referenceHosts])
    expect(specs['lb-01']).to.deep.equal({ address: hostAddress(3), user: 'root', identityFile: labFiles.clientKey(), knownHosts: labFiles.knownHosts() })
    expect(existsSync(specs['lb-01'].identityFile!)).to.equal(true)
  })

  it('does nothing on a second up: the same processes, every host kept', async function () {
    const before = readState()!.hosts.map((h) => h.pid)
    const r = await labUp({ hosts: [...referenceHosts] })
    expect(r.hosts.map((h) => h.action)).to.deep.equal(['kept', 'kept', 'kept', 'kept'])
    expect(readState()!.hosts.map((h) => h.pid)).to.deep.equal(before)
  })

  it('brings back just the killed host on up, with its disk as it was', async function () {
    await onHost('lb-01', 'echo before-the-crash > /root/marker')
    const others = ['web-01', 'web-02', 'db-03'].map(pidOf)
    const { pid } = await labKillHost('lb-01')
    expect(isAlive(pid)).to.equal(false)
    expect(await sshAnswers(addressOf(state, 'lb-01'), 1000)).to.equal(false)
    expect((await labStatus()).hosts.find((h) => h.name === 'lb-01')!.condition).to.equal('down')

    const r = await labUp()
    expect(r.hosts.filter((h) => h.action === 'booted').map((h) => h.name)).to.deep.equal(['lb-01'])
    expect(['web-01', 'web-02', 'db-03'].map(pidOf)).to.deep.equal(others)
    expect(pidOf('lb-01')).to.not.equal(pid)
    expect(await onHost('lb-01', 'cat /root/marker')).to.equal('before-the-crash')
    expect(await onHost('lb-01', 'systemctl is-system-running')).to.equal('running')
    expect((await sshToLab(addressOf(state, 'lb-01'), 'hostname')).stdout.trim()).to.equal('lb-01')
  })

  it('resets a host to bare, keeping its name, address and host keys', async function () {
    await onHost('web-02', 'echo junk > /root/junk && mkdir -p /etc/app')
    const key = await onHost('web-02', 'cat /etc/ssh/ssh_host_ed25519_key.pub')
    const [report] = await labReset(['web-02'])
    expect(report.system).to.equal('running')
    expect((await labExec('web-02', 'test -e /root/junk || test -e /etc/app')).code).to.not.equal(0)
    expect(await onHost('web-02', 'cat /etc/ssh/ssh_host_ed25519_key.pub')).to.equal(key)
    expect((await sshToLab(addressOf(state, 'web-02'), 'hostname')).code).to.equal(0)
  })

  it('cleans up after processes killed without down (stale state, orphaned proxy) instead of stacking', async function () {
    const old = readState()!
    // what a CI machine does to whatever a session left running
    for (const h of old.hosts) process.kill(h.pid!, 'SIGKILL')
    process.kill(old.proxy!.pid, 'SIGKILL')
    await sleep(200)
    const r = await labUp()
    expect(r.hosts.every((h) => h.action === 'booted')).to.equal(true)
    const now = readState()!
    expect(now.proxy!.pid).to.not.equal(old.proxy!.pid)
    const t = labTraces()
    expect(t.netns.sort()).to.deep.equal(referenceHosts.map((n) => netnsName(n)).sort())
    expect(t.mounts.filter((m) => m.startsWith('overlay '))).to.have.length(4)
    for (const h of now.hosts) expect(await onHost(h.name, 'systemctl is-system-running')).to.equal('running')
  })
})

describe('muster lab down', function () {
  this.timeout(lifecycleTimeoutMs)
  before(async function () {
    await ensureLab(this)
  })

  after(async function () {
    // a developer who asked to keep the lab gets it back
    if (process.env.MUSTER_KEEP_LAB === '1') await ensureLab(this)
  })

  it('removes leftovers it has no record of: a stray netns with a process in it, a veth, a mount', async function () {
    const ns = netnsName('ghost')
    execFileSync('ip', ['netns', 'add', ns])
    execFileSync('ip', ['link', 'add', vethName('ghost'), 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns])
    const disk = join(labFiles.hostsDir(), 'ghost', 'root')
    mkdirSync(disk, { recursive: true })
    execFileSync('mount', ['-t', 'tmpfs', 'tmpfs', disk])
    const stray = spawn('ip', ['netns', 'exec', ns, 'sleep', '600'], { stdio: 'ignore' })
    await sleep(200)
    expect(isAlive(stray.pid)).to.equal(true)

    const r = await labDown()
    expect(r.removed).to.include('ghost')
    expect(isAlive(stray.pid)).to.equal(false)
    expect(labTraces()).to.deep.equal({ netns: [], links: [], mounts: [] })
  })

  it('leaves no netns, link, mount, cgroup or process of the lab, and a second down is a no-op', async function () {
    const state = (await ensureLab(this)) as LabState
    const pids = [...state.hosts.flatMap((h) => [h.pid!, h.launcherPid!]), state.proxy!.pid]
    const r = await labDown()
    expect(r.removed.sort()).to.deep.equal([...referenceHosts].sort())
    expect(labTraces()).to.deep.equal({ netns: [], links: [], mounts: [] })
    // gone, or at most a zombie (which holds no port, file or namespace) when the machine's PID 1 does not reap
    for (const pid of pids) expect(isAlive(pid), `pid ${pid}`).to.equal(false)
    const cg = labCgroupDir()
    if (cg) expect(existsSync(cg)).to.equal(false)
    expect(readState()).to.equal(undefined)
    expect(() => labHostSpecs()).to.throw('the lab is not up: run `muster lab up`')
    expect(await sshAnswers(state.hosts[0].address, 500)).to.equal(false)

    const again = await labDown()
    expect(again.removed).to.deep.equal([])
  })
})
