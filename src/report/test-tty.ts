import { Listr, type ListrTaskWrapper } from 'listr2'

/** One scenario run as the terminal shows it. */
export interface TtyJob {
  index: number
  label: string
}

/** What the live view is told: a job starts on a lab, a step ends, a job ends. */
export interface TtyTestProgress {
  start(index: number, labId: number): void
  step(index: number, step: { step: string; ok: boolean }): void
  done(index: number, ok: boolean, summary: string): void
  /** Waits for the list to settle (every job done). */
  close(): Promise<void>
}

interface Slot {
  task?: ListrTaskWrapper<unknown, any, any>
  title: string
  settled?: { ok: boolean; title: string }
  resolve?: () => void
  reject?: (e: Error) => void
}

/**
 * `muster test` on a terminal: one line per scenario (listr2, as runs show
 * their hosts), waiting, then on which lab and at which step, then held or
 * failed with its time. Plain lines say what failed once the list settles.
 */
export function ttyTestProgress(jobs: readonly TtyJob[], opts: { silent?: boolean } = {}): TtyTestProgress {
  const slots = new Map<number, Slot>(jobs.map((j) => [j.index, { title: `${j.label}: waiting` }]))
  const set = (index: number, title: string): void => {
    const s = slots.get(index)!
    s.title = title
    if (s.task) s.task.title = title
  }
  const list = new Listr(
    jobs.map((j) => ({
      title: slots.get(j.index)!.title,
      task: (_ctx: unknown, task: ListrTaskWrapper<unknown, any, any>) =>
        new Promise<void>((resolve, reject) => {
          const s = slots.get(j.index)!
          Object.assign(s, { task, resolve, reject })
          task.title = s.title
          if (s.settled) {
            task.title = s.settled.title
            if (s.settled.ok) resolve()
            else reject(new Error(s.settled.title))
          }
        }),
    })),
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- one options object for either renderer
    { concurrent: true, exitOnError: false, ...(opts.silent ? { renderer: 'silent' } : { rendererOptions: { collapseErrors: false, showErrorMessage: false } }) } as any,
  )
  const running = list.run().then(
    () => undefined,
    () => undefined,
  )
  const labOf = new Map<number, number>()
  const label = (index: number): string => jobs.find((j) => j.index === index)!.label
  return {
    start: (index, labId) => {
      labOf.set(index, labId)
      set(index, `${label(index)} (lab ${labId}): create`)
    },
    step: (index, st) => set(index, `${label(index)} (lab ${labOf.get(index)}): ${st.step} ${st.ok ? 'ok' : 'FAILED'}`),
    done: (index, ok, summary) => {
      const s = slots.get(index)!
      const title = `${label(index)}: ${summary}`
      s.settled = { ok, title }
      if (s.task) s.task.title = title
      if (ok) s.resolve?.()
      else s.reject?.(new Error(title))
    },
    close: () => running,
  }
}
