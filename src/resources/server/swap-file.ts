import { predict, unknown } from '../../contract/fact.ts'
import { change, ok, resource, type Plan, type Resource, type ResourceMeta } from '../../contract/resource.ts'
import { sh } from '../../core/sh.ts'
import { fileContent } from '../../facts/file-content.ts'
import { pathStat, pathState, type PathStat, type PathState } from '../../facts/path.ts'
import { procTable, type ProcTable } from '../../facts/proc-table.ts'
import { swapSignature, type SwapSignature } from '../../facts/swap-signature.ts'
import { assertEditable, joinLines, planEdit, splitLines } from '../edit-file.ts'
import { planSteps } from './steps.ts'

/** A swap file's size: whole MiB (`'512M'`) or GiB (`'2G'`). */
export type SwapSize = `${number}M` | `${number}G`

/** Where swapFile() talks to the kernel: the real commands and table, or stand-ins a test points it at. */
export interface SwapFileVia {
  /** The command that switches a swap area on (`<swapon> -- path`; default `swapon`). */
  swapon?: string
  /** The command that switches it off (`<swapoff> -- path`; default `swapoff`). */
  swapoff?: string
  /** The table of active swap areas, a header line and then one per line, its path first (default `/proc/swaps`). */
  swaps?: string
}

/** Options of `swapFile()`: the file's size, or its absence. */
export type SwapFileOptions = ResourceMeta & {
  /**
   * Stand-ins for the kernel-facing commands and table, for a test on a host
   * that shares its kernel (a container, a lab host): a swap file switched on
   * there would be the machine's.
   */
  via?: SwapFileVia
} & ({ state?: 'present'; /** The size: `'512M'`, `'2G'` (at least 1M). */ size: SwapSize } | { state: 'absent' })

const FSTAB = '/etc/fstab'
const MIB = 1024 * 1024
const commandPath = /^\/?[A-Za-z0-9_.+/-]+$/

interface Want {
  path: string
  /** bytes, or null for absent */
  bytes: number | null
  swapon: string
  swapoff: string
  swaps: string
}

/**
 * A swap file: the file (root 0600, its size, mkswap'd), its line in
 * /etc/fstab (`PATH none swap sw 0 0`, other lines untouched) and the swap
 * area active (read from /proc/swaps: a swap file switched off by hand is
 * drift, as is a mode or size changed). A new file is written beside the
 * target (zeros by `dd`, never a sparse file, which swapon refuses), made
 * 0600 and mkswap'd there, renamed into place and switched on; if swapon
 * refuses it, a file this run made is removed again and fstab is not written.
 * A file of another size is switched off, remade and switched on again (the
 * old one back on when remaking fails). An existing file that is not a swap
 * area is never overwritten. `state: 'absent'` switches it off, removes the
 * fstab line and the file.
 */
export function swapFile(path: string, opts: SwapFileOptions): Resource {
  const id = `swap-file:${path}`
  if (typeof path !== 'string' || !/^\/[A-Za-z0-9_.+/-]+$/.test(path) || path.split('/').includes('..') || path.endsWith('/')) {
    throw new Error(`${id}: the path must be absolute, of letters, digits and _ . + - only, without '..'`)
  }
  const via = opts.via ?? {}
  const w: Want = { path, bytes: null, swapon: via.swapon ?? 'swapon', swapoff: via.swapoff ?? 'swapoff', swaps: via.swaps ?? '/proc/swaps' }
  for (const c of ['swapon', 'swapoff'] as const) if (!commandPath.test(w[c])) throw new Error(`${id}: via.${c} ${JSON.stringify(w[c])} must be a command name or path`)
  if (opts.state !== 'absent') {
    const m = /^([1-9][0-9]*)([MG])$/.exec(String(opts.size))
    if (!m) throw new Error(`${id}: size ${JSON.stringify(opts.size)} must be whole MiB or GiB, like '512M' or '2G'`)
    w.bytes = Number(m[1]) * (m[2] === 'G' ? 1024 : 1) * MIB
  }
  const { via: _v, ...rest } = opts
  const meta: ResourceMeta = { ...(rest.notify !== undefined ? { notify: rest.notify } : {}), ...(rest.tags !== undefined ? { tags: rest.tags } : {}) }
  return resource({
    id,
    type: 'swap-file',
    probe: { stat: pathStat(path), signature: swapSignature(path), active: procTable(w.swaps), fstab: fileContent(FSTAB), fstabFile: pathState(FSTAB) },
    plan: (o) => planSwapFile(w, o.stat, o.signature, o.active, o.fstab, o.fstabFile),
    meta,
  })
}

