/**
 * What `muster init` writes: a working infrastructure repository that installs
 * muster as a dev dependency, with a typed role, a playbook, an inventory and
 * the ignores a vault's password needs. Plain strings: nothing here runs.
 */
export interface InitFiles {
  [path: string]: string
}

export function scaffold(o: { name: string; musterVersion: string; inventory: string }): InitFiles {
  return {
    'package.json': `${JSON.stringify(
      {
        name: o.name,
        private: true,
        type: 'module',
        scripts: {
          check: 'muster check playbooks/site.ts -i inventory/hosts.ini',
          apply: 'muster apply playbooks/site.ts -i inventory/hosts.ini',
        },
        devDependencies: { muster: `^${o.musterVersion}` },
      },
      null,
      2,
    )}\n`,
    // for the editor: muster type-checks playbooks with its own settings, whatever this says
    'tsconfig.json': `${JSON.stringify(
      {
        compilerOptions: { target: 'es2022', module: 'nodenext', moduleResolution: 'nodenext', strict: true, noEmit: true, allowImportingTsExtensions: true, skipLibCheck: true },
        include: ['playbooks', 'roles', 'inventory'],
      },
      null,
      2,
    )}\n`,
    '.gitignore': ['node_modules/', '.muster/', '# the vault password never goes in the repository (the vault itself may)', '*.password', ''].join('\n'),
    'inventory/hosts.ini': o.inventory,
    'roles/motd/index.ts': `// A first role: the message of the day, from a declared var.
// \`npx muster vars roles/motd/index.ts\` lists its vars; a host whose vars do
// not fit them is refused before anything runs.
import { role, roleVar, file } from 'muster'

export const motd = role('motd', {
  vars: {
    motdText: roleVar.string({ default: 'This host is managed by muster: changes made by hand will be undone.', description: 'the message shown at login' }),
  },
  description: 'the message of the day',
}, (ctx) => [
  file('/etc/motd', { content: \`\${ctx.vars.motdText}\\n\`, mode: '0644', owner: 'root', group: 'root' }),
])
`,
    'playbooks/site.ts': `// Every host, in order: add plays and roles as your fleet grows.
//   npx muster check playbooks/site.ts -i inventory/hosts.ini    # what would change
//   npx muster apply playbooks/site.ts -i inventory/hosts.ini    # change it
import { playbook } from 'muster'
import { motd } from '../roles/motd/index.ts'

export default playbook({ name: 'base', hosts: 'all', roles: [motd] })
`,
    'README.md': `# ${o.name}

Our servers, as code: [muster](https://www.npmjs.com/package/muster) playbooks over SSH.

## Next three commands

\`\`\`sh
npm install                                                   # muster itself, locally
npx muster check playbooks/site.ts -i inventory/hosts.ini    # what would change (changes nothing)
npx muster apply playbooks/site.ts -i inventory/hosts.ini    # converge the hosts
\`\`\`

## Layout

- \`inventory/hosts.ini\`: the hosts (Ansible's INI format: \`ansible_host\`,
  \`ansible_user\`, \`ansible_ssh_private_key_file\`, \`muster_known_hosts\`, groups).
- \`inventory/secrets.vault\`: secrets, encrypted (\`npx muster vault set inventory/secrets.vault NAME\`),
  referenced from the inventory as \`dbPassword = !vault NAME\` once \`muster_vault=secrets.vault\`
  is in \`[all:vars]\`. Its password stays out of git: \`MUSTER_VAULT_PASSWORD_FILE=~/.config/muster/vault.password\`.
- \`roles/\`: what a host gets; \`playbooks/\`: which hosts get which roles.

Host keys are checked against \`~/.ssh/known_hosts\` (or \`muster_known_hosts\`): an unknown host is
refused with its fingerprint until you trust it (\`ssh-keyscan\`, or \`--accept-new-host-keys\` once).
`,
  }
}

/** An inventory to start from when none is imported: commented, one example host. */
export const exampleInventory = `# The hosts muster manages, in Ansible's INI format. Replace the example.
[web]
# web-01 ansible_host=203.0.113.10

[all:vars]
ansible_user=root
# ansible_ssh_private_key_file=~/.ssh/id_ed25519
# muster_known_hosts=~/.ssh/known_hosts
# muster_vault=secrets.vault
`
