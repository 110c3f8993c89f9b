import { spawn } from 'node:child_process'
import { readFile, writeFile, chmod } from 'node:fs/promises'
import { emptyStats, CommandTimeoutError, type Connection, type ExecOptions, type ExecResult } from './connection.ts'

/**
 * Runs commands on the controller itself (inventory `connection: local`, and
 * tests of resources' apply against a temp directory).
 */
export class LocalConnection implements Connection {
  readonly stats = emptyStats()
  constructor(readonly host = 'localhost') {}

  exec(command: string, opts: ExecOptions = {}): Promise<ExecResult> {
    this.stats.execs++
    return new Promise((resolve, reject) => {
      // its own process group: a Ctrl-C on the terminal reaches muster, which lets the command finish
      const child = spawn('/bin/sh', ['-c', command], { stdio: ['pipe', 'pipe', 'pipe'], detached: true })
      const out: Buffer[] = []
      const err: Buffer[] = []
      let timer: NodeJS.Timeout | undefined
      if (opts.timeoutMs) {
        timer = setTimeout(() => {
          // the command's whole process group (it was started detached): what it started must not run on
          try {
            process.kill(-child.pid!, 'SIGKILL')
          } catch {
            child.kill('SIGKILL')
          }
          reject(new CommandTimeoutError(this.host, command, opts.timeoutMs!))
        }, opts.timeoutMs)
      }
      child.stdout.on('data', (d: Buffer) => out.push(d))
      child.stderr.on('data', (d: Buffer) => err.push(d))
      child.on('error', reject)
      child.on('close', (code, signal) => {
        if (timer) clearTimeout(timer)
        const stdout = Buffer.concat(out).toString('utf8')
        this.stats.bytesReceived += stdout.length
        resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr: Buffer.concat(err).toString('utf8') })
      })
      child.stdin.on('error', () => {}) // the command may exit without reading stdin; its exit code tells
      if (opts.stdin !== undefined) this.stats.bytesSent += opts.stdin.length
      child.stdin.end(opts.stdin ?? '')
    })
  }

  async put(content: Buffer | string, remotePath: string, opts: { mode?: number } = {}): Promise<void> {
    this.stats.sftpOps++
    this.stats.bytesSent += content.length
    await writeFile(remotePath, content)
    if (opts.mode !== undefined) await chmod(remotePath, opts.mode)
  }

  async get(remotePath: string): Promise<Buffer> {
    this.stats.sftpOps++
    return readFile(remotePath)
  }

  async close(): Promise<void> {}
}
