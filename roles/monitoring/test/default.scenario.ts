// `muster test roles/monitoring`: node-exporter on one lab host, with the
// textfile directory the replication metrics are written to, and the host
// killed and cut off the network. Prometheus
// itself (a 19 MB package and a dozen more) is the lab suite
// test/lab/monitoring.test.ts's, beside the whole stack it scrapes.
import { defineScenario, sideEffects } from 'muster/testing'
import { nodeExporter, NODE_EXPORTER_PORT, TEXTFILE_DIR } from '../index.ts'

const host = 'web-02'

export default defineScenario({
  name: 'monitoring node-exporter',
  hosts: { lab: [host] },
  roles: [nodeExporter],
  sideEffects: [
    sideEffects.stopService(host, 'prometheus-node-exporter'),
    sideEffects.shell(host, `delete ${TEXTFILE_DIR}`, `rm -rf ${TEXTFILE_DIR}`),
    // a monitored host that goes away: check must call it unreachable (exit 3), and once it is
    // back (booted from its disk, or plugged in again) apply must find it converged or converge it
    sideEffects.killHost(host),
    sideEffects.cutNetwork(host),
  ],
  verify: (h) => [
    h(host).package('prometheus-node-exporter').installed,
    h(host).service('prometheus-node-exporter').running,
    h(host).service('prometheus-node-exporter').enabled,
    h(host).port(NODE_EXPORTER_PORT).listening,
    h(host).file(TEXTFILE_DIR).mode('0755'),
    h(host).http(`http://127.0.0.1:${NODE_EXPORTER_PORT}/metrics`).status(200, 'node_textfile_scrape_error'),
  ],
})
