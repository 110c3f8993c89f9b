/**
 * The Ansible project equivalent to playbooks/site.ts, as an Ansible user
 * would write it: the same four plays in the same order, the same packages,
 * files and templates (their bytes, modes and owners taken from muster's own
 * roles, see muster-files.ts), users, services, handlers, the same release
 * unpacked under /srv/app/releases/<id>, and MariaDB replication seeded from
 * a consistent dump of the primary (community.mysql, from Debian's ansible
 * package, which needs PyMySQL on the hosts).
 *
 * Differences that favour Ansible, kept on purpose so its figures are not
 * understated: nginx's vhost is not validated with `nginx -t` before it goes
 * live (Ansible's template validate needs a file-only check), and replicas
 * are only seeded when not yet replicating (muster also re-points and
 * restarts broken replication).
 */
import { readFileSync } from 'node:fs'
import { basename } from 'node:path'
import type { Inventory } from '../../src/inventory/types.ts'
import type { Playbook } from '../../src/engine/playbook.ts'
import { buildRelease } from '../../src/resources/release.ts'
import { DUMP_COMMAND } from '../../src/resources/mysql-replica.ts'
import { SHARED_LINKS } from '../../roles/app/deploy.ts'
import { isSecret, type Secret } from '../../src/core/secret.ts'
import { NFT_CONF, NFT_STATE } from '../../src/resources/firewall.ts'
import { HAPROXY_PEM } from '../../roles/haproxy/index.ts'
import { expandPlaybook, musterFile, type ExpandedHost } from './muster-files.ts'
import { ansibleCfg, inventoryIni, verbatimTemplate, writeFile, yamlDoc, type AnsibleConnection, type AnsibleHost } from './project.ts'
import type { GeneratedProject } from './fleet-project.ts'

export interface StackProjectInput {
  playbook: Playbook
  inventory: Inventory
  connection: AnsibleConnection
  /** The app's source, as roles/app builds it (default examples/app). */
  appSource: string | URL
}

export const STACK_PATHS = {
  mysqlConf: '/etc/mysql/mariadb.conf.d/60-muster-replication.cnf',
  appRoot: '/srv/app',
  appEnv: '/srv/app/shared/app.env',
  appUnit: '/etc/systemd/system/app.service',
  nginxSite: '/etc/nginx/sites-available/app.conf',
  nginxEnabled: '/etc/nginx/sites-enabled/app.conf',
  haproxyCfg: '/etc/haproxy/haproxy.cfg',
  haproxyPem: HAPROXY_PEM,
  nftConf: NFT_CONF,
} as const

const SOCKET = { login_unix_socket: '/run/mysqld/mysqld.sock' }

function secretText(v: unknown, name: string): string {
  if (isSecret(v)) return (v as Secret).reveal()
  if (typeof v === 'string') return v
  throw new Error(`bench/ansible: inventory var ${name} is not set`)
}

/**
 * Files a role renders, per host that has them: role name -> [muster resource
 * id, file name in the Ansible role]. The first id decides whether a host has
 * the role; a later one the host lacks is left out (no TLS, no pem).
 */
const TEMPLATES: Record<string, [string, string][]> = {
  firewall: [[`file:${STACK_PATHS.nftConf}`, 'nftables.conf']],
  'mysql-server': [[`template:${STACK_PATHS.mysqlConf}`, 'replication.cnf']],
  app: [
    [`template:${STACK_PATHS.appEnv}`, 'app.env'],
    [`systemd-unit-file:${STACK_PATHS.appUnit}`, 'app.service'],
  ],
  nginx: [[`template:${STACK_PATHS.nginxSite}`, 'site.conf']],
  haproxy: [
    [`template:${STACK_PATHS.haproxyCfg}`, 'haproxy.cfg'],
    [`file:${STACK_PATHS.haproxyPem}`, 'site.pem'],
  ],
}

