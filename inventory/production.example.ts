// An inventory for the reference stack on real servers. Copy it to
// inventory/production.ts, put in your addresses, store the secrets once:
//
//   npx muster vault set inventory/secrets.vault db-app-password
//   npx muster vault set inventory/secrets.vault db-repl-password
//   npx muster vault set inventory/secrets.vault tls-key < site.key
//
// and run (the vault's password in a file, never in an argument):
//
//   MUSTER_VAULT_PASSWORD_FILE=~/.muster-vault-password \
//     npx muster apply playbooks/site.ts -i inventory/production.ts
//
// Inventories are code: nothing here is special syntax, and secrets come from
// wherever your code gets them (a vault file here; the environment, a secrets
// manager). A Secret prints as *** everywhere and only ever reaches a host on
// stdin or in a 0600 file.
import { readFileSync } from 'node:fs'
import { defineInventory, vault } from 'muster'

const secrets = vault(new URL('./secrets.vault', import.meta.url))

export default defineInventory({
  // how muster logs in: a user with passwordless sudo (commands run through `sudo -n`).
  // Servers that take SSH only from a bastion: add `jump: 'deploy@bastion.example.org'`.
  ssh: { user: 'deploy', identityFile: '~/.ssh/id_ed25519' },

  vars: {
    appDbName: 'app',
    appDbUser: 'app',
    dbAppPassword: secrets.get('db-app-password'),
    dbReplPassword: secrets.get('db-repl-password'),
    // which clients may log in to MariaDB: narrow it to your private network
    mysqlClientHost: '10.0.0.%',
    appPort: 3000,
    // extra response headers from Nginx (HAProxy already sends HSTS over HTTPS)
    nginxHeaders: {},
    // the firewall (roles/firewall) keeps SSH open; narrow it to where you administer from
    firewallSshFrom: ['198.51.100.0/24'],
  },

  groups: {
    web: { hosts: ['web-01', 'web-02'] }, // Nginx + the app
    // HAProxy, the public entry point. With a second balancer, set lbVip (a free address both
    // can hold; publish it in DNS) and keepalived moves it to a live one: lb: { hosts: ['lb-01',
    // 'lb-02'], vars: { lbVip: '203.0.113.100/24', lbInterface: 'ens3' } }
    lb: { hosts: ['lb-01'] },
    db: { children: ['db_primary', 'db_replicas'] },
    db_primary: { hosts: ['web-01'] },
    db_replicas: { hosts: ['web-02', 'db-03'] },
    // playbooks/backups.ts: a daily dump of each database on a replica, 7 kept (mysqlBackupKeep)
    db_backup: { hosts: ['db-03'] },
    // playbooks/monitoring.ts: Prometheus
    monitoring: { hosts: ['db-03'] },
  },

  hosts: {
    // address: how muster reaches the host over SSH (public IP or DNS name);
    // privateAddress: how the hosts reach each other (MariaDB binds to it, and
    // HAProxy and the replicas connect to it). Keep MariaDB off the internet.
    // mysqlServerId: unique per database server, never reused.
    'web-01': { address: '203.0.113.11', vars: { privateAddress: '10.0.0.11', mysqlServerId: 1 } },
    'web-02': { address: '203.0.113.12', vars: { privateAddress: '10.0.0.12', mysqlServerId: 2 } },
    // HTTPS: the certificate chain (public) and its key (a Secret: never printed, 0600 on the host)
    'lb-01': {
      address: '203.0.113.13',
      vars: {
        privateAddress: '10.0.0.13',
        tlsCertificate: readFileSync(process.env.MUSTER_TLS_CERT ?? '/etc/muster/site.crt', 'utf8'),
        tlsKey: secrets.get('tls-key'),
      },
    },
    'db-03': { address: '203.0.113.14', vars: { privateAddress: '10.0.0.14', mysqlServerId: 3 } },
  },
})
