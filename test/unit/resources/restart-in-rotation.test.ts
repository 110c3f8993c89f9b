import { expect } from 'chai'
import { rotationFor } from '../../../src/resources/deploy/restart-in-rotation.ts'

// What a restart does with the balancers, from what they say of the server before it.
// CI's backup suite failed on the case in the third row: web hosts rebuilt behind a running
// HAProxy, the app restarted while nginx still served its default site (its reload is a
// later handler), and the restart waited 60 s for an UP it could not bring.
describe('restartInRotation: rotate or restart plainly', () => {
  const rows: [string, { lb: string; status: string }[] | undefined, 'rotate' | 'plain', RegExp?][] = [
    ['HAProxy not there yet (a first provision)', undefined, 'plain', /not behind HAProxy yet/],
    ['UP on the one balancer', [{ lb: 'lb-01', status: 'UP' }], 'rotate'],
    ['DOWN on every balancer: its health check already fails', [{ lb: 'lb-01', status: 'DOWN' }, { lb: 'lb-02', status: 'DOWN 1/2' }], 'plain', /already DOWN on lb-01, lb-02/],
    ['UP on one, DOWN on the other: one still sends it traffic', [{ lb: 'lb-01', status: 'UP' }, { lb: 'lb-02', status: 'DOWN' }], 'rotate'],
    ['going down (UP 1/2 fails counted): still serving', [{ lb: 'lb-01', status: 'UP 1/2' }], 'rotate'],
    ['left drained by an interrupted deploy: rotate, which brings it back', [{ lb: 'lb-01', status: 'DRAIN' }], 'rotate'],
    ['in maintenance by an admin: not put back', [{ lb: 'lb-01', status: 'UP' }, { lb: 'lb-02', status: 'MAINT' }], 'plain', /maintenance on lb-02/],
  ]
  for (const [what, stats, kind, why] of rows) {
    it(what, () => {
      const r = rotationFor(stats)
      expect(r.kind).to.equal(kind)
      if (why) expect(r.kind === 'plain' ? r.why : '').to.match(why)
    })
  }
})
