import type { CommandModule } from 'yargs'
import { runOptions, type ParsedRunArgs } from './run-options.ts'
import { runCommand } from '../run-command.ts'

export const checkCommand: CommandModule<object, ParsedRunArgs & { watch?: number; watchCount?: number }> = {
  command: 'check <playbook>',
  describe: 'Drift check: report what differs from the playbook; never changes a host. Exit 0 in sync, 2 drift, 1 error, 3 unreachable, 64 bad input or nothing selected (a check that checked no resource never exits 0)',
  builder: (y) =>
    runOptions(y)
      .option('watch', { type: 'number', describe: 'check again every N seconds over the same connections, printing only drift that appeared or was fixed (Ctrl-C stops)' })
      .option('watch-count', { type: 'number', describe: 'with --watch: stop after this many checks' })
      .example('$0 check playbooks/site.ts -i inventory/lab.ts --watch 30', 're-check every 30 s; print drift as it appears and when it is fixed')
      .example('$0 check playbooks/site.ts -i inventory/production.ts', 'exit 2 and show diffs if anything drifted')
      .example('$0 check playbooks/site.ts -i inventory/lab.ts --tags nginx --allow-unmatched', 'for a script looping over tags: one this playbook lacks is a WARNING, not exit 64')
      .example('$0 check playbooks/site.ts -i inventory/lab.ts --json | jq "select(.status==\\"would-change\\")"', 'drifted resources as JSON') as never,
  handler: async (args) => {
    process.exitCode = await runCommand('check', args)
  },
}
