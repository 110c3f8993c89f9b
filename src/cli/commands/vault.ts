import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Argv, CommandModule } from 'yargs'
import { checkName, checkPassword, entriesToYaml, parseEntries, VaultError, type VaultEntries } from '../../vault/format.ts'
import { passwordFromEnv, readPasswordFile, readVault, writeVault } from '../../vault/vault.ts'

// the prompt (node:tty) loads only when a vault command asks something
let prompt: typeof import('../prompt.ts') | undefined
const loadPrompt = async (): Promise<typeof import('../prompt.ts')> => (prompt ??= await import('../prompt.ts'))
const askHidden = async (q: string): Promise<string> => (await loadPrompt()).askHidden(q)
const askYesNo = async (q: string, yes: boolean): Promise<boolean> => (await loadPrompt()).askYesNo(q, yes)
/** Echo back on (hidden prompts keep it off between them) before something else uses the terminal. */
const releaseTerminal = (): void => prompt?.releaseTerminal()

/**
 * `muster vault ...`: named secrets in an encrypted file an inventory reads
 * with `vault(file).get(name)`. Values and passwords never travel in argv.
 */

const say = (line: string): void => {
  process.stderr.write(`vault: ${line}\n`)
}

async function password(file: string): Promise<string> {
  return passwordFromEnv() ?? (await askHidden(`password for ${file}: `))
}

/**
 * A new password: from `file` when given, else (for a new vault) from the
 * environment, else typed twice. rekey never takes the environment's, which
 * is the old password.
 */
async function newPassword(what: string, opts: { file?: string | undefined; fromEnv: boolean }): Promise<string> {
  const given = opts.file !== undefined ? newPasswordFile(opts.file) : opts.fromEnv ? passwordFromEnv() : undefined
  if (given) {
    checkPassword(given)
    return given
  }
  const first = await askHidden(`${what}: `)
  checkPassword(first)
  if ((await askHidden(`${what} again: `)) !== first) throw new VaultError('the two passwords differ: nothing was changed')
  return first
}

function newPasswordFile(file: string): string {
  if (!file) throw new VaultError('--new-password-file needs a file name')
  return readPasswordFile(file, `--new-password-file ${file}`)
}

async function open(file: string): Promise<{ entries: VaultEntries; password: string }> {
  if (!existsSync(file)) throw new VaultError(`${file}: no such vault file (\`muster vault set ${file} NAME\` creates one)`)
  const pw = await password(file)
  return { entries: readVault(file, pw), password: pw }
}

async function readValue(name: string): Promise<string> {
  if (process.stdin.isTTY) return askHidden(`value for ${name}: `)
  const chunks: Buffer[] = []
  for await (const c of process.stdin) chunks.push(c as Buffer)
  // one trailing newline is how `echo` and files end, not part of the secret
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '')
}

interface FileArgs {
  file: string
}
interface NameArgs extends FileArgs {
  name: string
}

const fileArg = (y: Argv): Argv<FileArgs> => y.positional('file', { type: 'string', demandOption: true, describe: 'vault file' }) as Argv<FileArgs>
const nameArg = (y: Argv): Argv<NameArgs> => fileArg(y).positional('name', { type: 'string', demandOption: true, describe: 'secret name' }) as Argv<NameArgs>

