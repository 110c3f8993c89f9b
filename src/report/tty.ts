import { Listr, type ListrTaskWrapper } from 'listr2'
import type { MusterEvent } from '../engine/events.ts'
import { plainReporter, type ReporterOptions } from './plain.ts'
import { statusLabel } from './format.ts'

interface HostTask {
  resolve: () => void
  reject: (err: Error) => void
  task?: ListrTaskWrapper<unknown, any, any>
  done: number
  total: number
  changed: number
}

/**
 * Live progress per host on a terminal (listr2), one list per play; the
 * changes, diffs and recap are printed as plain lines once each play's list
 * has settled, so nothing scrolls away under the spinner.
 */
export function ttyReporter(opts: ReporterOptions): { on: (e: MusterEvent) => void; close: () => Promise<void> } {
  const plain = plainReporter(opts)
  let chain: Promise<void> = Promise.resolve()
  let tasks = new Map<string, HostTask>()
  let held: MusterEvent[] = []

  const on = (e: MusterEvent): void => {
    switch (e.type) {
      case 'play:start': {
        // everything printed goes through the chain, so a fast run's output keeps its order
        chain = chain.then(() => plain(e))
        tasks = new Map()
        held = []
        const current = tasks
        const list = new Listr(
          e.hosts.map((host) => ({
            title: host,
            task: (_ctx: unknown, task: ListrTaskWrapper<unknown, any, any>) =>
              new Promise<void>((resolve, reject) => {
                const t = current.get(host) ?? { resolve, reject, done: 0, total: 0, changed: 0 }
                Object.assign(t, { resolve, reject, task })
                current.set(host, t)
                const done = t as HostTask & { settled?: boolean; finalTitle?: string }
                if (done.settled) {
                  if (done.finalTitle) task.title = done.finalTitle
                  resolve()
                }
              }),
          })),
          { concurrent: true, exitOnError: false, rendererOptions: { collapseErrors: false } },
        )
        for (const host of e.hosts) current.set(host, { resolve: () => {}, reject: () => {}, done: 0, total: 0, changed: 0 })
        chain = chain.then(() => list.run().then(() => undefined, () => undefined))
        break
      }
      case 'host:start': {
        const t = tasks.get(e.host)
        if (t) t.total = e.resources
        break
      }
      case 'resource:result': {
        const t = tasks.get(e.host)
        if (t) {
          t.done++
          if (e.status === 'changed' || e.status === 'would-change') t.changed++
          if (t.task) t.task.title = `${e.host} [${t.done}/${t.total}] ${statusLabel[e.status]} ${e.resource}`
        }
        if (e.status !== 'ok' && e.status !== 'skipped') held.push(e)
        else if (opts.verbose) held.push(e)
        break
      }
      case 'host:done':
      case 'host:unreachable': {
        const t = tasks.get(e.host)
        if (e.type === 'host:unreachable') held.push(e)
        if (t) {
          const title = `${e.host}: ${e.type === 'host:unreachable' ? 'UNREACHABLE' : `${t.changed} ${t.changed === 1 ? 'change' : 'changes'}`}`
          if (t.task) t.task.title = title
          Object.assign(t, { settled: true, finalTitle: title })
          if (e.type === 'host:unreachable') t.reject(new Error(e.message))
          else t.resolve()
        }
        break
      }
      case 'play:end': {
        for (const t of tasks.values()) t.resolve()
        const toPrint = held
        chain = chain.then(() => toPrint.forEach(plain)).then(() => plain(e))
        break
      }
      case 'warning':
      case 'run:end':
        chain = chain.then(() => plain(e))
        break
      default:
        held.push(e)
        break
    }
  }
  return { on, close: () => chain }
}
