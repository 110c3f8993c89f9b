// What every server in a fleet gets, before its own roles: admin accounts that
// log in with their keys and sudo without a password (they have none), sshd
// hardened to keys only (the sshdConfig resource refuses any setting that would
// stop the run's own key login), unattended security upgrades, time sync,
// a timezone, kernel parameters and a swap file. Written with muster's public
// API only, like every role in this repository.
import {
  role,
  roleVar,
  varKinds,
  apt,
  group,
  user,
  authorizedKeys,
  sudoers,
  sshdConfig,
  reload,
  file,
  service,
  timezone,
  sysctl,
  swapFile,
  type SwapFileVia,
  type SwapSize,
  type VarKind,
} from 'muster'

const swapSize: VarKind<SwapSize | 'none'> = {
  type: "`${number}M` | `${number}G` | 'none'",
  is: (v): v is SwapSize | 'none' => typeof v === 'string' && /^([1-9][0-9]*[MG]|none)$/.test(v),
}
const swapVia: VarKind<SwapFileVia> = {
  type: '{ swapon?: string; swapoff?: string; swaps?: string }',
  is: (v): v is SwapFileVia =>
    typeof v === 'object' && v !== null && !Array.isArray(v) && Object.entries(v).every(([k, x]) => ['swapon', 'swapoff', 'swaps'].includes(k) && typeof x === 'string'),
}

/** The baseline's vars, declared once: set them in the inventory (all vars, a group's, a host's) or with -e. */
export const baselineVars = {
  baselineAdmins: roleVar.of(varKinds.record(varKinds.list(varKinds.string)), {
    default: {},
    description: 'admin accounts and their public keys: { alice: ["ssh-ed25519 AAAA... alice@laptop"] }; their authorized_keys hold exactly these',
  }),
  baselineAdminGroup: roleVar.string({ default: 'admins', description: 'the group of the admin accounts, allowed every command through sudo without a password' }),
  baselinePermitRootLogin: roleVar.string({ default: 'prohibit-password', description: "sshd's PermitRootLogin: prohibit-password (keys only), no, or yes" }),
  baselineTimezone: roleVar.string({ default: 'Etc/UTC', description: 'the zone under /usr/share/zoneinfo' }),
  baselineTimeSyncRunning: roleVar.boolean({
    default: true,
    description: 'run systemd-timesyncd; false where the host cannot set the clock (a container: the unit skips itself there, so "running" would never hold)',
  }),
  baselineSysctls: roleVar.of(varKinds.record(varKinds.either(varKinds.string, varKinds.integer)), {
    default: { 'net.ipv4.tcp_syncookies': 1, 'net.ipv4.conf.all.accept_redirects': 0, 'net.ipv4.conf.default.accept_redirects': 0, 'net.ipv4.conf.all.send_redirects': 0 },
    description: 'kernel parameters, live and in /etc/sysctl.d (only net.* are a container\'s own)',
  }),
  baselineSwapFile: roleVar.string({ default: '/swapfile', description: 'where the swap file lives' }),
  baselineSwapSize: roleVar.of(swapSize, { default: '1G', description: "the swap file's size ('512M', '2G'), or 'none' for no swap file" }),
  baselineSwapVia: roleVar.of(swapVia, {
    default: {},
    description: 'stand-ins for swapon, swapoff and /proc/swaps (a test host that shares its kernel); empty: the real ones',
  }),
}

export const baseline = role('baseline', { vars: baselineVars, description: 'admins, sudo, sshd keys-only, unattended upgrades, time sync, timezone, sysctls, swap' }, (ctx) => {
  const v = ctx.vars
  const admins = Object.entries(v.baselineAdmins)
  const reloadSsh = reload('ssh')
  return [
    // admins: one group, each account in it with exactly its keys
    apt('sudo'),
    group(v.baselineAdminGroup),
    ...admins.flatMap(([name, keys]) => [
      user(name, { shell: '/bin/bash', groups: [v.baselineAdminGroup], createHome: true }),
      authorizedKeys(name, { keys, exclusive: true }),
    ]),
    sudoers('baseline-admins', { rules: [`%${v.baselineAdminGroup} ALL=(ALL:ALL) NOPASSWD: ALL`] }),
    // keys only; sshd -t and the lockout guard judge it with the file in place before it stays
    sshdConfig('10-baseline', {
      settings: {
        PasswordAuthentication: false,
        KbdInteractiveAuthentication: false,
        PermitEmptyPasswords: false,
        PermitRootLogin: v.baselinePermitRootLogin,
        X11Forwarding: false,
      },
      notify: reloadSsh,
    }),
    // security updates by themselves: apt's daily timers run unattended-upgrade
    apt('unattended-upgrades'),
    file('/etc/apt/apt.conf.d/20auto-upgrades', {
      content: 'APT::Periodic::Update-Package-Lists "1";\nAPT::Periodic::Unattended-Upgrade "1";\n',
      mode: '0644',
    }),
    // the clock: systemd-timesyncd (chrony would need CAP_SYS_TIME in a container too, and would get it)
    apt('systemd-timesyncd'),
    service('systemd-timesyncd', v.baselineTimeSyncRunning ? { enabled: true, running: true } : { enabled: true }),
    timezone(v.baselineTimezone),
    ...Object.entries(v.baselineSysctls).map(([key, value]) => sysctl(key, value, { file: '90-baseline-' + key + '.conf' })),
    v.baselineSwapSize !== 'none' && swapFile(v.baselineSwapFile, { size: v.baselineSwapSize, via: v.baselineSwapVia }),
  ]
})
