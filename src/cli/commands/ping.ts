import type { CommandModule } from 'yargs'
import { loadInventory } from '../../inventory/load.ts'
import { selectHosts } from '../../inventory/patterns.ts'
import { ConnectionPool } from '../../ssh/pool.ts'
import { ExitCode } from '../../core/errors.ts'

interface PingArgs {
  pattern: string
  inventory: string
  json: boolean
  acceptNewHostKeys: boolean
  timeout: number
}

export const pingCommand: CommandModule<object, PingArgs> = {
  command: 'ping [pattern]',
  describe: 'Connect to hosts and run `true`: checks address, key, host key and sudo',
  builder: (y) =>
    y
      .positional('pattern', { type: 'string', default: 'all', describe: 'host pattern' })
      .option('inventory', { alias: 'i', type: 'string', demandOption: true, describe: 'inventory file' })
      .option('json', { type: 'boolean', default: false })
      .option('accept-new-host-keys', { type: 'boolean', default: false, describe: 'record unknown host keys' })
      .option('timeout', { type: 'number', default: 10, describe: 'seconds to connect' })
      .example('$0 ping -i inventory/lab.ts', 'every host') as never,
  handler: async (args) => {
    const inv = await loadInventory(args.inventory)
    const names = selectHosts(inv, args.pattern)
    const pool = new ConnectionPool({ acceptNewHostKeys: args.acceptNewHostKeys, connectTimeoutMs: args.timeout * 1000 })
    let bad = 0
    try {
      await Promise.all(
        names.map(async (name) => {
          const started = Date.now()
          try {
            const conn = await pool.get(inv.hosts.get(name)!)
            const res = await conn.exec('true')
            if (res.code !== 0) throw new Error(`\`true\` exited ${res.code}: ${res.stderr.trim()}`)
            const ms = Date.now() - started
            console.log(args.json ? JSON.stringify({ host: name, ok: true, ms }) : `${name}  pong  ${ms} ms`)
          } catch (err) {
            bad++
            const msg = (err as Error).message
            console.log(args.json ? JSON.stringify({ host: name, ok: false, error: msg }) : `${name}  UNREACHABLE  ${msg}`)
          }
        }),
      )
    } finally {
      await pool.closeAll()
    }
    process.exitCode = bad ? ExitCode.unreachable : ExitCode.ok
  },
}
