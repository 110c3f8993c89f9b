import type { CommandModule } from 'yargs'
import { loadInventory } from '../../inventory/load.ts'
import { selectHosts } from '../../inventory/patterns.ts'
import { ConnectionPool } from '../../ssh/pool.ts'
import { gatherFacts } from '../../engine/host-facts.ts'
import { ExitCode } from '../../core/errors.ts'
import { probeTimeoutMs, probeTimeoutOption } from './run-options.ts'

interface FactsArgs {
  host: string
  inventory: string
  acceptNewHostKeys: boolean
  timeout: number
  probeTimeout?: number
}

export const factsCommand: CommandModule<object, FactsArgs> = {
  command: 'facts <host>',
  describe: 'Print the facts muster gathers about hosts (JSON), as roles see them in ctx.facts',
  builder: (y) =>
    y
      .positional('host', { type: 'string', demandOption: true, describe: 'host name or pattern' })
      .option('inventory', { alias: 'i', type: 'string', demandOption: true, describe: 'inventory file' })
      .option('accept-new-host-keys', { type: 'boolean', default: false, describe: 'record unknown host keys' })
      .option('timeout', { type: 'number', default: 10, describe: 'seconds to connect' })
      .option('probe-timeout', probeTimeoutOption)
      .example('$0 facts web-01 -i inventory/lab.ts', "web-01's facts") as never,
  handler: async (args) => {
    const probeMs = probeTimeoutMs(args) // a bad --probe-timeout is a usage error before anything connects
    const inv = await loadInventory(args.inventory)
    const names = selectHosts(inv, args.host)
    const pool = new ConnectionPool({ acceptNewHostKeys: args.acceptNewHostKeys, connectTimeoutMs: args.timeout * 1000 })
    const out: Record<string, unknown> = {}
    let bad = 0
    try {
      for (const name of names) {
        try {
          out[name] = await gatherFacts(await pool.get(inv.hosts.get(name)!), probeMs)
        } catch (err) {
          bad++
          out[name] = { unreachable: (err as Error).message }
        }
      }
    } finally {
      await pool.closeAll()
    }
    console.log(JSON.stringify(names.length === 1 ? out[names[0]!] : out, null, 2))
    process.exitCode = bad ? ExitCode.unreachable : ExitCode.ok
  },
}
