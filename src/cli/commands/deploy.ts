import type { CommandModule } from 'yargs'
import { deployOptions, runDeploy, type DeployArgs } from './deploy-run.ts'

export const deployCommand: CommandModule<object, DeployArgs> = {
  command: 'deploy [playbook]',
  describe: 'Roll a new release of the app out to the web hosts, one batch at a time, through the load balancer',
  builder: (y) =>
    deployOptions(y)
      .option('release', { type: 'string', describe: "what to deploy: the app's directory, or a git ref (commit, tag, branch) of its repository; default: the app's directory as it is" })
      .example('$0 deploy playbooks/deploy.ts -i inventory/lab.ts', 'deploy the app as it is in the working tree')
      .example('$0 deploy -i inventory/lab.ts --release v1.4.2', 'deploy the app as it was at a tag')
      .example('$0 deploy -i inventory/lab.ts --force-unlock', "take the lock of a deploy that died on another machine")
      .epilogue('Exit codes: 0 deployed (or already live), 1 a host failed (rolled back) or the lock is held, 3 a host unreachable, 64 input error, 130 interrupted.') as never,
  handler: async (args) => {
    process.exitCode = await runDeploy('deploy', args)
  },
}
