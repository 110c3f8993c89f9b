import { LocalConnection } from '../../src/ssh/local-connection.ts'
import type { Connection, ExecOptions, ExecResult } from '../../src/ssh/connection.ts'
import { runPlaybook } from '../../src/engine/run.ts'
import { loadPlaybook } from '../../src/cli/load-playbook.ts'
import { loadInventory } from '../../src/inventory/load.ts'
import type { Mode, Recap } from '../../src/engine/events.ts'

/**
 * The controller's own machine, with the bench's fake `systemctl` first on
 * PATH: muster applies the fleet playbook here once (paths under a scratch
 * root), so the probe outputs the simulated hosts replay are those of a
 * really converged host.
 */
class ShimmedLocalConnection implements Connection {
  readonly #inner: LocalConnection
  constructor(
    readonly host: string,
    private readonly shimDir: string,
  ) {
    this.#inner = new LocalConnection(host)
  }

  get stats() {
    return this.#inner.stats
  }

  exec(command: string, opts?: ExecOptions): Promise<ExecResult> {
    return this.#inner.exec(`PATH='${this.shimDir}':"$PATH"; export PATH\n${command}`, opts)
  }

  put(content: Buffer | string, remotePath: string, opts?: { mode?: number }): Promise<void> {
    return this.#inner.put(content, remotePath, opts)
  }

  get(remotePath: string): Promise<Buffer> {
    return this.#inner.get(remotePath)
  }

  close(): Promise<void> {
    return this.#inner.close()
  }
}

export async function runLocally(playbookFile: string, inventoryFile: string, shimDir: string, mode: Mode): Promise<Recap> {
  const [playbook, inventory] = await Promise.all([loadPlaybook(playbookFile, { typecheck: false }), loadInventory(inventoryFile)])
  const errors: string[] = []
  const recap = await runPlaybook({
    playbook,
    playbookName: playbookFile,
    inventory,
    mode,
    forks: 1,
    diff: false,
    connect: async (h) => new ShimmedLocalConnection(h.name, shimDir),
    onEvent: (e) => {
      if (e.type === 'host:failed' || e.type === 'host:unreachable') errors.push(e.message)
    },
  })
  if (errors.length > 0) throw new Error(`converging the local root failed: ${errors.join('; ')}`)
  return recap
}
