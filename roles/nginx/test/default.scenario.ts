// `muster test roles/nginx`: nginx alone on one lab host (no app behind it:
// /static/ and the proxy answer 404 / 502, which is what a bare nginx should).
import { defineScenario, sideEffects } from 'muster/testing'
import { nginx } from '../index.ts'

const host = 'web-01'
const site = '/etc/nginx/sites-available/app.conf'

export default defineScenario({
  name: 'nginx default',
  hosts: { lab: [host] },
  roles: [nginx],
  sideEffects: [sideEffects.stopService(host, 'nginx'), sideEffects.editFile(host, site, '# a hand edit'), sideEffects.deleteFile(host, '/etc/nginx/sites-enabled/app.conf')],
  verify: (h) => [
    h(host).package('nginx').installed,
    h(host).service('nginx').running,
    h(host).service('nginx').enabled,
    h(host).port(80).listening,
    h(host).file(site).mode('0644'),
    h(host).file(site).owner('root'),
    h(host).file('/etc/nginx/sites-enabled/default').absent,
    h(host).command('nginx -t').exitCode(0),
  ],
})