const setCommand: CommandModule<object, NameArgs> = {
  command: 'set <file> <name>',
  describe: 'Store a secret, its value read from stdin (typed, unechoed, on a terminal); creates the vault if need be',
  builder: (y) =>
    nameArg(y)
      .example('$0 vault set inventory/secrets.vault db-app-password', 'type the value')
      .example('openssl rand -hex 24 | $0 vault set inventory/secrets.vault db-repl-password', 'a generated one')
      .example('$0 vault set inventory/secrets.vault tls-key < site.key', 'a file (multi-line is fine)') as never,
  handler: async (args) => {
    checkName(args.name, args.file)
    const created = !existsSync(args.file)
    const { entries, password: pw } = created ? { entries: {}, password: await newPassword(`new password for ${args.file}`, { fromEnv: true }) } : await open(args.file)
    const value = await readValue(args.name)
    if (!value) throw new VaultError(`${args.name}: an empty value; nothing was changed`)
    const same = entries[args.name] === value
    if (!same) writeVault(args.file, { ...entries, [args.name]: value }, pw)
    say(`${same ? 'unchanged' : created ? 'created with' : Object.hasOwn(entries, args.name) ? 'replaced' : 'added'} ${args.name} in ${args.file}`)
  },
}

const getCommand: CommandModule<object, NameArgs> = {
  command: 'get <file> <name>',
  describe: 'Print one secret\'s value (to stdout, as asked: mind your terminal\'s scrollback)',
  builder: (y) => nameArg(y).example('$0 vault get inventory/secrets.vault db-app-password | mysql ...', 'pipe it on') as never,
  handler: async (args) => {
    const { entries } = await open(args.file)
    const v = Object.hasOwn(entries, args.name) ? entries[args.name] : undefined
    if (v === undefined) throw new VaultError(`${args.file}: no secret "${args.name}" (it has ${Object.keys(entries).join(', ') || 'none'})`)
    process.stdout.write(`${v}\n`)
  },
}

const listCommand: CommandModule<object, FileArgs> = {
  command: 'list <file>',
  describe: 'List the secrets\' names (never their values)',
  builder: (y) => fileArg(y) as never,
  handler: async (args) => {
    const { entries } = await open(args.file)
    for (const name of Object.keys(entries).sort()) process.stdout.write(`${name}\n`)
  },
}

const unsetCommand: CommandModule<object, NameArgs> = {
  command: 'unset <file> <name>',
  describe: 'Remove a secret',
  builder: (y) => nameArg(y) as never,
  handler: async (args) => {
    const { entries, password: pw } = await open(args.file)
    if (!Object.hasOwn(entries, args.name)) throw new VaultError(`${args.file}: no secret "${args.name}"; nothing was changed`)
    const { [args.name]: _gone, ...rest } = entries
    writeVault(args.file, rest, pw)
    say(`removed ${args.name} from ${args.file}`)
  },
}

