import type { CommandModule } from 'yargs'
import { runOptions, type ParsedRunArgs } from './run-options.ts'
import { runCommand } from '../run-command.ts'

export const checkCommand: CommandModule<object, ParsedRunArgs> = {
  command: 'check <playbook>',
  describe: 'Drift check: report what differs from the playbook; never changes a host. Exit 0 in sync, 2 drift, 1 error, 3 unreachable',
  builder: (y) =>
    runOptions(y)
      .example('$0 check playbooks/site.ts -i inventory/production.ts', 'exit 2 and show diffs if anything drifted')
      .example('$0 check playbooks/site.ts -i inventory/lab.ts --json | jq "select(.status==\\"would-change\\")"', 'drifted resources as JSON') as never,
  handler: async (args) => {
    process.exitCode = await runCommand('check', args)
  },
}