export async function writeStackProject(dir: string, input: StackProjectInput): Promise<GeneratedProject> {
  const inv = input.inventory
  const expanded = expandPlaybook(input.playbook, inv)
  const groupHosts = (g: string): string[] => [...(inv.groups.get(g)?.hosts ?? [])]
  // as roles/mysql has it: the primary is the one host of the db_primary group
  const primary = groupHosts('db_primary')[0] ?? ''
  const primaryHost = inv.hosts.get(primary)
  if (!primaryHost) throw new Error('bench/ansible: the group db_primary holds no host of the inventory')
  const anyVars = primaryHost.vars

  // the very release muster uploads: same source, same id, same tarball
  const release = buildRelease({ source: input.appSource })
  const tarball = await release.artifact()
  const releaseDir = `${STACK_PATHS.appRoot}/releases/${release.id}`
  for (const h of expanded.values()) {
    if (h.host.groups.includes('web') && !h.resources.some((r) => r.id === `release:${releaseDir}`)) {
      throw new Error(`bench/ansible: muster's app role on ${h.host.name} uploads another release than ${release.id}; update bench/ansible/stack-project.ts`)
    }
  }
  writeFile(dir, `roles/app/files/${basename(tarball)}`, readFileSync(tarball))

  for (const [role, list] of Object.entries(TEMPLATES)) {
    for (const h of expanded.values()) {
      if (!hasRole(h, list[0]![0])) continue
      for (const [id, name] of list) {
        if (!h.resources.some((r) => r.id === id)) continue
        const m = await musterFile(expanded, h.host.name, id)
        writeFile(dir, `roles/${role}/templates/${h.host.name}/${name}.j2`, verbatimTemplate(m.content), 0o600)
      }
    }
  }
  // mode and owner as muster sets them (the same on every host)
  const meta = async (path: string, host: string, type = 'template') => {
    const m = await musterFile(expanded, host, `${type}:${path}`)
    return { mode: m.mode, owner: m.owner, group: m.group }
  }
  const web0 = groupHosts('web')[0]!
  const lb0 = groupHosts('lb')[0]!

  const appUser = String(anyVars.appUser ?? 'app')
  const replUser = String(anyVars.mysqlReplUser ?? 'repl')
  const clientHost = String(anyVars.mysqlClientHost ?? '%')
  const appDb = String(anyVars.appDbName ?? 'app')
  const appDbUser = String(anyVars.appDbUser ?? 'app')
  const primaryAddress = String(primaryHost.vars.privateAddress ?? primaryHost.address)

  writeFile(
    dir,
    'group_vars/all.yml',
    yamlDoc({
      db_app_password: secretText(anyVars.dbAppPassword, 'dbAppPassword'),
      db_repl_password: secretText(anyVars.dbReplPassword, 'dbReplPassword'),
    }),
    0o600,
  )

  const packages = [{ name: 'package lists', 'ansible.builtin.apt': { update_cache: true, cache_valid_time: 86400 } }]

  const mysqlServerTasks = [
    { name: 'mariadb config dir', 'ansible.builtin.file': { path: '/etc/mysql/mariadb.conf.d', state: 'directory', mode: '0755' } },
    {
      name: 'replication settings',
      'ansible.builtin.template': { src: '{{ inventory_hostname }}/replication.cnf.j2', dest: STACK_PATHS.mysqlConf, ...(await meta(STACK_PATHS.mysqlConf, primary)) },
      notify: ['restart mariadb'],
    },
    { name: 'mariadb packages', 'ansible.builtin.apt': { name: ['mariadb-server', 'mariadb-client'], state: 'present' } },
    { name: 'mariadb running', 'ansible.builtin.systemd': { name: 'mariadb', state: 'started', enabled: true } },
  ]
  const mysqlPrimaryTasks = [
    { name: 'app database', 'community.mysql.mysql_db': { name: appDb, encoding: 'utf8mb4', collation: 'utf8mb4_unicode_ci', ...SOCKET } },
    {
      name: 'app account',
      'community.mysql.mysql_user': { name: appDbUser, host: clientHost, password: '{{ db_app_password }}', priv: `${appDb}.*:ALL`, ...SOCKET },
      no_log: true,
    },
    {
      name: 'replication account',
      'community.mysql.mysql_user': { name: replUser, host: clientHost, password: '{{ db_repl_password }}', priv: '*.*:REPLICATION SLAVE', ...SOCKET },
      no_log: true,
    },
  ]
  const mysqlReplicationTasks = [
    // read-only, so it runs in --check too (else the module returns nothing there and the condition below fails)
    { name: 'replication status', 'community.mysql.mysql_replication': { mode: 'getreplica', ...SOCKET }, register: 'replica', check_mode: false, changed_when: false },
    {
      name: 'seed and start replication',
      when: 'not replica.Is_Replica',
      block: [
        {
          name: 'consistent dump of the primary',
          'ansible.builtin.shell': `${DUMP_COMMAND} > /root/bench-seed-{{ inventory_hostname }}.sql`,
          delegate_to: primary,
        },
        {
          name: 'fetch the dump',
          'ansible.builtin.fetch': { src: '/root/bench-seed-{{ inventory_hostname }}.sql', dest: '{{ playbook_dir }}/seed/{{ inventory_hostname }}.sql', flat: true },
          delegate_to: primary,
        },
        { name: 'remove the dump from the primary', 'ansible.builtin.file': { path: '/root/bench-seed-{{ inventory_hostname }}.sql', state: 'absent' }, delegate_to: primary },
        { name: 'send the dump', 'ansible.builtin.copy': { src: '{{ playbook_dir }}/seed/{{ inventory_hostname }}.sql', dest: '/root/bench-seed.sql', mode: '0600' } },
        {
          name: 'load the dump at its GTID position',
          'ansible.builtin.shell': [
            'set -e',
            "gtid=$(sed -n \"s/^\\(-- \\)\\{0,1\\}SET GLOBAL gtid_slave_pos *= *'\\([0-9,-]*\\)';.*/\\2/p\" /root/bench-seed.sql | tail -n 1)",
            "{ echo 'STOP SLAVE; RESET SLAVE ALL; SET SESSION sql_log_bin = 0;'; cat /root/bench-seed.sql; echo \"FLUSH PRIVILEGES; SET GLOBAL gtid_slave_pos = '$gtid';\"; } | mariadb",
            'rm -f /root/bench-seed.sql',
          ].join('\n'),
        },
        {
          name: 'point at the primary',
          'community.mysql.mysql_replication': {
            mode: 'changeprimary',
            primary_host: primaryAddress,
            primary_port: 3306,
            primary_user: replUser,
            primary_password: '{{ db_repl_password }}',
            primary_connect_retry: 5,
            primary_use_gtid: 'replica_pos',
            ...SOCKET,
          },
          no_log: true,
        },
        { name: 'start replication', 'community.mysql.mysql_replication': { mode: 'startreplica', ...SOCKET } },
        {
          name: 'replication running',
          'community.mysql.mysql_replication': { mode: 'getreplica', ...SOCKET },
          register: 'running',
          until: "running.Slave_IO_Running | default('') == 'Yes' and running.Slave_SQL_Running | default('') == 'Yes'",
          retries: 60,
          delay: 1,
        },
      ],
    },
  ]
  const mysqlHandlers = [{ name: 'restart mariadb', 'ansible.builtin.systemd': { name: 'mariadb', state: 'restarted' } }]

  const appTasks = [
    { name: 'nodejs and curl', 'ansible.builtin.apt': { name: ['nodejs', 'curl'], state: 'present' } },
    { name: 'app user', 'ansible.builtin.user': { name: appUser, system: true, home: STACK_PATHS.appRoot, shell: '/usr/sbin/nologin', create_home: false } },
    { name: 'app root', 'ansible.builtin.file': { path: STACK_PATHS.appRoot, state: 'directory', mode: '0755', owner: 'root', group: 'root' } },
    { name: 'releases dir', 'ansible.builtin.file': { path: `${STACK_PATHS.appRoot}/releases`, state: 'directory', mode: '0755', owner: 'root', group: 'root' } },
    { name: 'shared dir', 'ansible.builtin.file': { path: `${STACK_PATHS.appRoot}/shared`, state: 'directory', mode: '0755', owner: appUser, group: appUser } },
    { name: 'uploads dir', 'ansible.builtin.file': { path: `${STACK_PATHS.appRoot}/shared/uploads`, state: 'directory', mode: '0755', owner: appUser, group: appUser } },
    {
      name: 'app environment',
      'ansible.builtin.template': { src: '{{ inventory_hostname }}/app.env.j2', dest: STACK_PATHS.appEnv, ...(await meta(STACK_PATHS.appEnv, web0)) },
      notify: ['restart app'],
      no_log: true,
    },
    // the first release only, as muster's untilDeployed: once `current` exists, deploys own it
    { name: 'is a release deployed', 'ansible.builtin.stat': { path: `${STACK_PATHS.appRoot}/current` }, register: 'current' },
    {
      name: 'first release',
      when: 'not current.stat.exists',
      block: [
        { name: 'release dir', 'ansible.builtin.file': { path: releaseDir, state: 'directory', mode: '0755', owner: 'root', group: 'root' } },
        {
          name: `release ${release.id}`,
          'ansible.builtin.unarchive': { src: basename(tarball), dest: releaseDir, creates: `${releaseDir}/.muster-release.json` },
        },
        ...Object.entries(SHARED_LINKS).map(([inRelease, shared]) => ({
          name: `release link ${inRelease}`,
          'ansible.builtin.file': { src: `${STACK_PATHS.appRoot}/shared/${shared}`, dest: `${releaseDir}/${inRelease}`, state: 'link', force: true },
        })),
        { name: 'current release', 'ansible.builtin.file': { src: releaseDir, dest: `${STACK_PATHS.appRoot}/current`, state: 'link' }, notify: ['restart app'] },
      ],
    },
    {
      name: 'app unit',
      'ansible.builtin.template': { src: '{{ inventory_hostname }}/app.service.j2', dest: STACK_PATHS.appUnit, ...(await meta(STACK_PATHS.appUnit, web0, 'systemd-unit-file')) },
      register: 'unit_file',
      notify: ['restart app'],
    },
    { name: 'systemd reads the new unit', 'ansible.builtin.systemd': { daemon_reload: true }, when: 'unit_file.changed' },
    { name: 'app running', 'ansible.builtin.systemd': { name: 'app', state: 'started', enabled: true } },
  ]
  const appHandlers = [{ name: 'restart app', 'ansible.builtin.systemd': { name: 'app', state: 'restarted', daemon_reload: true } }]

  const nginxTasks = [
    { name: 'nginx', 'ansible.builtin.apt': { name: 'nginx', state: 'present' } },
    { name: 'no default site', 'ansible.builtin.file': { path: '/etc/nginx/sites-enabled/default', state: 'absent' }, notify: ['reload nginx'] },
    // the target is written next: Ansible wants force for a link to a file that is not there yet
    { name: 'site enabled', 'ansible.builtin.file': { src: STACK_PATHS.nginxSite, dest: STACK_PATHS.nginxEnabled, state: 'link', force: true }, notify: ['reload nginx'] },
    {
      name: 'site',
      'ansible.builtin.template': { src: '{{ inventory_hostname }}/site.conf.j2', dest: STACK_PATHS.nginxSite, ...(await meta(STACK_PATHS.nginxSite, web0)) },
      notify: ['reload nginx'],
    },
    { name: 'nginx running', 'ansible.builtin.systemd': { name: 'nginx', state: 'started', enabled: true } },
  ]
  const nginxHandlers = [{ name: 'reload nginx', 'ansible.builtin.systemd': { name: 'nginx', state: 'reloaded' } }]

  // muster's nftLoaded records what it loaded; the handler does the same, so either tool finds the other's hosts converged
  const firewallTasks = [
    { name: 'nftables', 'ansible.builtin.apt': { name: 'nftables', state: 'present' } },
    {
      name: 'ruleset',
      'ansible.builtin.template': { src: '{{ inventory_hostname }}/nftables.conf.j2', dest: STACK_PATHS.nftConf, validate: 'nft -c -f %s', ...(await meta(STACK_PATHS.nftConf, lb0, 'file')) },
      notify: ['load ruleset'],
    },
    { name: 'ruleset loaded once', 'ansible.builtin.stat': { path: NFT_STATE }, register: 'nft_state' },
    { name: 'load the ruleset the first time', 'ansible.builtin.command': 'true', when: 'not nft_state.stat.exists', changed_when: true, notify: ['load ruleset'] },
    { name: 'nftables at boot', 'ansible.builtin.systemd': { name: 'nftables', enabled: true } },
  ]
  const firewallHandlers = [
    {
      name: 'load ruleset',
      'ansible.builtin.shell': `nft -f ${NFT_CONF} && mkdir -p /var/lib/muster && { sha256sum < ${NFT_CONF} | cut -d' ' -f1; nft -s list ruleset | sha256sum | cut -d' ' -f1; } | tr '\\n' ' ' > ${NFT_STATE}`,
    },
  ]

  const lbPem = expanded.get(lb0)?.resources.some((r) => r.id === `file:${STACK_PATHS.haproxyPem}`) ?? false
  const haproxyTasks = [
    { name: 'haproxy', 'ansible.builtin.apt': { name: ['haproxy', 'socat'], state: 'present' } },
    ...(lbPem
      ? [
          { name: 'tls dir', 'ansible.builtin.file': { path: '/etc/haproxy/tls', state: 'directory', mode: '0700', owner: 'root', group: 'root' } },
          {
            name: 'certificate and key',
            'ansible.builtin.template': { src: '{{ inventory_hostname }}/site.pem.j2', dest: STACK_PATHS.haproxyPem, ...(await meta(STACK_PATHS.haproxyPem, lb0, 'file')) },
            notify: ['reload haproxy'],
            no_log: true,
          },
        ]
      : []),
    {
      name: 'haproxy config',
      'ansible.builtin.template': {
        src: '{{ inventory_hostname }}/haproxy.cfg.j2',
        dest: STACK_PATHS.haproxyCfg,
        validate: 'haproxy -c -f %s',
        ...(await meta(STACK_PATHS.haproxyCfg, lb0)),
      },
      notify: ['reload haproxy'],
    },
    { name: 'haproxy running', 'ansible.builtin.systemd': { name: 'haproxy', state: 'started', enabled: true } },
  ]
  const haproxyHandlers = [{ name: 'reload haproxy', 'ansible.builtin.systemd': { name: 'haproxy', state: 'reloaded' } }]

  const roles: Record<string, [unknown[], unknown[]]> = {
    packages: [packages, []],
    firewall: [firewallTasks, firewallHandlers],
    'mysql-server': [mysqlServerTasks, mysqlHandlers],
    'mysql-primary': [mysqlPrimaryTasks, []],
    'mysql-replication': [mysqlReplicationTasks, []],
    // muster's role checks both accounts' passwords again once every copy has them (after a rotation it drops
    // the old ones); with nothing rotated, the same password tasks again are its equivalent
    'mysql-retire-passwords': [mysqlPrimaryTasks.filter((t) => 'community.mysql.mysql_user' in t).map((t) => ({ ...t, name: `${t.name}: password only`, 'community.mysql.mysql_user': omitPriv(t['community.mysql.mysql_user']!) })), []],
    app: [appTasks, appHandlers],
    nginx: [nginxTasks, nginxHandlers],
    haproxy: [haproxyTasks, haproxyHandlers],
    // one balancer in the bench: failover has nothing to do (muster's role is empty there too)
    'lb-failover': [[], []],
  }
  for (const [name, [tasks, handlers]] of Object.entries(roles)) {
    writeFile(dir, `roles/${name}/tasks/main.yml`, yamlDoc(tasks))
    if (handlers.length) writeFile(dir, `roles/${name}/handlers/main.yml`, yamlDoc(handlers))
  }
  // the plays of playbooks/site.ts, in its order
  const plays = input.playbook.plays.map((p) => ({ name: p.name, hosts: p.hosts, roles: p.roles.map((r) => r.name) }))
  for (const p of plays) for (const r of p.roles) if (!(r in roles)) throw new Error(`bench/ansible: site.ts uses role ${r}, which the Ansible project does not have`)
  writeFile(dir, 'site.yml', yamlDoc(plays))

  const hosts: AnsibleHost[] = [...inv.hosts.values()].map((h) => ({ name: h.name, address: h.address, port: h.port }))
  const groups: Record<string, { hosts?: string[]; children?: string[] }> = {}
  for (const g of inv.groups.values()) {
    if (g.name === 'all' || g.name === 'ungrouped') continue
    groups[g.name] = { hosts: [...g.hosts], children: [...g.children] }
  }
  writeFile(dir, 'ansible.cfg', ansibleCfg(input.connection))
  writeFile(dir, 'hosts.ini', inventoryIni(hosts, groups, input.connection))
  return { dir, playbook: 'site.yml', hosts: hosts.map((h) => h.name) }
}

function omitPriv(args: Record<string, unknown>): Record<string, unknown> {
  const { priv: _priv, ...rest } = args
  return rest
}

function hasRole(h: ExpandedHost, firstId: string): boolean {
  return h.resources.some((r) => r.id === firstId)
}
