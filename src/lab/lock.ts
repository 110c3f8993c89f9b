import { mkdirSync, openSync, closeSync, readFileSync, rmSync, writeSync } from 'node:fs'
import { dirname } from 'node:path'
import { labFiles } from './layout.ts'
import { LabError } from './errors.ts'
import { isAlive, sleep, startTime } from './processes.ts'

/**
 * One lab command at a time on a machine: two `up`s racing would stack
 * hosts. Across processes, a lock file holds the owner's PID (a lock whose
 * owner died is taken over); within a process, calls queue behind each other.
 */

let queue: Promise<unknown> = Promise.resolve()

export function withLabLock<T>(what: string, fn: () => Promise<T>, waitMs = 10 * 60_000): Promise<T> {
  const next = queue.then(() => withFileLock(what, fn, waitMs))
  queue = next.catch(() => undefined) // a failed call must not block the ones queued after it
  return next
}

async function withFileLock<T>(what: string, fn: () => Promise<T>, waitMs: number): Promise<T> {
  const file = labFiles.lock()
  mkdirSync(dirname(file), { recursive: true })
  const deadline = Date.now() + waitMs
  let emptySince: number | undefined
  for (;;) {
    try {
      const fd = openSync(file, 'wx')
      writeSync(fd, `${process.pid} ${startTime(process.pid)}\n`)
      closeSync(fd)
      break
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    }
    const text = readLockOwner(file)
    if (text === '' && Date.now() - (emptySince ??= Date.now()) < 2000) {
      await sleep(50) // its owner created it and has not written its PID yet
      continue
    }
    const [owner, started] = text.split(' ').map(Number)
    // a dead owner, or its PID now used by another process, or this very process after an interruption
    if (!isAlive(owner) || startTime(owner) !== started || owner === process.pid) {
      rmSync(file, { force: true })
      continue
    }
    if (Date.now() > deadline) {
      throw new LabError(`another lab command (pid ${owner}) is still running; gave up waiting to ${what}`, `wait for it, or remove ${file} if pid ${owner} is not muster`)
    }
    await sleep(200)
  }
  try {
    return await fn()
  } finally {
    rmSync(file, { force: true })
  }
}

function readLockOwner(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim()
  } catch {
    return '' // released between our open and this read: the next turn of the loop takes it
  }
}
