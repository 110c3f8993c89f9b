import { predict } from '../contract/fact.ts'
import { change, resource, type Plan, type Resource, type ResourceMeta } from '../contract/resource.ts'
import { systemdUnit, unitExists, unitName, type UnitState } from '../facts/systemd-unit.ts'
import type { PathState } from '../facts/path.ts'
import { contentBytes, managedFile, sha256 } from './file.ts'
import { renderTemplate } from './template.ts'
import type { Ownership } from './file-mode.ts'
import type { Validate } from './write-file.ts'

/** The unit file's text: given as it is, or rendered from an EJS template (as template() does). */
export type SystemdUnitFileSource = { content: string | Buffer } | { source: string | URL; vars: Record<string, unknown> }

/** Options of `systemdUnitFile()`: the unit's content or template, and what to notify. */
export type SystemdUnitFileOptions = SystemdUnitFileSource &
  Ownership &
  ResourceMeta & {
    /** Where the file goes (default `/etc/systemd/system/<unit>`). */
    path?: string
    /** Check the new content before it goes live, as for file(); e.g. `'systemd-analyze verify %s'`. */
    validate?: Validate
  }

/**
 * A systemd unit file, written as file()/template() write it (mode 0644 unless
 * asked otherwise), then `systemctl daemon-reload` so systemd acts on the new
 * text at once. It also says what systemd will make of it, so check mode on a
 * host that does not know the unit yet plans the service() after it as
 * "would enable and start" instead of failing on a missing unit: a new unit
 * file is a loaded, stopped unit, disabled (static when it has no [Install]
 * section). Restarting a running service on a change is yours to ask for
 * (`notify: restart('app')`).
 */
export function systemdUnitFile(name: string, opts: SystemdUnitFileOptions): Resource {
  const unit = unitName(name)
  const path = opts.path ?? `/etc/systemd/system/${unit}`
  const bytes = 'content' in opts ? contentBytes(opts.content) : Buffer.from(renderTemplate(opts.source, opts.vars), 'utf8')
  const file = managedFile('systemd-unit-file', path, bytes, {
    mode: opts.mode ?? '0644',
    ...(opts.owner !== undefined ? { owner: opts.owner } : {}),
    ...(opts.group !== undefined ? { group: opts.group } : {}),
    ...(opts.validate !== undefined ? { validate: opts.validate } : {}),
  })
  const q = systemdUnit(unit)
  return resource({
    id: file.id,
    type: file.type,
    // the service() after it reads the same unit: one `systemctl show` for both
    probe: { state: file.probe.state, unit: q },
    plan: ({ state, unit: u }) => planUnitFile(unit, bytes, file.plan({ state }), state, u),
    meta: opts,
  })
}

/** Pure: the file's own plan, plus a daemon-reload after new text and the unit systemd will see. */
export function planUnitFile(unit: string, bytes: Buffer, plan: Plan, have: PathState, u: UnitState): Plan {
  if (plan.kind !== 'change') return plan
  const newText = have.type !== 'file' || have.sha256 !== sha256(bytes)
  const after: UnitState = unitExists(u)
    ? u
    : {
        id: unit,
        loadState: 'loaded',
        activeState: 'inactive',
        subState: 'dead',
        unitFileState: /^\s*\[Install\]\s*$/m.test(bytes.toString('utf8')) ? 'disabled' : 'static',
        activeEnterMonotonic: 0,
        mainPid: 0,
      }
  return change(
    plan.summary,
    async (ctx) => {
      await plan.apply(ctx)
      if (newText) await ctx.run('systemctl daemon-reload')
    },
    {
      ...(plan.diff !== undefined ? { diff: plan.diff } : {}),
      predicts: [...(plan.predicts ?? []), predict(systemdUnit(unit), after)],
    },
  )
}
