import { expect } from 'chai'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { ensureLab, testSuite } from '../support/lab.ts'
import { muster, type CliResult } from '../support/cli.ts'
import { labExec, labFiles, readState } from '../../src/lab/index.ts'

/**
 * Becoming root (or another user) every way a rented server may ask for:
 * sudo with a password (web-01), su with root's password (web-02), doas with
 * a nopass rule (lb-01), sudo-rs with a password (db-03, Debian 13 only:
 * Debian 12 has no sudo-rs package). Each logs in as `admin`, converges a
 * playbook, stays converged, and the passwords' text is never in output,
 * a remote process's argv or environment, or a file left on the host.
 */

const PLAYBOOK = 'test/fixtures/lab/become-methods.ts'
const HOSTS = ['web-01', 'web-02', 'lb-01', 'db-03'] as const
const pw = (): string => `pw-${randomBytes(9).toString('base64url')}`

describe('lab: become through sudo with a password, su, doas and sudo-rs', function () {
  this.timeout(10 * 60_000)
  const hasSudoRs = testSuite() !== 'bookworm'
  const secrets = { admin: pw(), root: pw(), wrong: pw() }
  let dir: string
  let env: Record<string, string>

  /** A YAML inventory, Ansible's variables, the passwords written as a user would (here in a temp file). */
  const inventory = (name: string, passwords: { sudo: string; su: string; sudoRs: string }): string => {
    const state = readState()!
    const addr = (h: string): string => state.hosts.find((x) => x.name === h)!.address
    const methods: Record<string, string> = {
      'web-01': `ansible_become_method: sudo, ansible_become_password: ${passwords.sudo}`,
      'web-02': `ansible_become_method: su, ansible_become_password: ${passwords.su}`,
      'lb-01': `ansible_become_method: doas`,
      'db-03': hasSudoRs ? `ansible_become_method: sudo-rs, ansible_become_password: ${passwords.sudoRs}` : `ansible_become_method: sudo, ansible_become_password: ${passwords.sudo}`,
    }
    const yaml = [
      'all:',
      '  vars:',
      '    ansible_user: admin',
      `    ansible_ssh_private_key_file: ${labFiles.clientKey()}`,
      `    muster_known_hosts: ${labFiles.knownHosts()}`,
      '  children:',
      '    to_root:',
      '      hosts:',
      ...HOSTS.map((h) => `        ${h}: { ansible_host: ${addr(h)}, ${methods[h]} }`),
      '    to_app:',
      '      hosts:',
      `        web-01-app: { ansible_host: ${addr('web-01')}, ansible_become_user: app, ansible_become_method: sudo, ansible_become_password: ${passwords.sudo} }`,
    ].join('\n')
    const file = join(dir, name)
    writeFileSync(file, yaml + '\n', { mode: 0o600 })
    return file
  }

  before(async function () {
    await ensureLab(this)
    dir = mkdtempSync(join(tmpdir(), 'muster-become-'))
    env = { MUSTER_STATE_DIR: join(dir, 'state') }
    const key = (await labExec('web-01', 'cat /root/.ssh/authorized_keys')).stdout.trim()
    const common = `set -e
id admin >/dev/null 2>&1 || useradd -m -s /bin/bash admin
id app >/dev/null 2>&1 || useradd -m -s /bin/bash app
mkdir -p /home/admin/.ssh && printf '%s\\n' '${key}' > /home/admin/.ssh/authorized_keys
chown -R admin:admin /home/admin/.ssh && chmod 700 /home/admin/.ssh && chmod 600 /home/admin/.ssh/authorized_keys
rm -f /etc/sudoers.d/admin /etc/doas.conf /etc/muster-become.conf /var/tmp/muster-become-uid /var/tmp/muster-become-as-app
# passwords on stdin: never in this setup's own argv
{ IFS= read -r a; IFS= read -r r; printf 'admin:%s\\nroot:%s\\n' "$a" "$r"; } | chpasswd
`
    const sudoers = `echo 'admin ALL=(ALL:ALL) ALL' > /etc/sudoers.d/admin && chmod 0440 /etc/sudoers.d/admin\n`
    const install = (pkg: string): string => `DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${pkg} >/dev/null\n`
    const setup: Record<string, string> = {
      'web-01': common + sudoers,
      'web-02': common, // admin has no sudo at all: su with root's password is the only way
      'lb-01': common + install('opendoas') + `echo 'permit nopass admin as root' > /etc/doas.conf && chmod 0400 /etc/doas.conf\n`,
      'db-03': common + sudoers + (hasSudoRs ? install('sudo-rs') : ''),
    }
    await Promise.all(HOSTS.map(async (h) => {
      const r = await labExec(h, setup[h]!, { stdin: `${secrets.admin}\n${secrets.root}\n` })
      expect(r.code, `${h} setup: ${r.stderr}`).to.equal(0)
    }))
  })
  after(() => dir && rmSync(dir, { recursive: true, force: true }))

  const leaks = (r: CliResult): string[] =>
    Object.entries(secrets).filter(([, s]) => (r.stdout + r.stderr).includes(s)).map(([k]) => k)

  it('converges with each method and stays converged; no password in output, remote argv, environment or files', async function () {
    if (!hasSudoRs) console.warn('      (Debian 12 has no sudo-rs package: db-03 uses sudo with a password instead)')
    const inv = inventory('good.yml', { sudo: secrets.admin, su: secrets.root, sudoRs: secrets.admin })

    // sample every process's argv and environment on every host while the first apply runs
    const stop = '/run/muster-stop-sampling'
    const sampler = `rm -f ${stop} /run/muster-samples; n=0
while [ ! -e ${stop} ] && [ $n -lt 1200 ]; do
  ps -eo args >> /run/muster-samples
  cat /proc/[0-9]*/environ 2>/dev/null | tr '\\0' '\\n' >> /run/muster-samples
  n=$((n+1)); sleep 0.05
done
sort -u /run/muster-samples; rm -f /run/muster-samples ${stop}`
    const samples = HOSTS.map((h) => labExec(h, sampler, { timeoutMs: 180_000 }))
    await new Promise((r) => setTimeout(r, 300))
    const first = await muster(['apply', PLAYBOOK, '-i', inv, '--json'], env)
    await Promise.all(HOSTS.map((h) => labExec(h, `touch ${stop}`)))
    const seen = await Promise.all(samples)

    expect(first.code, first.stdout + first.stderr).to.equal(0)
    for (const h of HOSTS) expect(first.recap!.hosts[h]!.changed, h).to.equal(2)
    expect(first.recap!.hosts['web-01-app']!.changed).to.equal(1)
    for (const h of HOSTS) {
      const st = await labExec(h, "stat -c '%U:%G %a' /etc/muster-become.conf && cat /var/tmp/muster-become-uid")
      expect(st.stdout, h).to.equal('root:root 640\n0\n')
    }
    expect((await labExec('web-01', 'cat /var/tmp/muster-become-as-app')).stdout).to.equal('app\n')

    seen.forEach((s, i) => {
      const h = HOSTS[i]!
      // the sample covered the run: muster's own escalated commands are in it
      expect(s.stdout, `${h}: the sampler saw no muster command`).to.match(/sh -c .*(muster|dpkg-query|stat)/)
      for (const [name, text] of Object.entries(secrets)) expect(s.stdout.includes(text), `${h}: the ${name} password in a process's argv or environment`).to.equal(false)
    })

    // converged, in every output mode
    for (const flags of [[], ['-v'], ['--json'], ['--diff', '-v']]) {
      const again = await muster(['apply', PLAYBOOK, '-i', inv, ...flags, ...(flags.includes('--json') ? [] : ['--json'])], env)
      expect(again.code, again.stdout + again.stderr).to.equal(0)
      for (const h of [...HOSTS, 'web-01-app']) expect(again.recap!.hosts[h]!.changed, `${h} ${flags.join(' ')}`).to.equal(0)
      expect(leaks(again), flags.join(' ')).to.deep.equal([])
      const plain = await muster(['check', PLAYBOOK, '-i', inv, ...flags.filter((f) => f !== '--json')], env)
      expect(plain.code, plain.stdout + plain.stderr).to.equal(0)
      expect(leaks(plain), `check ${flags.join(' ')}`).to.deep.equal([])
    }
    expect(leaks(first)).to.deep.equal([])

    // no file on any host holds a password's text (the patterns travel on stdin, not in grep's argv)
    for (const h of HOSTS) {
      const r = await labExec(h, 'grep -rlF -f /dev/stdin /etc /home /root /tmp /var /run /srv 2>/dev/null; true', { stdin: Object.values(secrets).join('\n') + '\n' })
      expect(r.stdout.trim(), `${h}: files holding a password`).to.equal('')
    }
  })

  it('a wrong password fails that host at once, naming host and method; the others converge', async () => {
    await Promise.all(HOSTS.map((h) => labExec(h, 'rm -f /etc/muster-become.conf /var/tmp/muster-become-uid /var/tmp/muster-become-as-app')))
    const inv = inventory('wrong.yml', { sudo: secrets.wrong, su: secrets.wrong, sudoRs: secrets.wrong })
    // plain output, read as it arrives: each failing host's time from its play's start to its FAILED line
    const seen: { at: number; line: string }[] = []
    const r = await muster(['apply', PLAYBOOK, '-i', inv], env, 60_000, (line) => seen.push({ at: Date.now(), line }))
    expect(r.code, r.stdout + r.stderr).to.equal(1)
    const playStart = (name: string): number => seen.find((l) => l.line.startsWith(`PLAY [${name}`))!.at
    const failedAfter = (host: string, play: string): number => seen.find((l) => l.line.startsWith(`${host} `) && /FAILED/.test(l.line))!.at - playStart(play)
    const times = { 'web-01': failedAfter('web-01', 'to_root'), 'web-02': failedAfter('web-02', 'to_root'), 'db-03': failedAfter('db-03', 'to_root'), 'web-01-app': failedAfter('web-01-app', 'to_app') }
    console.log(`      failed after (ms, from the play's start, connecting included): ${JSON.stringify(times)}; load ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores`)
    for (const [h, ms] of Object.entries(times)) expect(ms, h).to.be.below(10_000)
    const json = await muster(['apply', PLAYBOOK, '-i', inv, '--json'], env, 60_000)
    expect(json.code).to.equal(1)
    const out = r.stdout + r.stderr
    expect(out).to.match(/web-01: become sudo \(to root\) failed: wrong password/)
    expect(out).to.match(/web-02: become su \(to root\) failed: .*Authentication failure/)
    expect(out).to.match(hasSudoRs ? /db-03: become sudo-rs \(to root\) failed: wrong password/ : /db-03: become sudo \(to root\) failed: wrong password/)
    expect(out).to.match(/web-01-app: become sudo \(to app\) failed: wrong password/)
    expect(out).to.match(/^lb-01 +: ok=\d+ changed=2 unreachable=0 failed=0/m)
    for (const h of ['web-01', 'web-02', 'db-03']) expect(out).to.match(new RegExp(`^${h} +: .*failed=1`, 'm'))
    expect(out.includes(secrets.wrong) || json.stdout.includes(secrets.wrong)).to.equal(false)
  })
})
