import { expect } from 'chai'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parse } from 'yaml'
import fleet from '../../../bench/fleet/playbook.ts'
import { writeFleetProject } from '../../../bench/ansible/fleet-project.ts'
import { CONF_FILES, templateVars, type FleetOptions } from '../../../bench/fleet/spec.ts'
import { renderTemplate } from '../../../src/resources/template.ts'
import { buildInventory } from '../../../src/inventory/build.ts'
import { fromSpec } from '../../../src/inventory/typescript.ts'

const options: FleetOptions = { root: '/srv/bench-root', pkg: 'cron', unit: 'cron', aptUpdate: true }

describe('bench: the Ansible twin of the fleet playbook', () => {
  let dir: string
  before(() => (dir = mkdtempSync(join(tmpdir(), 'bench-ansible-test-'))))
  after(() => rmSync(dir, { recursive: true, force: true }))

  async function generate() {
    const inventory = buildInventory(
      fromSpec(
        {
          vars: { benchRoot: options.root, benchPackage: options.pkg, benchUnit: options.unit, benchAptUpdate: options.aptUpdate },
          hosts: { 'node-01': { address: '10.77.0.11' }, 'node-02': { address: '10.77.0.12', port: 2222 } },
        },
        'bench-test.ts',
      ),
    )
    const connection = { identityFile: '/k/id', knownHosts: '/k/known_hosts', forks: 50, pipelining: true }
    return writeFleetProject(dir, { playbook: fleet, inventory, options, connection })
  }

  it('has one task per muster resource, in the playbook order, with the same modules', async () => {
    await generate()
    const tasks = parse(readFileSync(join(dir, 'roles/benchapp/tasks/main.yml'), 'utf8')) as Record<string, unknown>[]
    const modules = tasks.map((t) => Object.keys(t).find((k) => k.startsWith('ansible.builtin.'))!.slice('ansible.builtin.'.length))
    expect(modules).to.deep.equal([
      'apt',
      ...Array(3).fill('file'),
      ...Array(CONF_FILES.length).fill('copy'),
      ...Array(3).fill('template'),
      'file',
      'file',
      'apt',
      'systemd',
    ])
    expect(tasks).to.have.length(21) // the 20 resources of the fleet playbook, and its package-list refresh
    const handlers = parse(readFileSync(join(dir, 'roles/benchapp/handlers/main.yml'), 'utf8')) as Record<string, unknown>[]
    expect(handlers.map((h) => h.name)).to.deep.equal(['restart cron'])
  })

  it("writes muster's bytes: each host's template renders to exactly what muster's template resource writes", async () => {
    await generate()
    const j2 = readFileSync(join(dir, 'roles/benchapp/templates/node-02/app.conf.j2'), 'utf8')
    expect(j2.startsWith('{% raw %}') && j2.endsWith('{% endraw %}')).to.equal(true)
    const rendered = renderTemplate(new URL('../../../bench/fleet/templates/app.conf.ejs', import.meta.url), templateVars(options.root))
    expect(j2.slice('{% raw %}'.length, -'{% endraw %}'.length)).to.equal(rendered)
    expect(readFileSync(join(dir, `roles/benchapp/files/node-01/${CONF_FILES[3]!.name}`), 'utf8')).to.equal(CONF_FILES[3]!.content)
  })

  it('points the inventory at the hosts with the lab key and known_hosts', async () => {
    await generate()
    const ini = readFileSync(join(dir, 'hosts.ini'), 'utf8')
    expect(ini).to.contain('node-01 ansible_host=10.77.0.11\n')
    expect(ini).to.contain('node-02 ansible_host=10.77.0.12 ansible_port=2222\n')
    expect(ini).to.contain('ansible_ssh_private_key_file=/k/id')
    expect(ini).to.contain('ansible_python_interpreter=/usr/bin/python3')
    expect(readFileSync(join(dir, 'ansible.cfg'), 'utf8')).to.contain('UserKnownHostsFile=/k/known_hosts')
  })
})
