// The reference stack, from bare Debian 13 or 12 to a working site:
//   npx muster apply playbooks/site.ts -i inventory/lab.ts
// Plays run in dependency order, each finishing on all its hosts first.
import { playbook, role, aptUpdate, hostsFrom } from 'muster'
import { mysqlServer, mysqlPrimary, mysqlReplication, mysqlRetirePasswords } from '../roles/mysql/index.ts'
import { app } from '../roles/app/index.ts'
import { nginx } from '../roles/nginx/index.ts'
import { haproxy } from '../roles/haproxy/index.ts'
import { failover } from '../roles/haproxy/failover.ts'
import { firewall, stackGroupVars } from '../roles/firewall/index.ts'

// The plays' hosts are the inventory's own groups: webGroup, lbGroup, mysqlPrimaryGroup and
// mysqlReplicaGroup (defaults web, lb, db_primary, db_replicas), set in the inventory's all
// vars ([all:vars] webGroup=webservers) or with -e webGroup=webservers.
const groups = (pattern: (g: { webGroup: string; lbGroup: string; mysqlPrimaryGroup: string; mysqlReplicaGroup: string }) => string) => hostsFrom(stackGroupVars, pattern)

/** Fresh package lists before anything is installed (refreshed when a day old). */
const packages = role('packages', () => [aptUpdate({ maxAgeSeconds: 86400 })])

export default playbook(
  // first, on every host: closed to all but SSH and what its roles serve, before anything listens
  { name: 'firewall', hosts: 'all', roles: [packages, firewall] },
  // every database server installs at once; only accounts and replication wait for the primary
  { name: 'database servers', hosts: groups((g) => `${g.mysqlPrimaryGroup}:${g.mysqlReplicaGroup}`), roles: [packages, mysqlServer] },
  { name: 'database primary', hosts: groups((g) => g.mysqlPrimaryGroup), roles: [mysqlPrimary] },
  // replicas are seeded from the primary's accounts and data
  { name: 'database replicas', hosts: groups((g) => g.mysqlReplicaGroup), roles: [mysqlReplication] },
  { name: 'app and web', hosts: groups((g) => g.webGroup), roles: [packages, app, nginx] },
  // last: the balancer's health checks find the web hosts already serving; with two
  // balancers and an lbVip, keepalived moves the site's address to one that is alive
  { name: 'load balancer', hosts: groups((g) => g.lbGroup), roles: [packages, haproxy, failover] },
  // a rotated database password: the primary accepted the old and the new one while the
  // replicas and the app switched above; now every copy has the new one, the old one goes.
  // Not when a host failed on the way: it may still hold the old one
  { name: 'retire old database passwords', hosts: groups((g) => g.mysqlPrimaryGroup), roles: [mysqlRetirePasswords], onlyIfNoFailures: true },
)
