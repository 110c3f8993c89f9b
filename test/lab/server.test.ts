import { expect } from 'chai'
import { execFile, execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ensureLab, onHost } from '../support/lab.ts'
import { muster as cli } from '../support/cli.ts'
import { agreement, agreementTable, explain, results } from '../support/drift.ts'
import { labReset } from '../../src/lab/reset.ts'

/**
 * The server resources (sudoers, sysctl, hostname, timezone) on real lab
 * hosts: check/apply agreement from bare, a second run changed=0 in one probe
 * batch, drift made by hand found by check and fixed by one apply, and bad
 * input refused with the live state left as it was. sysctl is tried only on
 * net.* parameters: a lab host's network namespace is its own, its vm.* and
 * kernel.* are this machine's (the test asserts the controller's own values
 * did not move).
 */
const PB = ['test/fixtures/lab/server.ts', '-i', 'test/fixtures/lab/inventory.ts', '--json']
const HOSTS = ['web-01', 'web-02', 'lb-01', 'db-03']
const MINUTE = 60_000
const KINDS = ['sudoers:/etc/sudoers.d/muster-admins', 'sysctl:net.ipv4.ip_forward', 'sysctl:net.ipv4.tcp_syncookies', 'hostname', 'timezone', 'user:ops', 'authorized-keys:ops', 'authorized-keys:root', 'sshd-config:/etc/ssh/sshd_config.d/10-muster-hardening.conf', 'apt-update', 'apt:locales', 'locale:en_US.UTF-8']
// a key pair made for this run: its public half is what the playbook authorizes for ops
const keyDir = mkdtempSync(join(tmpdir(), 'muster-server-test-'))
execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'ops@muster-test', '-f', join(keyDir, 'ops')])
const OPS_PUB = readFileSync(join(keyDir, 'ops.pub'), 'utf8').trim()
/** What sshd answers a client that will only try a password: the methods it offers. */
function sshPasswordOnly(addr: string): Promise<string> {
  return new Promise((resolve) => {
    execFile('ssh', ['-o', 'PreferredAuthentications=password,keyboard-interactive', '-o', 'PubkeyAuthentication=no', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', `ops@${addr}`, 'true'], (_err, stdout, stderr) => resolve(`${stdout}${stderr}`))
  })
}
// apt installs the locales package on four hosts at once: minutes on a loaded machine
const muster = (args: string[]) => cli(args, { MUSTER_TEST_OPS_KEY: OPS_PUB }, 10 * MINUTE)
const controller = (): string => `${readFileSync('/proc/sys/kernel/hostname', 'utf8')}|${readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8')}`

describe('lab: server resources (sudoers, sysctl, hostname, timezone, authorizedKeys, sshdConfig, locale)', function () {
  this.timeout(15 * MINUTE)
  let controllerWas: string | undefined
  before(async function () {
    await ensureLab(this)
    controllerWas = controller()
    await labReset(HOSTS)
  })
  after(async function () {
    this.timeout(5 * 60_000)
    rmSync(keyDir, { recursive: true, force: true })
    await labReset(HOSTS) // hostnames, sshd drop-ins, sudoers and sysctls of this suite are not the next suite's business
    if (controllerWas !== undefined) expect(controller(), "the controller's own hostname and ip_forward").to.equal(controllerWas)
  })

  it('from bare: check says exactly what apply then changes', async () => {
    const c = await muster(['check', ...PB])
    expect(c.code, explain(c)).to.equal(2)
    const a = await muster(['apply', ...PB])
    expect(a.code, explain(a)).to.equal(0)
    const row = agreement('bare', c, a)
    expect(row.agree, agreementTable([row])).to.equal(true)
    // hostname was already right on the lab's hosts, and apt's lists may be fresh in the base image
    const settled = (k: string) => k === 'hostname' || k === 'apt-update'
    expect(row.changed.filter((x) => !x.includes(' handler ') && !x.endsWith(' apt-update'))).to.deep.equal(HOSTS.flatMap((h) => KINDS.filter((k) => !settled(k)).map((k) => `${h} ${k}`)).sort())
    // the one step check could not predict exactly: the locale, whose /etc/locale.gen the locales package brings
    expect(row.unknown).to.deep.equal(HOSTS.map((h) => `${h} locale:en_US.UTF-8`).sort())
    expect(row.changed.filter((x) => x.includes(' handler '))).to.deep.equal(HOSTS.map((h) => `${h} handler reload ssh.service`).sort())
    for (const h of HOSTS) {
      expect(await onHost(h, 'stat -c %a:%U /etc/sudoers.d/muster-admins && visudo -c >/dev/null && echo valid')).to.equal('440:root\nvalid')
      expect(await onHost(h, 'cat /proc/sys/net/ipv4/ip_forward /etc/sysctl.d/90-muster-net.ipv4.ip_forward.conf')).to.match(/^1\n# managed by muster\nnet.ipv4.ip_forward = 1$/)
      expect(await onHost(h, 'readlink /etc/localtime; cat /etc/timezone; date +%Z')).to.match(/^\/usr\/share\/zoneinfo\/Europe\/Berlin\nEurope\/Berlin\nCES?T$/)
      expect(await onHost(h, 'stat -c %a:%U ~ops/.ssh ~ops/.ssh/authorized_keys; grep -c . /root/.ssh/authorized_keys')).to.equal('700:ops\n600:ops\n2')
    }
    // the key really lets ops in, and the lab's own key still lets root in (non-exclusive)
    const addr = (await onHost('web-01', "ip -4 -o addr show eth0 | awk '{print $4}'")).split('/')[0]!
    const login = (who: string, key: string) =>
      execFileSync('ssh', ['-i', key, '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR', `${who}@${addr}`, 'id -un'], { encoding: 'utf8' }).trim()
    expect(login('ops', join(keyDir, 'ops'))).to.equal('ops')
    // sshd was reloaded with the drop-in: it offers keys only now
    const pw = await sshPasswordOnly(addr)
    expect(pw).to.match(/Permission denied \(publickey\)/)
  })

  it('a second run changes nothing, in one probe batch per host', async () => {
    const r = await muster(['apply', ...PB])
    expect(r.code, explain(r)).to.equal(0)
    for (const h of HOSTS) {
      expect(r.recap!.hosts[h]!.changed, h).to.equal(0)
      expect(r.recap!.hosts[h]!.probeBatches, h).to.equal(1)
    }
  })

  it('drift made by hand is found by check (exit 2, host, resource, diff) and fixed by one apply', async () => {
    await onHost('web-02', [
      'sysctl -q -w net.ipv4.ip_forward=0',
      'hostname drifted',
      'ln -sfn /usr/share/zoneinfo/Etc/UTC /etc/localtime',
      'echo "Defaults:%sudo lecture=always" >> /etc/sudoers.d/muster-admins',
      'echo "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDHand intruder@x" >> ~ops/.ssh/authorized_keys',
      'echo "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHandMadeRootKey other@x" >> /root/.ssh/authorized_keys',
      "sed -i 's/^MaxAuthTries 4$/MaxAuthTries 6/' /etc/ssh/sshd_config.d/10-muster-hardening.conf",
      "sed -i 's/^en_US.UTF-8 UTF-8/# en_US.UTF-8 UTF-8/' /etc/locale.gen && locale-gen >/dev/null && echo LANG=C.UTF-8 > /etc/default/locale",
    ].join(' && '))
    const c = await muster(['check', ...PB])
    expect(c.code, explain(c)).to.equal(2)
    const drifted = results(c).filter((e) => e.status === 'would-change')
    expect(drifted.map((e) => `${e.host} ${e.resource}`).sort()).to.deep.equal(['web-02 authorized-keys:ops', 'web-02 hostname', 'web-02 locale:en_US.UTF-8', 'web-02 sshd-config:/etc/ssh/sshd_config.d/10-muster-hardening.conf', 'web-02 sudoers:/etc/sudoers.d/muster-admins', 'web-02 sysctl:net.ipv4.ip_forward', 'web-02 timezone'])
    expect(drifted.find((e) => e.resource.startsWith('sshd-config'))!.diff).to.match(/-MaxAuthTries 6\n\+MaxAuthTries 4/)
    expect(drifted.find((e) => e.resource === 'authorized-keys:ops')!.diff).to.include('-ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDHand intruder@x')
    expect(drifted.find((e) => e.resource.startsWith('sudoers'))!.diff).to.include('-Defaults:%sudo lecture=always')
    expect(drifted.find((e) => e.resource === 'hostname')!.summary).to.equal('live drifted -> web-02')
    const a = await muster(['apply', ...PB])
    expect(a.code, explain(a)).to.equal(0)
    expect(results(a).filter((e) => e.status === 'changed').map((e) => e.resource).sort()).to.deep.equal(drifted.map((e) => e.resource).sort())
    expect(await onHost('web-02', 'grep -c intruder ~ops/.ssh/authorized_keys || true; grep -c other@x /root/.ssh/authorized_keys')).to.equal('0\n1')
    expect(await onHost('web-02', 'hostname; cat /proc/sys/net/ipv4/ip_forward')).to.equal('web-02\n1')
    expect(await onHost('web-02', '. /etc/default/locale; echo $LANG; locale -a | grep -x en_US.utf8')).to.equal('en_US.UTF-8\nen_US.utf8')
    const again = await muster(['check', ...PB])
    expect(again.code, explain(again)).to.equal(0)
  })

  for (const [bad, error] of [
    ['sudoers', /validation `visudo -cf %s` failed; the live file is unchanged/],
    ['sysctl', /sysctl -q -w net.ipv4.ip_forward=yes/],
    ['timezone', /no such zone on this host/],
    ['locale', /locale xx_YY.UTF-8: this host does not offer it/],
    ['sshd', /sshd -t, then the lockout check for this run` failed; the live file is unchanged:[\s\S]*NoSuchOption/],
    ['lockout', /refused: the run logs in as root with a key from [\d.]+:22; PubkeyAuthentication would be no/],
    ['root-lockout', /refused: the run logs in as root [^;]*; PermitRootLogin would refuse root keys/],
  ] as const) {
    it(`bad input (${bad}): a clear error naming host and resource, and the host as it was`, async () => {
      const snapshot = 'sha256sum /etc/sudoers.d/* /etc/sysctl.d/* /etc/ssh/sshd_config.d/* /etc/timezone; sshd -T | sort | sha256sum; readlink /etc/localtime; cat /proc/sys/net/ipv4/ip_forward; ls -a /etc/sudoers.d /etc/sysctl.d /etc/ssh/sshd_config.d; sha256sum /etc/locale.gen /etc/default/locale; locale -a'
      const was = await onHost('web-01', snapshot)
      const r = await muster(['apply', 'test/fixtures/lab/server-bad.ts', '-i', 'test/fixtures/lab/inventory.ts', '--json', '-e', `bad=${bad}`])
      expect(r.code, explain(r)).to.equal(1)
      const failed = results(r).filter((e) => e.status === 'failed')
      expect(failed.map((e) => e.host)).to.deep.equal(['web-01'])
      expect(failed[0]!.error).to.match(error)
      expect(await onHost('web-01', snapshot)).to.equal(was)
    })
  }
})
