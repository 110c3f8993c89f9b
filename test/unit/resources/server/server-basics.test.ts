import { planTable, recorded, literal } from '../../../support/plan-table.ts'
import { sudoers, sysctl, hostname, timezone } from '../../../../src/resources/server/index.ts'
import { sysctlValue } from '../../../../src/facts/sysctl.ts'
import { pathState } from '../../../../src/facts/path.ts'

// Every fact below was recorded on lab host web-01 (test/fixtures/probes/{path,sysctl}/server-web-01-*):
// bare, converged by test/fixtures/lab/server.ts, and drifted by hand (see the fixtures' meta.json).
const path = (state: string) => recorded(`path/server-web-01-${state}`)
const live = (state: string) => recorded(`sysctl/server-web-01-${state}`)

const admins = () => sudoers('muster-admins', { rules: ['%sudo ALL=(ALL:ALL) NOPASSWD: /usr/bin/systemctl status *', 'Defaults:%sudo !lecture'] })

planTable('sudoers: plan over recorded probes', [
  { name: 'bare', resource: admins, facts: { state: path('bare') }, expect: 'create', diff: /\+%sudo ALL=/, commands: /chmod -- 0440[\s\S]*visudo -cf "\$tmp"/, predicts: [{ query: pathState('/etc/sudoers.d/muster-admins'), value: { mode: '0440', owner: 'root' } }] },
  { name: 'converged', resource: admins, facts: { state: path('converged') }, expect: 'ok' },
  { name: 'a line added by hand', resource: admins, facts: { state: path('drifted') }, expect: 'content' },
  { name: 'a dotted name sudo would skip', resource: () => sudoers('admins.conf', { rules: ['x'] }), facts: {}, expect: { throws: /sudo ignores names with a dot/ } },
  { name: 'no rules', resource: () => sudoers('x', { rules: [] }), facts: {}, expect: { throws: /at least one rule/ } },
  { name: 'a rule with a newline', resource: () => sudoers('x', { rules: ['a\nb'] }), facts: {}, expect: { throws: /each rule is one line/ } },
])

const forward = () => sysctl('net.ipv4.ip_forward', 1)
planTable('sysctl: plan over recorded probes', [
  { name: 'bare', resource: forward, facts: { live: live('bare'), file: path('bare') }, expect: /^live 0 -> 1, \/etc\/sysctl.d\/90-muster-net.ipv4.ip_forward.conf: create$/, commands: /^sysctl -q -w net.ipv4.ip_forward=1\n/, predicts: [{ query: sysctlValue('net.ipv4.ip_forward'), value: '1' }] },
  { name: 'bare, live already right: only the file', resource: () => sysctl('net.ipv4.tcp_syncookies', '1'), facts: { live: live('bare'), file: path('bare') }, expect: '/etc/sysctl.d/90-muster-net.ipv4.tcp_syncookies.conf: create' },
  { name: 'converged', resource: forward, facts: { live: live('converged'), file: path('converged') }, expect: 'ok' },
  { name: 'live value changed by hand', resource: forward, facts: { live: live('drifted'), file: path('drifted') }, expect: 'live 0 -> 1', commands: /^sysctl -q -w net.ipv4.ip_forward=1$/ },
  { name: 'a parameter the host lacks', resource: () => sysctl('net.nosuch.param', 1), facts: { live: live('bare'), file: literal({ type: 'absent' }) }, expect: { throws: /no such parameter/ } },
  { name: 'not a parameter name', resource: () => sysctl('ip_forward', 1), facts: {}, expect: { throws: /not a parameter name/ } },
  { name: 'a value with a newline', resource: () => sysctl('net.ipv4.ip_forward', '1\nkernel.x = 2'), facts: {}, expect: { throws: /newline/ } },
])

planTable('hostname: plan over recorded probes', [
  { name: 'bare, already named', resource: () => hostname('web-01'), facts: { live: live('bare'), file: path('bare') }, expect: 'ok' },
  { name: 'renamed by hand', resource: () => hostname('web-01'), facts: { live: live('drifted'), file: path('drifted') }, expect: 'live drifted -> web-01', commands: /^hostname -- web-01$/ },
  { name: 'a new name', resource: () => hostname('app-7'), facts: { live: live('converged'), file: path('converged') }, expect: 'live web-01 -> app-7, /etc/hostname: content', predicts: [{ query: sysctlValue('kernel.hostname'), value: 'app-7' }] },
  { name: 'not a host name', resource: () => hostname('web_01;reboot'), facts: {}, expect: { throws: /letters, digits and inner hyphens/ } },
])

const berlin = () => timezone('Europe/Berlin')
const tzFacts = (state: string) => ({ zone: recorded(`path/server-web-01-${state}`, '/usr/share/zoneinfo/Europe/Berlin'), link: path(state), file: path(state) })
planTable('timezone: plan over recorded probes', [
  // Debian 12's tzdata keeps /etc/timezone (content), Debian 13's has none on a bare host (create): muster writes it on both
  { name: 'bare (Etc/UTC)', resource: berlin, facts: tzFacts('bare'), expect: /^\/etc\/localtime: target \/usr\/share\/zoneinfo\/Etc\/UTC -> \/usr\/share\/zoneinfo\/Europe\/Berlin, \/etc\/timezone: (content|create)$/, diff: /\+Europe\/Berlin\n/ },
  { name: 'converged', resource: berlin, facts: tzFacts('converged'), expect: 'ok' },
  { name: 'link moved by hand', resource: berlin, facts: tzFacts('drifted'), expect: '/etc/localtime: target /usr/share/zoneinfo/Etc/UTC -> /usr/share/zoneinfo/Europe/Berlin', commands: /ln -s -- \/usr\/share\/zoneinfo\/Europe\/Berlin "\$tmp"[\s\S]*mv -fT/ },
  { name: 'a zone tzdata lacks', resource: () => timezone('Nowhere/Zone'), facts: { zone: path('bare'), link: path('bare'), file: path('bare') }, expect: { throws: /no such zone on this host/ } },
  { name: 'not a zone name', resource: () => timezone('../etc/passwd'), facts: {}, expect: { throws: /a zone name/ } },
])
