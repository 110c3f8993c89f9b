import type { LabSuite } from '../lab/suite.ts'

/**
 * How `muster test` spreads scenarios over labs: each scenario once per Debian
 * release it runs on (a job), jobs handed to N workers (one lab id each) as
 * they come free, a worker preferring a job of the release its lab already
 * runs (a change of release boots every host of that lab afresh), and the
 * results given back in the order the jobs were listed, whatever order they
 * finished in.
 */

/** One scenario on one release: what a worker runs. */
export interface TestJob<T> {
  /** Its place in the listing: results are reported in this order. */
  index: number
  /** The release its lab hosts run, or undefined: whatever the worker's lab runs (and delegated scenarios). */
  suite: LabSuite | undefined
  item: T
}

/**
 * The jobs for `items` (scenarios in file order): each once per suite of
 * `suites` (`--suite`), else of its own `suites(item)`, else once on whatever
 * the lab runs. An item that is not a lab scenario (`lab(item)` false) runs
 * once, with no suite.
 */
export function expandJobs<T>(
  items: readonly T[],
  opts: { suites?: readonly LabSuite[]; suitesOf?: (item: T) => readonly LabSuite[] | undefined; lab?: (item: T) => boolean } = {},
): TestJob<T>[] {
  const jobs: TestJob<T>[] = []
  for (const item of items) {
    const own = opts.suitesOf?.(item)
    const suites: (LabSuite | undefined)[] =
      opts.lab && !opts.lab(item) ? [undefined] : opts.suites?.length ? [...opts.suites] : own?.length ? [...new Set(own)] : [undefined]
    for (const suite of suites) jobs.push({ index: jobs.length, suite, item })
  }
  return jobs
}

/**
 * The next job for a worker whose lab runs `workerSuite`: the first pending job
 * of that suite or of no suite, else the first pending job. Removed from `pending`.
 */
export function takeJob<T>(pending: TestJob<T>[], workerSuite: LabSuite | undefined): TestJob<T> | undefined {
  let i = workerSuite === undefined ? -1 : pending.findIndex((j) => j.suite === workerSuite || j.suite === undefined)
  if (i < 0) i = 0
  return pending.splice(i, 1)[0]
}

/** A worker: one lab, running one job at a time. */
export interface JobWorker<T, R, E = never> {
  /** The lab id it runs on. */
  readonly labId: number
  /** The release its lab runs now (undefined: not up, or not known yet). */
  suite: LabSuite | undefined
  /** Runs one job; `progress` passes on what it reports as it goes. */
  run(job: TestJob<T>, progress: (event: E) => void): Promise<R>
}

/** What `runJobs` tells as it goes (in the order things happen, not job order). */
export interface JobHooks<T, R, E> {
  onStart?: (job: TestJob<T>, labId: number) => void
  onProgress?: (job: TestJob<T>, event: E) => void
  onDone?: (job: TestJob<T>, result: R) => void
}

/**
 * Runs `jobs` on `workers`, each worker one job at a time, taking the next as
 * it comes free (`takeJob`). Returns the results in job order.
 */
export async function runJobs<T, R, E = never>(jobs: readonly TestJob<T>[], workers: readonly JobWorker<T, R, E>[], hooks: JobHooks<T, R, E> = {}): Promise<R[]> {
  const pending = [...jobs]
  const results = new Map<number, R>()
  await Promise.all(
    workers.map(async (w) => {
      for (let job = takeJob(pending, w.suite); job; job = takeJob(pending, w.suite)) {
        const j = job
        hooks.onStart?.(j, w.labId)
        const r = await w.run(j, (e) => hooks.onProgress?.(j, e))
        if (j.suite) w.suite = j.suite
        results.set(j.index, r)
        hooks.onDone?.(j, r)
      }
    }),
  )
  return jobs.map((j) => results.get(j.index)!)
}

/**
 * Hands things on in a fixed order of keys although they arrive in any:
 * `done(k, v)` passes v on at once when every key before k is through, else
 * keeps it until they are. `line(k, text)` does the same for a job's lines
 * while it runs: the first unfinished job's lines go out as they come, a later
 * job's are held until its turn.
 */
export class InOrder<R> {
  private next = 0
  private readonly finished = new Map<number, R>()
  private readonly held = new Map<number, string[]>()

  constructor(
    private readonly emit: (key: number, value: R) => void,
    private readonly keys: readonly number[],
    private readonly emitLine?: (key: number, text: string) => void,
  ) {}

  line(key: number, text: string): void {
    if (this.keys[this.next] === key) this.emitLine?.(key, text)
    else this.held.set(key, [...(this.held.get(key) ?? []), text])
  }

  done(key: number, value: R): void {
    this.finished.set(key, value)
    while (this.next < this.keys.length && this.finished.has(this.keys[this.next]!)) {
      const k = this.keys[this.next]!
      this.emit(k, this.finished.get(k)!)
      this.next++
      // the next job's lines so far, now that it is first
      const n = this.keys[this.next]
      if (n !== undefined) {
        for (const t of this.held.get(n) ?? []) this.emitLine?.(n, t)
        this.held.delete(n)
      }
    }
  }
}

/** The lab ids for `--parallel N`: `--lab-ids` as given, else this lab's id and the next N-1. */
export function labIdsFor(parallel: number, current: number, given?: readonly number[]): number[] {
  if (given?.length) {
    if (new Set(given).size !== given.length) throw new Error(`--lab-ids: each lab id once (${given.join(',')})`)
    for (const id of given) if (!Number.isInteger(id) || id < 0 || id > 9) throw new Error(`--lab-ids: a lab id is a whole number from 0 to 9, not ${id}`)
    return [...given].slice(0, Math.max(1, parallel))
  }
  if (!Number.isInteger(parallel) || parallel < 1) throw new Error(`--parallel must be a whole number of at least 1, not ${parallel}`)
  if (current + parallel - 1 > 9) throw new Error(`--parallel ${parallel} from lab id ${current} needs lab ids up to ${current + parallel - 1}; lab ids go to 9 (name them with --lab-ids)`)
  return Array.from({ length: parallel }, (_, i) => current + i)
}
