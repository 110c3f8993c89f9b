import type { Resource, ResourceMeta } from '../../contract/resource.ts'
import { managedFile, type FileProbe } from '../file.ts'

/** Options of `sudoers()`: the drop-in's rules, validated by `visudo -cf` before they go live. */
export interface SudoersOptions extends ResourceMeta {
  /** The rules, one sudoers line each (`'%admin ALL=(ALL:ALL) NOPASSWD: ALL'`). */
  rules: readonly string[]
}

/**
 * A drop-in under /etc/sudoers.d, root:root 0440. `visudo -cf` judges the new
 * text before it replaces the live file, so a rule sudo would refuse never goes
 * live (a broken sudoers file locks every sudo user out). sudo skips names with
 * a dot or ending in `~` in an includedir, so such a name is refused here rather
 * than written and silently ignored.
 */
export function sudoers(name: string, opts: SudoersOptions): Resource<FileProbe> {
  if (!/^[A-Za-z0-9_-]+$/.test(name)) {
    throw new Error(`sudoers ${JSON.stringify(name)}: a drop-in name is letters, digits, _ and - only (sudo ignores names with a dot or a trailing ~)`)
  }
  if (!Array.isArray(opts.rules) || opts.rules.length === 0) throw new Error(`sudoers ${name}: give at least one rule`)
  for (const r of opts.rules) {
    if (typeof r !== 'string' || r.includes('\n')) throw new Error(`sudoers ${name}: each rule is one line, got ${JSON.stringify(r)}`)
  }
  const text = `# managed by muster\n${opts.rules.join('\n')}\n`
  const { rules: _rules, ...meta } = opts
  return managedFile('sudoers', `/etc/sudoers.d/${name}`, Buffer.from(text, 'utf8'), {
    ...meta,
    mode: '0440',
    owner: 'root',
    group: 'root',
    validate: 'visudo -cf %s',
  })
}
