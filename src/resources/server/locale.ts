import { predict } from '../../contract/fact.ts'
import { change, ok, resource, unknownPlan, type Plan, type Resource, type ResourceMeta } from '../../contract/resource.ts'
import { aptPackage, type AptPackageState } from '../../facts/apt-package.ts'
import { fileContent } from '../../facts/file-content.ts'
import { assertLocaleName, localeGenerated } from '../../facts/locale.ts'
import { contentDiff } from '../diff.ts'
import { writeFileAtomic } from '../write-file.ts'

/** Options of `locale()`: the locales to generate and the system default. */
export interface LocaleOptions extends ResourceMeta {
  /** Also make it the system default (LANG in /etc/default/locale). */
  default?: boolean
}

const GEN = '/etc/locale.gen'
const DEFAULT = '/etc/default/locale'
/** Run on the managed host (from the locales package), never on the controller. */
const LOCALE_GEN = 'locale-gen'

/**
 * A locale compiled on the host (Debian's way: its line uncommented in
 * /etc/locale.gen, then `locale-gen`), and optionally the system's default.
 * Needs the `locales` package (put `apt('locales')` before it): in check mode
 * on a host where that install is still to come, the plan is "unknown until
 * applied", never a guess. A locale the host does not offer (no line for it
 * in /etc/locale.gen, commented or not) is an error before anything changes.
 */
export function locale(name: string, opts: LocaleOptions = {}): Resource {
  assertLocaleName(name)
  const { default: makeDefault, ...meta } = opts
  return resource({
    id: `locale:${name}`,
    type: 'locale',
    probe: { gen: fileContent(GEN), generated: localeGenerated(name), current: fileContent(DEFAULT), pkg: aptPackage('locales') },
    plan: ({ gen, generated, current, pkg }) => planLocale(name, makeDefault ?? false, gen, generated, current, pkg),
    meta,
  })
}

export function planLocale(name: string, makeDefault: boolean, gen: string | null, generated: boolean, current: string | null, pkg: AptPackageState): Plan {
  if (gen === null) {
    if (pkg.state === 'installed') return unknownPlan(`${GEN} comes with the locales package, installed earlier in this run`)
    throw new Error(`locale ${name}: ${GEN} is missing: install the locales package first (apt('locales'))`)
  }
  const charset = name.includes('.') ? name.split('.')[1]!.split('@')[0]! : 'ISO-8859-1'
  const line = `${name} ${charset}`
  const lines = gen.split('\n')
  const at = lines.findIndex((l) => l.replace(/^#\s*/, '').trim() === line)
  if (at < 0) throw new Error(`locale ${name}: this host does not offer it (no "${line}" line in ${GEN}, commented or not)`)
  const enabled = lines[at]!.trim() === line
  const newGen = enabled ? gen : lines.map((l, i) => (i === at ? line : l)).join('\n')
  const wantDefault = `LANG=${name}\n`
  const steps: string[] = []
  if (!enabled) steps.push(`enable in ${GEN}`)
  if (!enabled || !generated) steps.push('locale-gen')
  const setDefault = makeDefault && current !== wantDefault
  if (setDefault) steps.push(`default ${/^LANG=(.*)$/m.exec(current ?? '')?.[1] ?? '(none)'} -> ${name}`)
  if (steps.length === 0) return ok(name)
  return change(
    steps.join(', '),
    async (ctx) => {
      if (!enabled) await writeFileAtomic(ctx, GEN, Buffer.from(newGen, 'utf8'))
      if (!enabled || !generated) await ctx.run(LOCALE_GEN, { timeoutMs: 120_000 })
      // the default is named only once the locale exists: LANG never points at nothing
      if (setDefault) await writeFileAtomic(ctx, DEFAULT, Buffer.from(wantDefault, 'utf8'), { mode: '0644' })
    },
    {
      ...(setDefault ? { diff: contentDiff(DEFAULT, current, wantDefault) } : !enabled ? { diff: contentDiff(GEN, gen, newGen) } : {}),
      predicts: [predict(localeGenerated(name), true), predict(fileContent(GEN), newGen), ...(makeDefault ? [predict(fileContent(DEFAULT), wantDefault)] : [])],
    },
  )
}
