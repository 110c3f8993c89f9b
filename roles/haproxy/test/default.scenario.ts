// `muster test roles/haproxy`: HAProxy alone on one lab host. Its one backend
// is the host itself on a port nothing serves (health checks fail, which is no
// drift): what is tested is the balancer's own config, service and runtime state.
import { defineScenario, sideEffects } from 'muster/testing'
import { haproxy } from '../index.ts'

const host = 'lb-01'

export default defineScenario({
  name: 'haproxy default',
  hosts: { lab: [host], groups: { web: [host] }, hostVars: { [host]: { httpPort: 8081 } } },
  roles: [haproxy],
  sideEffects: [
    sideEffects.stopService(host, 'haproxy'),
    // a server put in maintenance through the runtime API is drift (haproxyServers)
    sideEffects.shell(host, `put web/${host} in maintenance`, `echo 'set server web/${host} state maint' | socat stdio /run/haproxy/admin.sock`),
    sideEffects.editFile(host, '/etc/haproxy/haproxy.cfg', '# a hand edit'),
  ],
  verify: (h) => [
    h(host).package('haproxy').installed,
    h(host).service('haproxy').running,
    h(host).service('haproxy').enabled,
    h(host).port(80).listening,
    h(host).file('/etc/haproxy/haproxy.cfg').contains(`server ${host}`),
    h(host).command('haproxy -c -f /etc/haproxy/haproxy.cfg').exitCode(0),
  ],
})
