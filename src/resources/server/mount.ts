import { predict } from '../../contract/fact.ts'
import { change, ok, resource, type Plan, type Resource, type ResourceMeta } from '../../contract/resource.ts'
import { sh } from '../../core/sh.ts'
import { fileContent } from '../../facts/file-content.ts'
import { pathState, type PathState } from '../../facts/path.ts'
import { assertMountPoint, mountState, type MountValue } from '../../facts/mount.ts'
import { assertEditable, joinLines, planEdit, splitLines } from '../edit-file.ts'
import { planSteps } from './steps.ts'

/** Options of `mount()`: what to mount there (the fstab entry and the live mount), or its absence. */
export type MountOptions = ResourceMeta &
  (
    | {
        state?: 'mounted'
        /** A device, `LABEL=`/`UUID=`, an image file (with option `loop`), a directory (with option `bind`) or a pseudo source (`tmpfs`). */
        source: string
        /** The file system type (`ext4`, `tmpfs`; `none` for a bind mount). */
        fstype: string
        /** Mount options (default `['defaults']`). */
        options?: readonly string[]
        /** fsck order, fstab's sixth field (default 0). */
        pass?: 0 | 1 | 2
      }
    | { state: 'absent' }
  )

const FSTAB = '/etc/fstab'
const word = /^[^\s#\\]+$/

/**
 * A mount point: its line in /etc/fstab and the live mount. The live mount is
 * made first (a missing device or a refused option fails the resource before
 * fstab would try it at every boot), into a directory created for it only if
 * it was missing (and removed again when the mount fails). Live drift is a
 * mount gone, or another source or file system type there; for a bind mount
 * or a loop image /proc shows the underlying device, so there only "mounted"
 * is compared. Options are applied when mounting, not compared live.
 * `state: 'absent'` unmounts and removes the fstab line(s) for that point.
 */
export function mount(target: string, opts: MountOptions): Resource {
  const id = `mount:${target}`
  try {
    assertMountPoint(target)
  } catch (e) {
    throw new Error(`${id}: ${(e as Error).message}`)
  }
  if (target === '/') throw new Error(`${id}: muster does not manage the root file system`)
  let want: Want | null = null
  if (opts.state !== 'absent') {
    const options = opts.options ?? ['defaults']
    if (typeof opts.source !== 'string' || !word.test(opts.source)) throw new Error(`${id}: source ${JSON.stringify(opts.source)} must be one word without spaces, '#' or '\\'`)
    if (typeof opts.fstype !== 'string' || !/^[a-z0-9._-]+$/.test(opts.fstype)) throw new Error(`${id}: fstype ${JSON.stringify(opts.fstype)} is not a file system type`)
    if (options.length === 0 || options.some((o) => typeof o !== 'string' || !/^[^\s,#\\]+$/.test(o))) throw new Error(`${id}: options must be non-empty words without spaces or commas`)
    want = { source: opts.source, fstype: opts.fstype, options: [...options], pass: opts.pass ?? 0 }
  }
  return resource({
    id,
    type: 'mount',
    probe: { live: mountState(target), fstab: fileContent(FSTAB), file: pathState(FSTAB) },
    plan: ({ live, fstab, file }) => planMount(target, want, live, fstab, file),
    meta: opts,
  })
}

interface Want {
  source: string
  fstype: string
  options: string[]
  pass: number
}

const fstabLine = (target: string, w: Want): string => `${w.source} ${target} ${w.fstype} ${w.options.join(',')} 0 ${w.pass}`
const unescape = (s: string): string => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)))
const pointOf = (line: string): string | null => {
  if (/^\s*(#|$)/.test(line)) return null
  const f = line.trim().split(/\s+/)
  return f.length >= 2 ? unescape(f[1]!) : null
}

/** Pure: the fstab text with exactly one line for `target` (or none when `line` is null), the rest untouched. */
export function editFstab(text: string, target: string, line: string | null): { text: string; summary: string } {
  const lines = splitLines(text)
  const mine = lines.filter((l) => pointOf(l) === target)
  if (line !== null && mine.length === 1 && mine[0] === line) return { text, summary: '' }
  if (line === null && mine.length === 0) return { text, summary: '' }
  const out: string[] = []
  let placed = false
  for (const l of lines) {
    if (pointOf(l) !== target) out.push(l)
    else if (line !== null && !placed) {
      out.push(line)
      placed = true
    }
  }
  if (line !== null && !placed) out.push(line)
  const summary = line === null ? `remove ${mine.length} line${mine.length > 1 ? 's' : ''}` : mine.length === 0 ? 'add line' : `replace ${JSON.stringify(mine[0])}`
  return { text: joinLines(out), summary }
}

const describe = (v: NonNullable<MountValue>): string => `${v.source} (${v.fstype})`

/** Does the live mount answer what is asked? For bind and loop mounts /proc shows the device underneath: only "mounted" counts. */
export function liveMatches(w: Want, live: MountValue): boolean {
  if (live === null) return false
  if (w.options.includes('bind') || w.options.includes('rbind')) return true
  if (w.options.includes('loop')) return live.fstype === w.fstype
  return live.fstype === w.fstype && live.source === w.source
}

function mountCommand(target: string, w: Want): string {
  const bind = w.options.includes('bind') || w.options.includes('rbind')
  return bind || w.fstype === 'none' ? sh`mount -o ${w.options.join(',')} -- ${w.source} ${target}` : sh`mount -t ${w.fstype} -o ${w.options.join(',')} -- ${w.source} ${target}`
}

export function planMount(target: string, want: Want | null, live: MountValue, fstab: string | null, file: PathState): Plan {
  assertEditable(FSTAB, file, 'mount')
  const edited = editFstab(fstab ?? '', target, want === null ? null : fstabLine(target, want))
  const fstabPlan = fstab === null && want === null ? ok() : planEdit(FSTAB, file, fstab, edited.text, edited.summary)
  let livePlan: Plan
  if (want === null) {
    livePlan = live === null ? ok() : change(`unmount ${describe(live)}`, (ctx) => ctx.run(sh`umount -- ${target}`).then(() => {}), { predicts: [predict(mountState(target), null)] })
  } else if (liveMatches(want, live)) {
    livePlan = ok()
  } else {
    const predicted = { source: want.source, fstype: want.fstype, options: want.options.join(',') }
    const mountNew = mountCommand(target, want)
    // the directory is made only when missing, and removed again if the mount is refused: nothing half-made stays
    const fresh = `made=; if [ ! -d ${sh`${target}`} ]; then mkdir -p -- ${sh`${target}`} && made=1 || exit 1; fi\n${mountNew} || { rc=$?; if [ -n "$made" ]; then rmdir -- ${sh`${target}`}; fi; exit $rc; }`
    if (live === null) {
      livePlan = change(`mount ${want.source}`, (ctx) => ctx.run(fresh).then(() => {}), { predicts: [predict(mountState(target), predicted)] })
    } else {
      // the old mount is put back (read-only if it was) when the new one is refused
      const old: Want = { source: live.source, fstype: live.fstype, options: [live.options.split(',').includes('ro') ? 'ro' : 'rw'], pass: 0 }
      const swap = `umount -- ${sh`${target}`}\n${mountNew} || { rc=$?; ${mountCommand(target, old)}; exit $rc; }`
      livePlan = change(`live ${describe(live)} -> ${want.source} (${want.fstype})`, (ctx) => ctx.run(swap).then(() => {}), { predicts: [predict(mountState(target), predicted)] })
    }
  }
  const okDetail = want === null ? 'absent' : `${want.source} (${want.fstype})`
  return planSteps([{ plan: livePlan }, { label: FSTAB, plan: fstabPlan }], okDetail, [predict(fileContent(FSTAB), fstab), predict(pathState(FSTAB), file)])
}