const editCommand: CommandModule<object, FileArgs> = {
  command: 'edit <file>',
  describe: 'Edit the decrypted secrets (YAML, name: value) in $VISUAL or $EDITOR; saved only if they parse',
  builder: (y) =>
    fileArg(y)
      .example('EDITOR=nano $0 vault edit inventory/secrets.vault', '')
      .epilogue('The plaintext lives in a private temporary directory (in RAM under /dev/shm where there is one) while the editor runs, and is removed after. A file that does not parse is shown again on a terminal; elsewhere the vault is left as it was.') as never,
  handler: async (args) => {
    const { entries, password: pw } = await open(args.file)
    releaseTerminal() // the editor needs the terminal as it was
    const editor = process.env.VISUAL || process.env.EDITOR || 'vi'
    const dir = mkdtempSync(join(existsSync('/dev/shm') && statSync('/dev/shm').isDirectory() ? '/dev/shm' : tmpdir(), 'muster-vault-'))
    const plain = join(dir, 'secrets.yaml')
    try {
      const before = entriesToYaml(entries)
      writeFileSync(plain, before, { mode: 0o600 })
      for (;;) {
        // through sh, so EDITOR may carry arguments ("code --wait"); the file is an argument, not spliced in.
        // Ctrl-C or a hangup while it runs must not kill muster before the plaintext is removed.
        const ignore = (): void => undefined
        for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(s, ignore)
        let r: ReturnType<typeof spawnSync>
        try {
          r = spawnSync('/bin/sh', ['-c', `${editor} "$1"`, 'sh', plain], { stdio: 'inherit' })
        } finally {
          for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.off(s, ignore)
        }
        if (r.status !== 0) throw new VaultError(`the editor (${editor}) exited ${r.status ?? r.signal}: ${args.file} was left as it was`)
        const after = readFileSync(plain, 'utf8')
        if (after === before) return say(`no change to ${args.file}`)
        let edited: VaultEntries
        try {
          edited = parseEntries(after, 'the edited secrets')
        } catch (err) {
          if (!(err instanceof VaultError) || !process.stdin.isTTY) throw new VaultError(`${(err as Error).message}: ${args.file} was left as it was`)
          process.stderr.write(`muster: ${err.message}\n`)
          if (await askYesNo('edit again?', true)) continue
          throw new VaultError(`${args.file} was left as it was`)
        }
        writeVault(args.file, edited, pw)
        const names = (e: VaultEntries): Set<string> => new Set(Object.keys(e))
        const added = [...names(edited)].filter((n) => !Object.hasOwn(entries, n))
        const removed = [...names(entries)].filter((n) => !Object.hasOwn(edited, n))
        const changed = [...names(edited)].filter((n) => Object.hasOwn(entries, n) && entries[n] !== edited[n])
        return say(`saved ${args.file}: ${[added.length ? `added ${added.join(', ')}` : '', changed.length ? `changed ${changed.join(', ')}` : '', removed.length ? `removed ${removed.join(', ')}` : ''].filter(Boolean).join('; ') || 'reformatted'}`)
      }
    } finally {
      try {
        writeFileSync(plain, Buffer.alloc(statSync(plain).size)) // not left readable in a page the next owner gets
      } catch {
        // gone already
      }
      rmSync(dir, { recursive: true, force: true })
    }
  },
}

interface RekeyArgs extends FileArgs {
  newPasswordFile?: string
}
const rekeyCommand: CommandModule<object, RekeyArgs> = {
  command: 'rekey <file>',
  describe: 'Encrypt the vault under a new password',
  builder: (y) =>
    fileArg(y)
      .option('new-password-file', { type: 'string', describe: 'file holding the new password (default: typed twice; never MUSTER_VAULT_PASSWORD*, which open the vault)' })
      .example('MUSTER_VAULT_PASSWORD_FILE=old.pw $0 vault rekey secrets.vault --new-password-file new.pw', 'for scripts') as never,
  handler: async (args) => {
    const { entries } = await open(args.file)
    const pw = await newPassword(`new password for ${args.file}`, { file: args.newPasswordFile, fromEnv: false })
    writeVault(args.file, entries, pw)
    say(`${args.file} now opens with the new password (${Object.keys(entries).length} secrets)`)
  },
}

export const vaultCommand: CommandModule = {
  command: 'vault <command>',
  describe: 'Encrypted secrets for inventories: set, get, list, unset, edit, rekey',
  builder: (y: Argv) =>
    y
      .command(setCommand)
      .command(getCommand)
      .command(listCommand)
      .command(unsetCommand)
      .command(editCommand)
      .command(rekeyCommand)
      .demandCommand(1, 'Name a vault command: set, get, list, unset, edit or rekey.')
      .example('$0 vault set inventory/secrets.vault db-app-password', 'store a secret (asks for it and the password)')
      .epilogue(
        [
          'In an inventory:  import { vault } from \'muster\'',
          '                  const secrets = vault(new URL(\'./secrets.vault\', import.meta.url))',
          '                  vars: { dbAppPassword: secrets.get(\'db-app-password\') }   // a Secret: prints as ***',
          '',
          'The password comes from MUSTER_VAULT_PASSWORD_FILE (a file holding it; best), MUSTER_VAULT_PASSWORD, or is asked on the terminal. The file is AES-256-GCM under a scrypt key, safe to commit; `set` and `edit` rewrite it whole, never half.',
        ].join('\n'),
      ),
  handler: () => undefined,
}

