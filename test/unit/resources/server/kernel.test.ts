import { planTable, recorded, literal } from '../../../support/plan-table.ts'
import { kernelModule, swapFile } from '../../../../src/resources/server/index.ts'
import { procTable } from '../../../../src/facts/proc-table.ts'
import { swapSignature } from '../../../../src/facts/swap-signature.ts'

// Recorded on lab web-02 (bookworm and trixie) (test/fixtures/probes/{proc-table,swap-signature,path-stat,path,file-content}/kernel-web-02-*, Debian 13's under debian13/):
// bare with the stand-ins installed, converged by kernelModule('dummy') and swapFile('/srv/swapfile', '16M') through them,
// then drifted by hand (see the meta.json notes). /proc/swaps was recorded too (the machine's own, read from a lab host,
// which shares its kernel: a header and no swap). /proc/modules was asked for and is not there: this machine's kernel
// has no loadable modules, so the real table's rows below are literals in its documented format (name first), and
// a host without it gets a clear error.
const FAKE = '/var/lib/muster-fake'
const modVia = { modprobe: '/usr/local/sbin/muster-fake-modprobe', modules: `${FAKE}/modules` }
const swapVia = { swapon: '/usr/local/sbin/muster-fake-swapon', swapoff: '/usr/local/sbin/muster-fake-swapoff', swaps: `${FAKE}/swaps` }
const dummy = () => kernelModule('dummy', { via: modVia })
const swap = () => swapFile('/srv/swapfile', { size: '16M', via: swapVia })
const modFacts = (rec: string, table = `${FAKE}/modules`) => ({ loaded: recorded(`proc-table/${rec}`, table), file: recorded(`path/${rec}`, '/etc/modules-load.d/dummy.conf') })
const swapFacts = (rec: string, path = '/srv/swapfile', table = `${FAKE}/swaps`) => ({
  stat: recorded(`path-stat/${rec}`, path),
  signature: recorded(`swap-signature/${rec}`, path),
  active: recorded(`proc-table/${rec}`, table),
  fstab: recorded(`file-content/${rec}`),
  fstabFile: recorded(`path/${rec}`, '/etc/fstab'),
})

