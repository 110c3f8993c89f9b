/**
 * The Ansible project equivalent to bench/fleet/playbook.ts: the same
 * directories, files (byte for byte), templates, symlink, absent file,
 * package and service, in the same order, with the same restart handler.
 */
import type { Inventory } from '../../src/inventory/types.ts'
import type { Playbook } from '../../src/engine/playbook.ts'
import { CONF_FILES, TEMPLATES, fleetPaths, type FleetOptions } from '../fleet/spec.ts'
import { expandPlaybook, musterFile } from './muster-files.ts'
import { ansibleCfg, inventoryIni, verbatimTemplate, writeFile, yamlDoc, type AnsibleConnection, type AnsibleHost } from './project.ts'

export interface FleetProjectInput {
  playbook: Playbook
  inventory: Inventory
  options: FleetOptions
  connection: AnsibleConnection
}

export interface GeneratedProject {
  dir: string
  /** Relative to dir. */
  playbook: string
  hosts: string[]
}

export async function writeFleetProject(dir: string, input: FleetProjectInput): Promise<GeneratedProject> {
  const { options: o, connection } = input
  const p = fleetPaths(o.root)
  const expanded = expandPlaybook(input.playbook, input.inventory)
  const hosts: AnsibleHost[] = [...input.inventory.hosts.values()].map((h) => ({ name: h.name, address: h.address, port: h.port }))

  const role = 'roles/benchapp'
  for (const h of hosts) {
    for (const f of CONF_FILES) {
      const m = await musterFile(expanded, h.name, `file:${p.confD}/${f.name}`)
      writeFile(dir, `${role}/files/${h.name}/${f.name}`, m.content)
    }
    for (const t of TEMPLATES) {
      const m = await musterFile(expanded, h.name, `template:${p.etc}/${t}`)
      writeFile(dir, `${role}/templates/${h.name}/${t}.j2`, verbatimTemplate(m.content))
    }
  }
  const notify = [`restart ${o.unit}`]
  const tasks: Record<string, unknown>[] = [
    ...(o.aptUpdate ? [{ name: 'package lists', 'ansible.builtin.apt': { update_cache: true, cache_valid_time: 86400 } }] : []),
    { name: 'config dir', 'ansible.builtin.file': { path: p.etc, state: 'directory', mode: '0755' } },
    { name: 'drop-in dir', 'ansible.builtin.file': { path: p.confD, state: 'directory', mode: '0755' } },
    { name: 'data dir', 'ansible.builtin.file': { path: p.data, state: 'directory', mode: '0750' } },
    ...CONF_FILES.map((f) => ({
      name: `drop-in ${f.name}`,
      'ansible.builtin.copy': { src: `{{ inventory_hostname }}/${f.name}`, dest: `${p.confD}/${f.name}`, mode: '0644' },
      notify,
    })),
    ...TEMPLATES.map((t) => ({
      name: `template ${t}`,
      'ansible.builtin.template': { src: `{{ inventory_hostname }}/${t}.j2`, dest: `${p.etc}/${t}`, mode: '0644' },
      notify,
    })),
    { name: 'active config link', 'ansible.builtin.file': { src: `${p.etc}/app.conf`, dest: p.active, state: 'link' } },
    { name: 'no legacy config', 'ansible.builtin.file': { path: p.legacy, state: 'absent' } },
    { name: `package ${o.pkg}`, 'ansible.builtin.apt': { name: o.pkg, state: 'present' } },
    { name: `service ${o.unit}`, 'ansible.builtin.systemd': { name: o.unit, state: 'started', enabled: true } },
  ]
  writeFile(dir, `${role}/tasks/main.yml`, yamlDoc(tasks))
  writeFile(dir, `${role}/handlers/main.yml`, yamlDoc([{ name: `restart ${o.unit}`, 'ansible.builtin.systemd': { name: o.unit, state: 'restarted' } }]))
  writeFile(dir, 'fleet.yml', yamlDoc([{ name: 'fleet', hosts: 'all', roles: ['benchapp'] }]))
  writeFile(dir, 'ansible.cfg', ansibleCfg(connection))
  writeFile(dir, 'hosts.ini', inventoryIni(hosts, {}, connection))
  return { dir, playbook: 'fleet.yml', hosts: hosts.map((h) => h.name) }
}
