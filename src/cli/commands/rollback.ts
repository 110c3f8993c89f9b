import type { CommandModule } from 'yargs'
import { deployOptions, runDeploy, type DeployArgs } from './deploy-run.ts'

export const rollbackCommand: CommandModule<object, DeployArgs> = {
  command: 'rollback [playbook]',
  describe: "Switch every host back to its previous release, with the same rolling safety as a deploy",
  builder: (y) =>
    deployOptions(y)
      .example('$0 rollback playbooks/deploy.ts -i inventory/lab.ts', 'every web host back to the release it ran before the last switch')
      .example('$0 rollback -i inventory/lab.ts --limit web-02', 'only web-02')
      .epilogue('A second rollback goes forward again: `previous` then names the release just left. Exit codes as for deploy.') as never,
  handler: async (args) => {
    process.exitCode = await runDeploy('rollback', args)
  },
}