{
  // the Debian 12 recording and its Debian 13 twin (debian13/): planTable runs each row over both
  const rec = (state: string) => `kernel-web-02-${state}`
  planTable('kernelModule: plan over recorded probes', [
    { name: 'bare: loaded first, then listed for boot', resource: dummy, facts: modFacts(rec('bare')), expect: 'load, /etc/modules-load.d/dummy.conf: create', commands: /^\/usr\/local\/sbin\/muster-fake-modprobe -- dummy\n/, predicts: [{ query: procTable(`${FAKE}/modules`), value: ['dummy'] }] },
    { name: 'converged', resource: dummy, facts: modFacts(rec('converged')), expect: 'ok' },
    { name: 'unloaded by hand', resource: dummy, facts: modFacts(rec('drifted')), expect: 'load' },
    { name: 'absent on a converged host: unloaded, file removed', resource: () => kernelModule('dummy', { state: 'absent', via: modVia }), facts: modFacts(rec('converged')), expect: 'unload, /etc/modules-load.d/dummy.conf: remove file', commands: /modprobe -r -- dummy\nrm -f -- \/etc\/modules-load.d\/dummy.conf/ },
    { name: 'absent on bare', resource: () => kernelModule('dummy', { state: 'absent', via: modVia }), facts: modFacts(rec('bare')), expect: 'ok' },
    { name: 'the real modprobe and /proc/modules', resource: () => kernelModule('br-netfilter'), facts: { loaded: literal(['bridge', 'stp', 'llc']), file: literal({ type: 'absent' }) }, expect: 'load, /etc/modules-load.d/br_netfilter.conf: create', commands: /^modprobe -- br_netfilter\n/ },
    { name: 'loaded already (dashes and underscores are one)', resource: () => kernelModule('br-netfilter'), facts: { loaded: literal(['br_netfilter', 'bridge']), file: literal({ type: 'absent' }) }, expect: '/etc/modules-load.d/br_netfilter.conf: create' },
    { name: 'a kernel without loadable modules (no /proc/modules, as on the lab\'s machine)', resource: () => kernelModule('dummy'), facts: { loaded: recorded(`proc-table/${rec('bare')}`, '/proc/modules'), file: literal({ type: 'absent' }) }, expect: { throws: /kernel-module:dummy: cannot read \/proc\/modules on this host/ } },
  ])
  planTable('swapFile: plan over recorded probes', [
    { name: 'bare: made beside, mkswap\'d, renamed, switched on, then fstab', resource: swap, facts: swapFacts(rec('bare')), expect: 'create 16M, swapon, /etc/fstab: add line', diff: /\+\/srv\/swapfile none swap sw 0 0/, commands: /dd if=\/dev\/zero of=\/srv\/swapfile.muster-new bs=1M count=16[\s\S]*chmod 0600[\s\S]*mkswap -- \/srv\/swapfile.muster-new[\s\S]*mv -f -- \/srv\/swapfile.muster-new \/srv\/swapfile[\s\S]*muster-fake-swapon -- \/srv\/swapfile \|\| \{ rc=\$\?; if \[ -n "\$made" \]; then rm -f -- \/srv\/swapfile/, predicts: [{ query: swapSignature('/srv/swapfile'), value: true }, { query: procTable(`${FAKE}/swaps`), value: ['Filename', '/srv/swapfile'] }] },
    { name: 'converged', resource: swap, facts: swapFacts(rec('converged')), expect: 'ok' },
    { name: 'switched off, made 0644 and its fstab line edited by hand', resource: swap, facts: swapFacts(rec('drifted')), expect: 'mode 0644 -> 0600, swapon, /etc/fstab: replace "/srv/swapfile none swap sw,pri=5 0 0"', diff: /-\/srv\/swapfile none swap sw,pri=5 0 0\n\+\/srv\/swapfile none swap sw 0 0/, commands: /^chmod 0600 -- \/srv\/swapfile\n\/usr\/local\/sbin\/muster-fake-swapon -- \/srv\/swapfile\n/ },
    { name: 'another size: switched off, remade, switched on (the old one back on if remaking fails)', resource: () => swapFile('/srv/swapfile', { size: '32M', via: swapVia }), facts: swapFacts(rec('converged')), expect: 'resize 16M -> 32M, swapon', commands: /^made=[^\n]*\n\/usr\/local\/sbin\/muster-fake-swapoff -- \/srv\/swapfile\n[\s\S]*count=32[\s\S]*\{ rc=\$\?; rm -f -- \/srv\/swapfile.muster-new; \/usr\/local\/sbin\/muster-fake-swapon -- \/srv\/swapfile; exit \$rc; \}/ },
    { name: 'absent on a converged host: off, fstab line gone, file removed', resource: () => swapFile('/srv/swapfile', { state: 'absent', via: swapVia }), facts: swapFacts(rec('converged')), expect: 'swapoff, /etc/fstab: remove 1 line, remove', commands: /^\/usr\/local\/sbin\/muster-fake-swapoff -- \/srv\/swapfile\n[\s\S]*rm -f -- \/srv\/swapfile$/ },
    { name: 'absent on bare', resource: () => swapFile('/srv/swapfile', { state: 'absent', via: swapVia }), facts: swapFacts(rec('bare')), expect: 'ok' },
    { name: 'a file there that is not a swap area is never overwritten', resource: () => swapFile('/srv/not-swap', { size: '16M', via: swapVia }), facts: swapFacts(rec('bare'), '/srv/not-swap'), expect: { throws: /\/srv\/not-swap exists and is not a swap area/ } },
    { name: 'the real swapon and /proc/swaps: the table the lab host shows (no swap on)', resource: () => swapFile('/swapfile', { size: '1G' }), facts: { ...swapFacts(rec('bare'), '/srv/swapfile', '/proc/swaps'), stat: literal({ type: 'absent' }), signature: literal(null) }, expect: 'create 1G, swapon, /etc/fstab: add line', commands: /count=1024[\s\S]*\nswapon -- \/swapfile \|\|/ },
  ])
}

planTable('kernelModule, swapFile: bad input at playbook load', [
  { name: 'a module name with a slash', resource: () => kernelModule('../x'), facts: {}, expect: { throws: /a module name is letters, digits, _ and - only/ } },
  { name: 'a stand-in command with a space', resource: () => kernelModule('dummy', { via: { modprobe: 'mod probe' } }), facts: {}, expect: { throws: /via.modprobe "mod probe" must be a command name or path/ } },
  { name: 'a swap size in bytes', resource: () => swapFile('/swapfile', { size: '1000' as '1M' }), facts: {}, expect: { throws: /size "1000" must be whole MiB or GiB/ } },
  { name: 'a relative swap file', resource: () => swapFile('swapfile', { size: '1G' }), facts: {}, expect: { throws: /the path must be absolute/ } },
  { name: 'an unreadable swaps table', resource: swap, facts: { ...swapFacts('kernel-web-02-bare'), active: literal(null) }, expect: { throws: /cannot read \/var\/lib\/muster-fake\/swaps on this host/ } },
])
