// The reference stack, from bare Debian 13 or 12 to a working site:
//   npx muster apply playbooks/site.ts -i inventory/lab.ts
// Plays run in dependency order, each finishing on all its hosts first.
import { playbook, role, aptUpdate } from 'muster'
import { mysqlServer, mysqlPrimary, mysqlReplication, mysqlRetirePasswords } from '../roles/mysql/index.ts'
import { app } from '../roles/app/index.ts'
import { nginx } from '../roles/nginx/index.ts'
import { haproxy } from '../roles/haproxy/index.ts'
import { failover } from '../roles/haproxy/failover.ts'
import { firewall } from '../roles/firewall/index.ts'

/** Fresh package lists before anything is installed (refreshed when a day old). */
const packages = role('packages', () => [aptUpdate({ maxAgeSeconds: 86400 })])

export default playbook(
  // first, on every host: closed to all but SSH and what its roles serve, before anything listens
  { name: 'firewall', hosts: 'all', roles: [packages, firewall] },
  // every database server installs at once; only accounts and replication wait for the primary
  { name: 'database servers', hosts: 'db', roles: [packages, mysqlServer] },
  { name: 'database primary', hosts: 'db_primary', roles: [mysqlPrimary] },
  // replicas are seeded from the primary's accounts and data
  { name: 'database replicas', hosts: 'db_replicas', roles: [mysqlReplication] },
  { name: 'app and web', hosts: 'web', roles: [packages, app, nginx] },
  // last: the balancer's health checks find the web hosts already serving; with two
  // balancers and an lbVip, keepalived moves the site's address to one that is alive
  { name: 'load balancer', hosts: 'lb', roles: [packages, haproxy, failover] },
  // a rotated database password: the primary accepted the old and the new one while the
  // replicas and the app switched above; now every copy has the new one, the old one goes.
  // Not when a host failed on the way: it may still hold the old one
  { name: 'retire old database passwords', hosts: 'db_primary', roles: [mysqlRetirePasswords], onlyIfNoFailures: true },
)
