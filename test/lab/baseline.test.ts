import { expect } from 'chai'
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { ensureLab, onHost, sshToLab } from '../support/lab.ts'
import { muster as cli, type CliResult } from '../support/cli.ts'
import { explain } from '../support/drift.ts'
import { labFiles } from '../../src/lab/layout.ts'
import type { LabState } from '../../src/lab/state.ts'

/**
 * playbooks/baseline.ts then playbooks/site.ts with inventory/lab.ts on the
 * reference stack's hosts, as the lab is found (CI runs this right after
 * test/lab/ansible-inventory.test.ts converged site.ts from another inventory
 * with other passwords, so the site apply here rotates them). Real outcomes: an
 * admin account logs in with its key and sudoes without a password; sshd, reloaded,
 * offers public keys only and still lets the lab's key in as root; the sysctls are live;
 * unattended-upgrades and systemd-timesyncd are installed and enabled. A second
 * run of both changes nothing, and a converged check of both in one run
 * (playbooks/fleet.ts) sends one probe script per host and nothing else.
 *
 * Not proven here: timesyncd running (its unit skips itself in a container,
 * and must not set this shared machine's clock: baselineTimeSyncRunning=false),
 * and the real swapon (a stand-in from test/fixtures/lab/kernel-stand-ins
 * records the call: the lab's kernel is this machine's). The swap file, its
 * mkswap signature, mode and fstab line are real; `after` removes them and the
 * stand-ins, and leaves the rest (the hardening keeps the lab's root key working).
 */
const MINUTE = 60_000
const HOSTS = ['web-01', 'web-02', 'lb-01', 'db-03']
const FAKE = '/var/lib/muster-fake'
const SB = '/usr/local/sbin'
const run = promisify(execFile)

