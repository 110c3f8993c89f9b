// The fleet bench's playbook: ~20 file, template, package and service
// resources on every host. Where it writes, which package and which unit come
// from inventory vars (benchRoot, benchPackage, benchUnit, benchAptUpdate) so
// the same playbook serves the lab fleet and the in-process controller bench.
import { playbook, role, aptUpdate, apt, directory, file, template, symlink, absent, service, restart, type HostContext } from 'muster'
import { CONF_FILES, TEMPLATES, fleetPaths, templateVars, type FleetOptions } from './spec.ts'

export function fleetOptions(ctx: HostContext): FleetOptions {
  return {
    root: (ctx.vars.benchRoot as string | undefined) ?? '',
    pkg: ctx.need<string>('benchPackage'),
    unit: ctx.need<string>('benchUnit'),
    aptUpdate: ctx.vars.benchAptUpdate === true,
  }
}

export const benchapp = role('benchapp', (ctx) => {
  const o = fleetOptions(ctx)
  const p = fleetPaths(o.root)
  const restartUnit = restart(o.unit)
  const vars = templateVars(o.root)
  return [
    o.aptUpdate && aptUpdate({ maxAgeSeconds: 86400 }),
    directory(p.etc, { mode: '0755' }),
    directory(p.confD, { mode: '0755' }),
    directory(p.data, { mode: '0750' }),
    CONF_FILES.map((f) => file(`${p.confD}/${f.name}`, { content: f.content, mode: '0644', notify: restartUnit })),
    TEMPLATES.map((t) =>
      template(`${p.etc}/${t}`, { source: new URL(`./templates/${t}.ejs`, import.meta.url), vars, mode: '0644', notify: restartUnit }),
    ),
    symlink(p.active, `${p.etc}/app.conf`),
    absent(p.legacy),
    apt(o.pkg),
    service(o.unit, { running: true, enabled: true }),
  ]
})

export default playbook({ name: 'fleet', hosts: 'all', roles: [benchapp] })
