// Nginx in front of the app: /static/ from the live release's public/ on
// disk, everything else proxied to the app on 127.0.0.1.
import { role, roleVar, varKinds, apt, template, symlink, absent, service, reload } from 'muster'
import { appVars } from '../app/index.ts'

const AVAILABLE = '/etc/nginx/sites-available/app.conf'
const ENABLED = '/etc/nginx/sites-enabled/app.conf'

/** Header names nginx accepts; values end up in double quotes. */
function checkHeaders(h: Record<string, string>): Record<string, string> {
  for (const [name, value] of Object.entries(h)) {
    if (!/^[A-Za-z0-9-]+$/.test(name)) throw new Error(`nginxHeaders: ${JSON.stringify(name)} is not a header name`)
    if (/["\\\n\r]/.test(String(value))) throw new Error(`nginxHeaders.${name}: the value cannot hold quotes, backslashes or newlines`)
  }
  return h
}

export const nginxVars = {
  // declared once, by the app: Nginx serves <appRoot>/current/public/ as /static/ and proxies to appPort
  appRoot: appVars.appRoot,
  appPort: appVars.appPort,
  nginxHeaders: roleVar.of(varKinds.record(varKinds.string), { default: {}, description: 'extra response headers: { name: value }' }),
  nginxExtraConfig: roleVar.string({ default: '', description: 'raw directives for the server block (`nginx -t` judges them)' }),
}

export const nginx = role('nginx', { vars: nginxVars, description: 'Nginx: /static/ from disk, the rest proxied to the app' }, (ctx) => {
  const reloadNginx = reload('nginx')
  return [
    apt('nginx'),
    // the default site also claims default_server on :80
    absent('/etc/nginx/sites-enabled/default', { notify: reloadNginx }),
    // link first, then the file: `nginx -t` below then checks the vhost as nginx
    // will load it, through the link, within the whole configuration
    symlink(ENABLED, AVAILABLE, { notify: reloadNginx }),
    template(AVAILABLE, {
      source: new URL('./templates/site.conf.ejs', import.meta.url),
      vars: {
        host: ctx.name,
        root: ctx.vars.appRoot,
        appPort: ctx.vars.appPort,
        headers: checkHeaders(ctx.vars.nginxHeaders),
        // raw directives for the server block (yours to get right: `nginx -t` judges them)
        extra: ctx.vars.nginxExtraConfig,
      },
      mode: '0644',
      validate: { command: 'nginx -t', inPlace: true },
      notify: reloadNginx,
    }),
    service('nginx', { running: true, enabled: true }),
  ]
})