describe('lab: playbooks/baseline.ts beside playbooks/site.ts (issue 20)', function () {
  this.timeout(15 * MINUTE)
  let state: LabState
  let dir = ''
  let vars: string[] = []
  const figures: string[] = []
  const muster = async (what: string, args: string[]): Promise<CliResult> => {
    const t0 = Date.now()
    const r = await cli([...args, '-i', 'inventory/lab.ts', '--json', ...vars], {}, 10 * MINUTE)
    figures.push(`${what}: ${((Date.now() - t0) / 1000).toFixed(1)} s`)
    return r
  }
  const addr = (n: string) => state.hosts.find((h) => h.name === n)!.address

  before(async function () {
    state = await ensureLab(this)
    dir = mkdtempSync(join(tmpdir(), 'muster-baseline-'))
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'ops@muster-test', '-f', join(dir, 'ops')])
    const pub = readFileSync(join(dir, 'ops.pub'), 'utf8').trim()
    vars = [
      '-e', `baselineAdmins=${JSON.stringify({ ops: [pub] })}`,
      '-e', 'baselineSwapSize=16M',
      '-e', `baselineSwapVia=${JSON.stringify({ swapon: `${SB}/muster-fake-swapon`, swapoff: `${SB}/muster-fake-swapoff`, swaps: `${FAKE}/swaps` })}`,
      '-e', 'baselineTimeSyncRunning=false',
    ]
    // the stand-ins for swapon/swapoff and /proc/swaps: never the real ones on a lab host
    const { labExec } = await import('../../src/lab/exec.ts')
    await Promise.all(HOSTS.map(async (h) => {
      for (const name of ['swapon', 'swapoff']) {
        const body = readFileSync(new URL(`../fixtures/lab/kernel-stand-ins/${name}`, import.meta.url), 'utf8')
        const w = await labExec(h, `cat > ${SB}/muster-fake-${name} && chmod 0755 ${SB}/muster-fake-${name}`, { stdin: body })
        expect(w.code, w.stderr).to.equal(0)
      }
      await onHost(h, `mkdir -p ${FAKE} && : > ${FAKE}/calls && printf 'Filename\\t\\t\\t\\tType\\t\\tSize\\t\\tUsed\\t\\tPriority\\n' > ${FAKE}/swaps`)
    }))
  })
  after(async function () {
    this.timeout(2 * MINUTE)
    console.log(`      ${figures.join('\n      ')}`)
    if (dir) rmSync(dir, { recursive: true, force: true })
    // the swap file and its fstab line go (systemd ignores swap lines in a container, but no later suite should meet one), and the stand-ins
    if (state) await Promise.all(HOSTS.map((h) => onHost(h, `sed -i '\\#^/swapfile none swap #d' /etc/fstab; rm -f /swapfile ${SB}/muster-fake-swapon ${SB}/muster-fake-swapoff; rm -rf ${FAKE}`).catch(() => {})))
  })

  it('baseline.ts then site.ts converge the hosts as the lab found them', async () => {
    const b = await muster('baseline.ts apply (as found)', ['apply', 'playbooks/baseline.ts'])
    expect(b.code, explain(b)).to.equal(0)
    const s = await muster('site.ts apply after it (new passwords)', ['apply', 'playbooks/site.ts'])
    expect(s.code, explain(s)).to.equal(0)
    for (const h of HOSTS) {
      // the admin logs in with its own key, and sudo needs no password
      const { stdout } = await run('ssh', ['-i', join(dir, 'ops'), '-o', `UserKnownHostsFile=${labFiles.knownHosts()}`, '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes', '-o', 'IdentitiesOnly=yes', '-o', 'ConnectTimeout=5', `ops@${addr(h)}`, 'id -un; sudo -n id -u'])
      expect(stdout.trim(), h).to.equal('ops\n0')
      // the reloaded sshd offers public keys only, and still takes the lab's key as root
      const pw = await sshToLab(addr(h), 'true', {}).then(async () => run('ssh', ['-o', `UserKnownHostsFile=${labFiles.knownHosts()}`, '-o', 'BatchMode=yes', '-o', 'PubkeyAuthentication=no', '-o', 'ConnectTimeout=5', `nobody@${addr(h)}`, 'true']).then(() => '', (e: { stderr: string }) => e.stderr))
      expect(pw, h).to.match(/Permission denied \(publickey\)/)
      expect((await sshToLab(addr(h), 'id -u')).stdout.trim(), h).to.equal('0')
      expect(await onHost(h, 'sysctl -n net.ipv4.tcp_syncookies net.ipv4.conf.all.accept_redirects; readlink /etc/localtime; dpkg-query -W -f "\\${Status}\\n" unattended-upgrades systemd-timesyncd; systemctl is-enabled systemd-timesyncd'), h).to.equal('1\n0\n/usr/share/zoneinfo/Etc/UTC\ninstall ok installed\ninstall ok installed\nenabled')
      expect(await onHost(h, `stat -c '%a %s' /swapfile; grep '^/swapfile' /etc/fstab; cat ${FAKE}/calls`), h).to.equal('600 16777216\n/swapfile none swap sw 0 0\nswapon -- /swapfile')
    }
  })

  it('a second run of both changes nothing', async () => {
    for (const pb of ['baseline.ts', 'site.ts']) {
      const r = await muster(`${pb} apply (second run)`, ['apply', `playbooks/${pb}`])
      expect(r.code, explain(r)).to.equal(0)
      for (const h of HOSTS) expect(r.recap!.hosts[h]!.changed, `${pb} ${h}\n${explain(r)}`).to.equal(0)
    }
  })

  it('a converged check of both together (playbooks/fleet.ts) sends one probe script per host, and nothing else', async () => {
    const c = await muster('fleet.ts check (converged, baseline + site)', ['check', 'playbooks/fleet.ts'])
    expect(c.code, explain(c)).to.equal(0)
    for (const h of HOSTS) {
      const rec = c.recap!.hosts[h]!
      expect(rec.probeBatches, h).to.equal(1)
      expect(rec.stats.execs, `${h}: only the probe script travelled`).to.equal(1)
      expect(rec.stats.sftpOps, h).to.equal(0)
    }
    expect(await onHost('web-01', `cat ${FAKE}/calls`), 'no swapon on a converged host').to.equal('swapon -- /swapfile')
  })
})
