import { readFile } from 'node:fs/promises'
import type { CommandModule } from 'yargs'
import { mergeShards, MergeInputError } from '../../report/merge-shards.ts'
import { jsonReporter } from '../../report/json.ts'
import { plainReporter } from '../../report/plain.ts'
import { defaultWrite } from '../reporter.ts'

interface MergeArgs {
  files: string[]
  json: boolean
  verbose: number
  diff: boolean
}

export const mergeCommand: CommandModule<object, MergeArgs> = {
  command: 'merge <files..>',
  describe: 'Combine the --json outputs of a run\'s shards (--shard K/N) into one recap and exit code, as if the run had not been split',
  builder: (y) =>
    y
      .positional('files', { type: 'string', array: true, demandOption: true, describe: 'the --json output of each shard' })
      .option('json', { type: 'boolean', default: false, describe: 'one JSON-lines stream, as `--json` of the unsharded run' })
      .option('verbose', { alias: 'v', type: 'count', describe: 'show ok results too' })
      .option('diff', { type: 'boolean', default: false, describe: 'show diffs of changes' })
      .example('$0 merge out/shard-*.jsonl', 'the recap of all shards; exit 0/1/2/3/64 as the unsharded run would')
      .example('$0 merge --json out/shard-*.jsonl > run.jsonl', 'one JSON stream for dashboards')
      .epilogue(
        'A host in two shards or in none, outputs of different runs, or lines that are not JSON: exit 64. ' +
          'A shard missing or ended early (no recap) is named on stderr and the exit is at least 1.',
      ) as never,
  handler: async (args) => {
    const inputs = await Promise.all(
      args.files.map(async (file) => {
        try {
          return { file, text: await readFile(file, 'utf8') }
        } catch (e) {
          throw new MergeInputError(`cannot read ${file}: ${(e as Error).message}`)
        }
      }),
    )
    const merged = mergeShards(inputs)
    const on = args.json ? jsonReporter(defaultWrite) : plainReporter({ verbose: args.verbose > 0, diff: args.diff || merged.events[0]?.type === 'run:start' && merged.events[0].mode === 'check', write: defaultWrite })
    for (const e of merged.events) on(e)
    for (const why of merged.incomplete) process.stderr.write(`muster merge: incomplete: ${why}\n`)
    process.exitCode = merged.exitCode
  },
}
