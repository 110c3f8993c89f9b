/**
 * One worker thread of `--workers N` (run-workers.ts): loads the playbook and
 * inventory itself (functions do not cross threads), runs the play over its
 * own hosts with its own connections, and posts its events (in batches, one
 * message per turn of its event loop) and its recap to the main thread.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { loadPlaybook } from './load-playbook.ts'
import { loadInventory } from '../inventory/load.ts'
import { bindPlaybook } from '../engine/play-hosts.ts'
import { runPlaybook } from '../engine/run.ts'
import type { MusterEvent } from '../engine/events.ts'
import { ConnectionPool } from '../ssh/pool.ts'
import { UsageError } from '../core/errors.ts'
import { knownHostsMemoFile, parseExtraVars, saveKnownHostsMemo } from './run-command.ts'
import { rememberHashedLines } from '../ssh/host-key-check.ts'
import type { MainMessage, WorkerMessage, WorkerTask } from './run-workers.ts'

const port = parentPort!
const task = workerData as WorkerTask
const abort = new AbortController()
port.on('message', (m: MainMessage) => {
  if (m.type === 'abort') abort.abort(m.reason)
})

let pending: MusterEvent[] = []
let scheduled = false
const post = (m: WorkerMessage): void => port.postMessage(m)
const flush = (): void => {
  scheduled = false
  if (pending.length === 0) return
  post({ type: 'events', events: pending })
  pending = []
}
const onEvent = (e: MusterEvent): void => {
  pending.push(e)
  if (pending.length >= 256) flush()
  else if (!scheduled) {
    scheduled = true
    setImmediate(flush)
  }
}

async function main(): Promise<void> {
  const loaded = await loadPlaybook(task.playbook, { typecheck: false })
  const inventory = await loadInventory(task.inventory, { extraVars: parseExtraVars(task.extraVars) })
  const playbook = bindPlaybook(loaded, inventory)
  rememberHashedLines(knownHostsMemoFile())
  const pool = new ConnectionPool({ acceptNewHostKeys: false, connectTimeoutMs: task.timeoutSeconds * 1000 })
  try {
    const recap = await runPlaybook({
      playbook,
      playbookName: task.playbook,
      inventory,
      mode: task.mode,
      limit: new Set(task.hosts),
      limitLabel: `--workers (worker ${task.index + 1} of ${task.count})`,
      shard: { index: task.index, count: task.count, selected: task.selected },
      allowUnmatched: task.allowUnmatched,
      forks: task.forks,
      diff: task.diff,
      connect: (h) => pool.get(h),
      ...(task.probeTimeoutMs !== undefined ? { probeTimeoutMs: task.probeTimeoutMs } : {}),
      onEvent,
      signal: abort.signal,
      ...(task.stopBetweenResources ? { stopBetweenResources: true } : {}),
    })
    flush()
    await pool.closeAll()
    await saveKnownHostsMemo()
    post({ type: 'done', recap })
    port.close()
  } finally {
    await pool.closeAll()
  }
}

main().catch((e: unknown) => {
  flush()
  const err = e instanceof Error ? e : new Error(String(e))
  post({ type: 'error', message: err.message, usage: err instanceof UsageError, name: err.name })
  port.close()
})
