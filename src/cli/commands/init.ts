import type { CommandModule } from 'yargs'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { basename, dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ExitCode, UsageError } from '../../core/errors.ts'
import { readRawInventory } from '../../inventory/load.ts'
import { buildInventory } from '../../inventory/build.ts'
import { InventoryError } from '../../inventory/types.ts'
import { defaultWrite } from '../reporter.ts'
import { exampleInventory, scaffold } from '../init/files.ts'

interface InitArgs {
  dir: string
  from?: string
}

export const initCommand: CommandModule<object, InitArgs> = {
  command: 'init [dir]',
  describe: 'Scaffold an infrastructure repository: package.json, tsconfig, inventory, a first role and playbook, .gitignore, README',
  builder: (y) =>
    y
      .positional('dir', { type: 'string', default: '.', describe: 'where (created if missing; must hold no muster project yet)' })
      .option('from', { type: 'string', describe: 'an existing Ansible INI inventory to start from (copied to inventory/hosts.ini)' })
      .example('$0 init infra', 'a new repository in ./infra')
      .example('$0 init infra --from /etc/ansible/hosts', 'starting from your Ansible inventory') as never,
  handler: async (args) => {
    process.exitCode = await initProject(args)
  },
}

export async function initProject(args: InitArgs, out: (line: string) => void = defaultWrite): Promise<number> {
  const dir = resolve(args.dir)
  let inventory = exampleInventory
  if (args.from !== undefined) {
    if (!/\.(ini|cfg|hosts)$|^[^.]*$/.test(basename(args.from))) throw new UsageError(`--from ${args.from}: an Ansible INI inventory is expected (YAML and TypeScript ones can be used as they are with -i)`)
    const raw = await readRawInventory(args.from) // the format's errors, with file and line
    try {
      buildInventory(raw) // groups and hosts that resolve; secrets only when referenced
    } catch (err) {
      if (!(err instanceof InventoryError) || !/!vault|!env/.test(err.message)) throw err
    }
    inventory = readFileSync(args.from, 'utf8')
  }
  const files = scaffold({ name: basename(dir).toLowerCase().replace(/[^a-z0-9._-]+/g, '-') || 'infra', musterVersion: ownVersion(), inventory })
  const taken = Object.keys(files).filter((f) => existsSync(join(dir, f)))
  if (taken.length > 0) throw new UsageError(`${dir} already has ${taken.join(', ')}: init writes only into a new project (nothing was written)`)
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true })
    writeFileSync(join(dir, path), text, { flag: 'wx' })
  }
  out(`created ${dir}: ${Object.keys(files).join(', ')}`)
  const cd = resolve(process.cwd()) === dir ? '' : `cd ${args.dir} && `
  out(`next: ${cd}npm install && npx muster check playbooks/site.ts -i inventory/hosts.ini`)
  return ExitCode.ok
}

/** This muster's version, from its package.json (above dist/ or src/). */
function ownVersion(): string {
  for (let d = dirname(fileURLToPath(import.meta.url)); dirname(d) !== d; d = dirname(d)) {
    const p = join(d, 'package.json')
    if (existsSync(p)) {
      const pkg = JSON.parse(readFileSync(p, 'utf8')) as { name?: string; version?: string }
      if (pkg.name === 'muster' && pkg.version) return pkg.version
    }
  }
  return '0.1.0'
}
