/**
 * Where a controller run's time goes: a V8 CPU profile (`--cpu-prof`)
 * summarised by self time, per function and per area (ssh2's transport,
 * its crypto, the socket layer, GC, muster's engine, ...).
 *
 *   node --import tsx bench/controller/profile-summary.ts FILE.cpuprofile [hosts]
 */
import { readFileSync } from 'node:fs'

interface CallFrame {
  functionName: string
  url: string
  lineNumber: number
}
interface ProfileNode {
  id: number
  callFrame: CallFrame
  children?: number[]
}
export interface CpuProfile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
  startTime: number
  endTime: number
}

export interface ProfileLine {
  name: string
  selfMs: number
  share: number
}

export interface ProfileSummary {
  totalMs: number
  /** Self time by area, largest first. */
  areas: ProfileLine[]
  /** Self time by function, largest first. */
  functions: ProfileLine[]
}

/** The area a frame's self time is counted in. */
export function areaOf(f: CallFrame): string {
  const { url, functionName: fn } = f
  if (fn === '(garbage collector)') return 'GC'
  if (fn === '(idle)') return 'idle'
  if (fn === '(program)') return 'V8/native (program)'
  if (fn === '(root)') return 'root'
  if (/node_modules\/ssh2\/lib\/protocol\/(crypto|keyParser|kex)/.test(url)) return 'ssh2 crypto, kex, keys'
  if (/node_modules\/ssh2\//.test(url)) return 'ssh2 protocol'
  if (/node:internal\/crypto|^node:crypto/.test(url)) return 'node crypto'
  if (/node:(net|internal\/stream_base_commons|internal\/streams|stream|internal\/net)/.test(url)) return 'sockets and streams'
  if (/node:internal\/(timers|process\/task_queues)|node:timers/.test(url)) return 'timers, microtasks'
  if (/\/src\/ssh\//.test(url)) return 'muster ssh'
  if (/\/src\/engine\//.test(url)) return 'muster engine'
  if (/\/src\/(resources|facts|contract)\//.test(url)) return 'muster resources and facts'
  if (/\/src\/(report|cli)\//.test(url)) return 'muster report and cli'
  if (/\/src\//.test(url)) return 'muster other'
  if (/node_modules\/p-limit|node_modules\/yocto-queue/.test(url)) return 'p-limit'
  if (/node_modules\//.test(url)) return `node_modules/${/node_modules\/((@[^/]+\/)?[^/]+)/.exec(url)![1]}`
  if (url.startsWith('node:')) return 'node other'
  if (url === '') return fn ? `native: ${fn}` : 'native'
  return 'other'
}

/** Self time by area and by function, over one profile or several (the threads of one run, added up). */
export function summarise(profiles: CpuProfile | readonly CpuProfile[], top = 25): ProfileSummary {
  const selfUs: { f: CallFrame; us: number }[] = []
  for (const profile of Array.isArray(profiles) ? profiles : [profiles as CpuProfile]) {
    const byId = new Map<number, ProfileNode>(profile.nodes.map((n: ProfileNode) => [n.id, n]))
    const own = new Map<number, number>()
    for (let i = 0; i < profile.samples.length; i++) {
      const id = profile.samples[i]!
      own.set(id, (own.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0))
    }
    for (const [id, us] of own) selfUs.push({ f: byId.get(id)!.callFrame, us })
  }
  const areas = new Map<string, number>()
  const fns = new Map<string, number>()
  let total = 0
  for (const { f, us } of selfUs) {
    const area = areaOf(f)
    if (area === 'idle') continue
    total += us
    areas.set(area, (areas.get(area) ?? 0) + us)
    const where = f.url ? `${f.url.replace(/^.*\/(node_modules|src)\//, '$1/').replace(/^file:\/\//, '')}:${f.lineNumber + 1}` : ''
    const key = `${f.functionName || '(anonymous)'} ${where}`.trim()
    fns.set(key, (fns.get(key) ?? 0) + us)
  }
  const lines = (m: Map<string, number>): ProfileLine[] =>
    [...m].sort((a, b) => b[1] - a[1]).map(([name, us]) => ({ name, selfMs: us / 1000, share: us / total }))
  return { totalMs: total / 1000, areas: lines(areas), functions: lines(fns).slice(0, top) }
}

export function formatSummary(s: ProfileSummary, hosts?: number): string {
  const per = (ms: number) => (hosts ? `  ${(ms / hosts).toFixed(3)} ms/host` : '')
  const row = (l: ProfileLine): string => `  ${(l.share * 100).toFixed(1).padStart(5)}%  ${l.selfMs.toFixed(0).padStart(7)} ms${per(l.selfMs)}  ${l.name}`
  return [`busy (not idle): ${s.totalMs.toFixed(0)} ms${per(s.totalMs)}`, 'by area:', ...s.areas.slice(0, 16).map(row), "by function (self):", ...s.functions.map(row)].join('\n')
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const file = process.argv[2]
  if (!file) throw new Error('usage: profile-summary.ts FILE.cpuprofile [hosts]')
  const hosts = process.argv[3] ? Number(process.argv[3]) : undefined
  process.stdout.write(formatSummary(summarise(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, 40), hosts) + '\n')
}
