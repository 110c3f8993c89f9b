import type { CommandModule } from 'yargs'
import { runOptions, type ParsedRunArgs } from './run-options.ts'
import { runCommand } from '../run-command.ts'

export const applyCommand: CommandModule<object, ParsedRunArgs & { check: boolean }> = {
  command: 'apply <playbook>',
  describe: 'Bring hosts to the state a playbook describes (probe, plan, apply)',
  builder: (y) =>
    runOptions(y)
      .option('check', { type: 'boolean', default: false, describe: 'plan only, change nothing (same as `muster check`)' })
      .example('$0 apply playbooks/site.ts -i inventory/lab.ts', 'provision the whole site')
      .example('$0 apply playbooks/site.ts -i inventory/lab.ts --limit web --tags nginx --diff', 'only the nginx role on the web group, with diffs')
      .example('$0 apply playbooks/site.ts -i inventory/lab.ts --rerun failed', 'retry only the hosts that failed last time') as never,
  handler: async (args) => {
    process.exitCode = await runCommand(args.check ? 'check' : 'apply', args)
  },
}
