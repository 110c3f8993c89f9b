import { requirePackage } from '../core/require-package.ts'
import type { Argv, CommandModule } from 'yargs'
import { ExitCode, UsageError } from '../core/errors.ts'
import { didYouMean } from '../core/did-you-mean.ts'
import { maskSecrets } from '../core/secret.ts'
import { trace } from '../core/trace.ts'
import { guardStdout } from './output.ts'

// yargs 17's CommonJS build, required: it loads in ~15 ms. Its ESM build, and yargs 18
// (ESM only), import string-width 8, whose Intl.Segmenter and Unicode-property regexes
// cost ~50 ms at import on every run, only to measure help text (README: Packages).
const yargs = requirePackage('yargs/yargs') as (args: string[]) => Argv

/**
 * Each command's module, loaded on demand: a run of `check` loads check's
 * options and what it runs, not the lab's, the vault's or `muster test`'s code
 * (~180 KB of the CLI's 400, ~20 ms of CPU on every run). Help without a
 * command, and anything not a command name, loads them all.
 */
const commandLoaders: Record<string, () => Promise<CommandModule>> = {
  init: async () => (await import('./commands/init.ts')).initCommand as CommandModule,
  apply: async () => (await import('./commands/apply.ts')).applyCommand as CommandModule,
  check: async () => (await import('./commands/check.ts')).checkCommand as CommandModule,
  ping: async () => (await import('./commands/ping.ts')).pingCommand as CommandModule,
  facts: async () => (await import('./commands/facts.ts')).factsCommand as CommandModule,
  lab: async () => (await import('./commands/lab.ts')).labCommand as CommandModule,
  deploy: async () => (await import('./commands/deploy.ts')).deployCommand as CommandModule,
  rollback: async () => (await import('./commands/rollback.ts')).rollbackCommand as CommandModule,
  releases: async () => (await import('./commands/releases.ts')).releasesCommand as CommandModule,
  vault: async () => (await import('./commands/vault.ts')).vaultCommand as CommandModule,
  merge: async () => (await import('./commands/merge.ts')).mergeCommand as CommandModule,
  vars: async () => (await import('./commands/vars.ts')).varsCommand as CommandModule,
  test: async () => (await import('./commands/test.ts')).testCommand as CommandModule,
}
export const commandNames = Object.keys(commandLoaders)

/** The command named first on the command line, or every command (for help, and for the errors that list them). */
export async function loadCommands(argv: readonly string[]): Promise<CommandModule[]> {
  const first = argv[0]
  const names = first !== undefined && Object.hasOwn(commandLoaders, first) ? [first] : commandNames
  return Promise.all(names.map((n) => commandLoaders[n]!()))
}

/** Errors that are the user's input, not a failure on a host: exit 64, no stack trace. */
const inputErrors = new Set(['UsageError', 'MergeInputError', 'InventoryError', 'PatternError', 'TemplateError', 'MissingVarError', 'VarsError', 'ExpansionError', 'VaultError', 'SelectionError', 'YError'])

/**
 * yargs renders the whole help text right after it starts a command's handler, to have it at hand should the
 * handler fail later (10-35 ms of every run, on the critical path). Our .fail() throws instead of showing help,
 * so that text is never read: skip it. `--help` renders its own text and is unaffected.
 */
function skipHelpCache(cli: Argv): void {
  const usage = (cli as unknown as { getInternalMethods?(): { getUsageInstance?(): { cacheHelpMessage?: () => void } } }).getInternalMethods?.().getUsageInstance?.()
  if (usage && typeof usage.cacheHelpMessage === 'function') usage.cacheHelpMessage = () => {}
}

export async function main(argv: string[]): Promise<number> {
  trace('cli loaded')
  process.exitCode = undefined
  guardStdout()
  const commands = await loadCommands(argv)
  const cli = yargs(argv)
    .scriptName('muster')
    .usage('$0 <command> [options]\n\nTyped, fast, honest configuration management over SSH.')
    .command(commands as never)
    .demandCommand(1, 'Name a command: init, apply, check, merge, deploy, rollback, releases, ping, facts, lab, vault, vars or test (see --help).')
    .strict()
    .epilogue('Exit codes: 0 ok / in sync, 1 a resource failed, 2 drift found (check), 3 a host unreachable, 64 usage or input error (also a --tags/--skip-tags/--limit or play hosts pattern that matches nothing), 130 interrupted (Ctrl-C: apply finishes the resource in flight and its handlers), 141 stdout closed under an apply (`| head`: handled like Ctrl-C).')
    .wrap(Math.min(120, process.stdout.columns || 100))
    .fail((msg, err) => {
      throw err ?? Object.assign(new Error(msg), { name: 'YError' })
    })
  skipHelpCache(cli)
  try {
    const first = argv[0]
    // yargs would say "Unknown argument: aply" (or, with recommendCommands, suggest `lab` for anything)
    if (first !== undefined && !first.startsWith('-') && !commandNames.includes(first)) {
      throw new UsageError(`unknown command '${first}'${didYouMean(first, commandNames)} (commands: ${commandNames.join(', ')})`)
    }
    await cli.parseAsync()
  } catch (err) {
    const e = err as Error
    process.stderr.write(`muster: ${maskSecrets(e.message)}\n`)
    const frames = (e as { frames?: unknown }).frames
    if (Array.isArray(frames) && frames.length > 0 && argv.some((a) => /^-v+$|^--verbose$/.test(a))) {
      process.stderr.write(frames.map((f) => `    at ${String(f)}\n`).join(''))
    }
    if (inputErrors.has(e.name)) {
      if (e.name === 'YError' || e.message.startsWith('unknown command')) process.stderr.write('Run `muster --help` for usage.\n')
      return ExitCode.usage
    }
    if (process.env.MUSTER_DEBUG && e.stack) process.stderr.write(e.stack + '\n')
    return ExitCode.failed
  }
  return Number(process.exitCode ?? 0)
}
