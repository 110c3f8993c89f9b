import { expect } from 'chai'
import { expandJobs, InOrder, labIdsFor, runJobs, takeJob, type JobWorker, type TestJob } from '../../../src/testing/schedule.ts'
import type { LabSuite } from '../../../src/lab/suite.ts'

/**
 * `muster test --parallel N --suite ...`: which scenario runs where and when,
 * and that results come back in the listed order whatever order they end in.
 */
interface S {
  name: string
  suites?: LabSuite[]
  lab?: boolean
}
const jobsOf = (items: S[], suites?: LabSuite[]): TestJob<S>[] =>
  expandJobs(items, { suites, suitesOf: (s) => s.suites, lab: (s) => s.lab !== false })
const names = (jobs: readonly TestJob<S>[]): string[] => jobs.map((j) => `${j.item.name}${j.suite ? `@${j.suite}` : ''}`)

describe('muster test scheduling (src/testing/schedule.ts)', () => {
  it('expands each lab scenario once per release: --suite first, else its own suites, else once; delegated ones once', () => {
    const items: S[] = [{ name: 'a' }, { name: 'b', suites: ['bookworm'] }, { name: 'own', lab: false, suites: ['trixie'] }]
    expect(names(jobsOf(items))).to.deep.equal(['a', 'b@bookworm', 'own'])
    expect(names(jobsOf(items, ['trixie', 'bookworm']))).to.deep.equal(['a@trixie', 'a@bookworm', 'b@trixie', 'b@bookworm', 'own'])
    expect(jobsOf(items, ['trixie', 'bookworm']).map((j) => j.index)).to.deep.equal([0, 1, 2, 3, 4])
  })

  it('a worker takes a job of the release its lab runs first, else the first pending', () => {
    const pending = jobsOf([{ name: 'a' }, { name: 'b' }], ['trixie', 'bookworm'])
    expect(names([takeJob(pending, 'bookworm')!])).to.deep.equal(['a@bookworm'])
    expect(names([takeJob(pending, undefined)!])).to.deep.equal(['a@trixie'])
    expect(names([takeJob(pending, 'bookworm')!])).to.deep.equal(['b@bookworm'])
    expect(names([takeJob(pending, 'bookworm')!])).to.deep.equal(['b@trixie'])
    expect(takeJob(pending, 'trixie')).to.equal(undefined)
  })

  it('runs on N workers at once, never two jobs on one worker, and returns results in listed order', async () => {
    const jobs = jobsOf([{ name: 'slow' }, { name: 'quick' }, { name: 'c' }, { name: 'd' }])
    const ms: Record<string, number> = { slow: 60, quick: 5, c: 5, d: 5 }
    let running = 0
    let most = 0
    const busy = new Set<number>()
    const where: string[] = []
    const worker = (labId: number): JobWorker<S, string, string> => ({
      labId,
      suite: undefined,
      run: async (job, progress) => {
        expect(busy.has(labId), `lab ${labId} runs one job at a time`).to.equal(false)
        busy.add(labId)
        most = Math.max(most, ++running)
        progress(`${job.item.name} started`)
        await new Promise((r) => setTimeout(r, ms[job.item.name]))
        running--
        busy.delete(labId)
        where.push(`${job.item.name}:${labId}`)
        return `${job.item.name} done`
      },
    })
    const ended: string[] = []
    const progress: string[] = []
    const results = await runJobs(jobs, [worker(2), worker(4)], { onDone: (j) => ended.push(j.item.name), onProgress: (_j, e) => progress.push(e) })
    expect(most).to.equal(2)
    expect(results).to.deep.equal(['slow done', 'quick done', 'c done', 'd done'])
    // the slow one kept lab 2 busy: lab 4 ran the rest, and they ended first
    expect(where).to.deep.equal(['quick:4', 'c:4', 'd:4', 'slow:2'])
    expect(ended).to.deep.equal(['quick', 'c', 'd', 'slow'])
    expect(progress).to.have.length(4)
  })

  it('keeps each worker on its release while it has jobs of it: one change of release per lab at most', async () => {
    const jobs = jobsOf([{ name: 'a' }, { name: 'b' }, { name: 'c' }], ['trixie', 'bookworm'])
    const seen: Record<number, LabSuite[]> = { 0: [], 2: [] }
    const worker = (labId: number, suite: LabSuite | undefined): JobWorker<S, string> => ({
      labId,
      suite,
      run: async (job) => {
        seen[labId]!.push(job.suite!)
        await new Promise((r) => setTimeout(r, 1))
        return names([job])[0]!
      },
    })
    const results = await runJobs(jobs, [worker(0, 'bookworm'), worker(2, undefined)])
    expect(results).to.deep.equal(['a@trixie', 'a@bookworm', 'b@trixie', 'b@bookworm', 'c@trixie', 'c@bookworm'])
    expect(seen[0]).to.deep.equal(['bookworm', 'bookworm', 'bookworm'])
    expect(seen[2]).to.deep.equal(['trixie', 'trixie', 'trixie'])
  })

  it('passes lines and results on in listed order: a later job\'s lines wait for the earlier ones to end', () => {
    const out: string[] = []
    const order = new InOrder<string>((k, v) => out.push(`${k} ${v}`), [0, 1, 2], (k, t) => out.push(`${k}: ${t}`))
    order.line(1, 'one starts')
    order.line(0, 'zero starts')
    order.line(2, 'two starts')
    order.done(2, 'two ends')
    order.line(1, 'one goes on')
    expect(out).to.deep.equal(['0: zero starts'])
    order.done(0, 'zero ends')
    expect(out).to.deep.equal(['0: zero starts', '0 zero ends', '1: one starts', '1: one goes on'])
    order.line(1, 'one live')
    order.done(1, 'one ends')
    expect(out.slice(4)).to.deep.equal(['1: one live', '1 one ends', '2: two starts', '2 two ends'])
  })

  it('lab ids: this one and the next N-1, or --lab-ids as given', () => {
    expect(labIdsFor(1, 0)).to.deep.equal([0])
    expect(labIdsFor(3, 2)).to.deep.equal([2, 3, 4])
    expect(labIdsFor(2, 0, [2, 4])).to.deep.equal([2, 4])
    expect(() => labIdsFor(3, 8)).to.throw(/lab ids go to 9/)
    expect(() => labIdsFor(0, 0)).to.throw(/at least 1/)
    expect(() => labIdsFor(2, 0, [4, 4])).to.throw(/each lab id once/)
  })
})
