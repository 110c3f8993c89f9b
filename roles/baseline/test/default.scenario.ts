// `muster test roles/baseline`: the baseline on one lab host. No swap file
// (swapon would reach this machine's kernel: the lab shares it; test/lab/baseline.test.ts
// proves the swap file with recording stand-ins) and timesyncd enabled, not running
// (its unit skips itself in a container, and must not set the shared clock).
import { defineScenario, sideEffects } from 'muster/testing'
import { baseline } from '../index.ts'

const host = 'web-02'
// a public key only: the scenario proves the account and its authorized_keys, not a login
const opsKey = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKXZ1a0W5W5fX8Zjx+8prSdPD8TZvZLBNeyj4Qxc5vyq ops@muster-scenario'

export default defineScenario({
  name: 'baseline default',
  hosts: {
    lab: [host],
    vars: { baselineAdmins: { ops: [opsKey] }, baselineSwapSize: 'none', baselineTimeSyncRunning: false },
  },
  roles: [baseline],
  sideEffects: [
    sideEffects.deleteFile(host, '/etc/apt/apt.conf.d/20auto-upgrades'),
    sideEffects.editFile(host, '/home/ops/.ssh/authorized_keys', 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBogusBogusBogusBogusBogusBogusBogusBogusBog intruder'),
    sideEffects.shell(host, 'turn SYN cookies off by hand', 'sysctl -qw net.ipv4.tcp_syncookies=0'),
  ],
  verify: (h) => [
    h(host).package('sudo').installed,
    h(host).package('unattended-upgrades').installed,
    h(host).service('systemd-timesyncd').enabled,
    h(host).user('ops').exists,
    h(host).file('/home/ops/.ssh/authorized_keys').contains(opsKey),
    h(host).file('/etc/apt/apt.conf.d/20auto-upgrades').mode('0644'),
    h(host).command('sshd -T | grep -i "^passwordauthentication"').stdoutContains('passwordauthentication no'),
    h(host).command('sysctl -n net.ipv4.tcp_syncookies').stdoutContains('1'),
    h(host).command('visudo -c').exitCode(0),
  ],
})
