// The local lab (`npx muster lab up`): four Debian 12 hosts on 10.77.0.0/24.
// Passwords come from the environment (MUSTER_DB_APP_PASSWORD,
// MUSTER_DB_REPL_PASSWORD), else from random ones generated once and kept,
// mode 0600, in the lab's own directory: never in this repository. HTTPS on
// lb-01 uses a certificate from the lab's own CA (made once, kept in the lab
// directory): clients trust <lab dir>/tls/ca.pem.
import { defineInventory, labHostSpecs, labSecret, labCertificate } from 'muster'

const lab = labHostSpecs()
const host = (name: string, vars: Record<string, unknown>) => {
  const spec = lab[name]
  if (!spec) throw new Error(`the lab has no host ${name}: run \`npx muster lab up\` (the reference fleet)`)
  return { ...spec, vars }
}
const lbAddress = lab['lb-01']?.address
const tls = lbAddress ? labCertificate('lb-01', ['lb-01', lbAddress]) : undefined

export default defineInventory({
  vars: {
    mysqlPrimary: 'web-01',
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
    lb: { hosts: ['lb-01'] },
    db: { children: ['db_primary', 'db_replicas'] },
    db_primary: { hosts: ['web-01'] },
    db_replicas: { hosts: ['web-02', 'db-03'] },
    monitoring: { hosts: ['db-03'] },
  },
  hosts: {
    'web-01': host('web-01', { mysqlServerId: 1 }),
    'web-02': host('web-02', { mysqlServerId: 2 }),
    'lb-01': host('lb-01', tls ? { tlsCertificate: tls.certificate, tlsKey: tls.key } : {}),
    'db-03': host('db-03', { mysqlServerId: 3 }),
  },
})