const fstabLine = (path: string): string => `${path} none swap sw 0 0`
const isSwapLineFor = (line: string, path: string): boolean => {
  if (/^\s*(#|$)/.test(line)) return false
  const f = line.trim().split(/\s+/)
  return f[0] === path && f[2] === 'swap'
}

/** Pure: the fstab text with exactly one swap line for `path` (or none when `line` is null), the rest untouched. */
export function editSwapFstab(text: string, path: string, line: string | null): { text: string; summary: string } {
  const lines = splitLines(text)
  const mine = lines.filter((l) => isSwapLineFor(l, path))
  if (line !== null ? mine.length === 1 && mine[0] === line : mine.length === 0) return { text, summary: '' }
  const out: string[] = []
  let placed = false
  for (const l of lines) {
    if (!isSwapLineFor(l, path)) out.push(l)
    else if (line !== null && !placed) {
      out.push(line)
      placed = true
    }
  }
  if (line !== null && !placed) out.push(line)
  const summary = line === null ? `remove ${mine.length} line${mine.length > 1 ? 's' : ''}` : mine.length === 0 ? 'add line' : `replace ${JSON.stringify(mine[0])}`
  return { text: joinLines(out), summary }
}

const human = (bytes: number): string => (bytes % (1024 * MIB) === 0 ? `${bytes / 1024 / MIB}G` : bytes % MIB === 0 ? `${bytes / MIB}M` : `${bytes} bytes`)

/** The shell that makes the file beside `path` and renames it into place, then switches it on; nothing half-made stays. */
export function makeSwapScript(w: Want & { bytes: number }, wasActive: boolean): string {
  const p = sh`${w.path}`
  const tmp = sh`${`${w.path}.muster-new`}`
  return [
    `made=; [ -e ${p} ] || made=1`,
    ...(wasActive ? [sh`${w.swapoff} -- ${w.path}`] : []),
    `rm -f -- ${tmp}`,
    `( umask 077 && dd if=/dev/zero of=${tmp} bs=1M count=${w.bytes / MIB} status=none && chown root:root ${tmp} && chmod 0600 ${tmp} && mkswap -- ${tmp} >/dev/null ) || { rc=$?; rm -f -- ${tmp};${wasActive ? sh` ${w.swapon} -- ${w.path};` : ''} exit $rc; }`,
    `mv -f -- ${tmp} ${p} || { rc=$?; rm -f -- ${tmp}; exit $rc; }`,
    `${sh`${w.swapon}`} -- ${p} || { rc=$?; if [ -n "$made" ]; then rm -f -- ${p}; fi; exit $rc; }`,
  ].join('\n')
}

export function planSwapFile(w: Want, stat: PathStat, signature: SwapSignature, active: ProcTable, fstab: string | null, fstabFile: PathState): Plan {
  const id = `swap-file:${w.path}`
  if (active === null) throw new Error(`${id}: cannot read ${w.swaps} on this host`)
  assertEditable(FSTAB, fstabFile, 'swapFile')
  if (stat.type !== 'absent' && stat.type !== 'file') throw new Error(`${id}: ${w.path} is a ${stat.type === 'other' ? 'special file' : stat.type}, not a swap file`)
  if (stat.type === 'file' && signature !== true) throw new Error(`${id}: ${w.path} exists and is not a swap area (no mkswap signature): muster will not overwrite it`)
  const isActive = active.includes(w.path)
  const nowActive = predict(procTable(w.swaps), [...active.filter((x) => x !== w.path), w.path])
  const kept = [predict(pathStat(w.path), stat), predict(swapSignature(w.path), signature), predict(procTable(w.swaps), active), predict(fileContent(FSTAB), fstab), predict(pathState(FSTAB), fstabFile)]
  const edited = editSwapFstab(fstab ?? '', w.path, w.bytes === null ? null : fstabLine(w.path))
  const fstabPlan = fstab === null && w.bytes === null ? ok() : planEdit(FSTAB, fstabFile, fstab, edited.text, edited.summary)

  if (w.bytes === null) {
    const off: Plan = isActive ? change('swapoff', (ctx) => ctx.run(sh`${w.swapoff} -- ${w.path}`).then(() => {}), { predicts: [predict(procTable(w.swaps), active.filter((x) => x !== w.path))] }) : ok()
    const rm: Plan = stat.type === 'absent' ? ok() : change('remove', (ctx) => ctx.run(sh`rm -f -- ${w.path}`).then(() => {}), { predicts: [predict(swapSignature(w.path), null), predict(pathStat(w.path), { type: 'absent' })] })
    return planSteps([{ plan: off }, { label: FSTAB, plan: fstabPlan }, { plan: rm }], 'absent', kept)
  }
  const want = { ...w, bytes: w.bytes }
  let file: Plan = ok()
  let live: Plan = ok()
  const made = [predict(swapSignature(w.path), true), nowActive, predict(pathStat(w.path), unknown(`${w.path} is made at apply`))]
  if (stat.type === 'absent') {
    file = change(`create ${human(want.bytes)}, swapon`, (ctx) => ctx.run(makeSwapScript(want, false)).then(() => {}), { predicts: made })
  } else if (stat.size !== want.bytes) {
    file = change(`resize ${human(stat.size)} -> ${human(want.bytes)}, swapon`, (ctx) => ctx.run(makeSwapScript(want, isActive)).then(() => {}), { predicts: made })
  } else {
    const fix: string[] = []
    const cmds: string[] = []
    if (stat.mode !== '0600') {
      fix.push(`mode ${stat.mode} -> 0600`)
      cmds.push(sh`chmod 0600 -- ${w.path}`)
    }
    if (stat.owner !== 'root' || stat.group !== 'root') {
      fix.push(`owner ${stat.owner}:${stat.group} -> root:root`)
      cmds.push(sh`chown root:root -- ${w.path}`)
    }
    // the mode first: a swap area readable by others leaks memory
    if (fix.length > 0) file = change(fix.join(', '), (ctx) => ctx.run(cmds.join(' && ')).then(() => {}), { predicts: [predict(pathStat(w.path), { ...stat, mode: '0600', owner: 'root', group: 'root' })] })
    if (!isActive) live = change('swapon', (ctx) => ctx.run(sh`${w.swapon} -- ${w.path}`).then(() => {}), { predicts: [nowActive] })
  }
  return planSteps([{ plan: file }, { plan: live }, { label: FSTAB, plan: fstabPlan }], `${human(want.bytes)}, active`, kept)
}
