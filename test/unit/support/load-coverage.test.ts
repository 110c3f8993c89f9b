import { expect } from 'chai'
import { longestIdleMs } from '../../support/load.ts'

// the coverage criterion of the lab's "0 failed requests during the change" tests
describe('load generator: longest time with no request in flight', () => {
  const rows: { what: string; spans: [number, number][]; end: number; idle: number }[] = [
    { what: 'no requests at all', spans: [], end: 5000, idle: 5000 },
    { what: 'back to back', spans: [[0, 400], [400, 900], [900, 1500]], end: 1500, idle: 0 },
    { what: 'a slow answer covers the ticks that were skipped', spans: [[0, 17_600], [10, 20], [17_000, 17_700]], end: 17_700, idle: 0 },
    { what: 'a gap in the middle', spans: [[0, 100], [1300, 1400]], end: 1400, idle: 1200 },
    { what: 'nothing in flight before the stop', spans: [[0, 100]], end: 2100, idle: 2000 },
    { what: 'a late first request', spans: [[700, 800]], end: 800, idle: 700 },
    { what: 'overlapping spans, the gap after the longest', spans: [[0, 3000], [100, 200], [3500, 3600]], end: 3600, idle: 500 },
  ]
  for (const r of rows) it(r.what, () => expect(longestIdleMs(r.spans, r.end)).to.equal(r.idle))
})
