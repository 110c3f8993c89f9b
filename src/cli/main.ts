import { createRequire } from 'node:module'
import type { Argv } from 'yargs'
import { applyCommand } from './commands/apply.ts'
import { checkCommand } from './commands/check.ts'
import { pingCommand } from './commands/ping.ts'
import { factsCommand } from './commands/facts.ts'
import { labCommand } from './commands/lab.ts'
import { deployCommand } from './commands/deploy.ts'
import { rollbackCommand } from './commands/rollback.ts'
import { releasesCommand } from './commands/releases.ts'
import { vaultCommand } from './commands/vault.ts'
import { mergeCommand } from './commands/merge.ts'
import { varsCommand } from './commands/vars.ts'
import { initCommand } from './commands/init.ts'
import { ExitCode } from '../core/errors.ts'
import { maskSecrets } from '../core/secret.ts'
import { trace } from '../core/trace.ts'

// yargs 17's CommonJS build, required: it loads in ~15 ms. Its ESM build, and yargs 18
// (ESM only), import string-width 8, whose Intl.Segmenter and Unicode-property regexes
// cost ~50 ms at import on every run, only to measure help text (README: Packages).
// a local require (not the global): esbuild would turn a bare `require` into a shim that throws in ESM
const requireCjs = createRequire(import.meta.url)
const yargs = requireCjs('yargs/yargs') as (args: string[]) => Argv

/** Errors that are the user's input, not a failure on a host: exit 64, no stack trace. */
const inputErrors = new Set(['UsageError', 'MergeInputError', 'InventoryError', 'PatternError', 'TemplateError', 'MissingVarError', 'VarsError', 'ExpansionError', 'VaultError', 'YError'])

export async function main(argv: string[]): Promise<number> {
  trace('cli loaded')
  process.exitCode = undefined
  const cli = yargs(argv)
    .scriptName('muster')
    .usage('$0 <command> [options]\n\nTyped, fast, honest configuration management over SSH.')
    .command(applyCommand)
    .command(checkCommand)
    .command(pingCommand)
    .command(factsCommand)
    .command(labCommand)
    .command(deployCommand)
    .command(rollbackCommand)
    .command(releasesCommand)
    .command(vaultCommand)
    .command(mergeCommand)
    .command(varsCommand)
    .command(initCommand)
    .demandCommand(1, 'Name a command: init, apply, check, merge, deploy, rollback, releases, ping, facts, lab, vault or vars (see --help).')
    .strict()
    .epilogue('Exit codes: 0 ok / in sync, 1 a resource failed, 2 drift found (check), 3 a host unreachable, 64 usage or input error, 130 interrupted (Ctrl-C: apply finishes the resource in flight and its handlers).')
    .wrap(Math.min(120, process.stdout.columns || 100))
    .fail((msg, err) => {
      throw err ?? Object.assign(new Error(msg), { name: 'YError' })
    })
  try {
    await cli.parseAsync()
  } catch (err) {
    const e = err as Error
    process.stderr.write(`muster: ${maskSecrets(e.message)}\n`)
    if (inputErrors.has(e.name)) {
      if (e.name === 'YError') process.stderr.write('Run `muster --help` for usage.\n')
      return ExitCode.usage
    }
    if (process.env.MUSTER_DEBUG && e.stack) process.stderr.write(e.stack + '\n')
    return ExitCode.failed
  }
  return Number(process.exitCode ?? 0)
}
