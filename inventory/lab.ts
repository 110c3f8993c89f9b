// The local lab (`npx muster lab up`): four Debian 13 (or 12) hosts on 10.77.0.0/24,
// and a second balancer lb-02 when the lab has one (then the site's address is
// the floating lbVip, .100, held by keepalived on whichever balancer is alive).
// Passwords come from the environment (MUSTER_DB_APP_PASSWORD,
// MUSTER_DB_REPL_PASSWORD), else from random ones generated once and kept,
// mode 0600, in the lab's own directory: never in this repository. HTTPS on
// the balancers uses a certificate from the lab's own CA (made once, kept in
// the lab directory): clients trust <lab dir>/tls/ca.pem.
import { defineInventory } from 'muster'
import { labHostSpecs, labSecret, labCertificate } from 'muster/lab'

const lab = labHostSpecs()
const host = (name: string, vars: Record<string, unknown>) => {
  const spec = lab[name]
  if (!spec) throw new Error(`the lab has no host ${name}: run \`npx muster lab up\` (the reference fleet)`)
  return { ...spec, vars }
}
const balancers = ['lb-01', 'lb-02'].filter((n) => lab[n])
const addressOf = (n: string): string => lab[n]?.address ?? n
// the floating address, on the lab's subnet: only with two balancers
const vip = balancers.length > 1 ? addressOf('lb-01').replace(/\.\d+$/, '.100') : undefined
const tls = balancers.length > 0 ? labCertificate('site', [...balancers, ...balancers.map(addressOf), ...(vip ? [vip] : [])]) : undefined

export default defineInventory({
  vars: {
    appDbName: 'app',
    appDbUser: 'app',
    dbAppPassword: labSecret('db-app-password', 'MUSTER_DB_APP_PASSWORD'),
    dbReplPassword: labSecret('db-repl-password', 'MUSTER_DB_REPL_PASSWORD'),
    appPort: 3000,
    // monitoring (playbooks/monitoring.ts): quick scrapes and alerts, so the lab shows them in seconds
    haproxyMetricsPort: 8405,
    scrapeInterval: '5s',
    alertFor: '0s',
    replicationMetricsEvery: '5s',
  },
  groups: {
    web: { hosts: ['web-01', 'web-02'] },
    lb: { hosts: balancers, vars: { ...(tls ? { tlsCertificate: tls.certificate, tlsKey: tls.key } : {}), ...(vip ? { lbVip: `${vip}/24` } : {}) } },
    db: { children: ['db_primary', 'db_replicas'] },
    db_primary: { hosts: ['web-01'] },
    db_replicas: { hosts: ['web-02', 'db-03'] },
    monitoring: { hosts: ['db-03'] },
    // playbooks/backups.ts: dumps on a replica
    db_backup: { hosts: ['db-03'] },
  },
  hosts: {
    'web-01': host('web-01', { mysqlServerId: 1 }),
    'web-02': host('web-02', { mysqlServerId: 2 }),
    'lb-01': host('lb-01', {}),
    ...(lab['lb-02'] ? { 'lb-02': host('lb-02', {}) } : {}),
    'db-03': host('db-03', { mysqlServerId: 3 }),
  },
})
