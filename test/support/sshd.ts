import { spawn, execFile, type ChildProcess } from 'node:child_process'
import { access, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

/**
 * A real OpenSSH sshd on 127.0.0.1 for tests: fresh host and client keys in a
 * temp dir, public-key login as the current user (root in CI), no PAM, no
 * passwords. Everything it needs lives in the temp dir, removed by stop().
 */

// MUSTER_TEST_SSHD points the suites at another binary: test/e2e/suite-hooks.test.ts
// names a missing one to see how every suite reports a failed set-up.
const SSHD = process.env.MUSTER_TEST_SSHD ?? '/usr/sbin/sshd'
const run = promisify(execFile)

export type HostKeyType = 'ed25519' | 'ecdsa' | 'rsa'

export interface SshdOptions {
  /** Host keys to generate and serve, in the order sshd offers them (default ['ed25519']). */
  hostKeyTypes?: HostKeyType[]
  /** Extra sshd_config lines (e.g. "MaxSessions 4"). */
  extraConfig?: string[]
  /**
   * Let bash source the login user's ~/.bashrc in every session, as Debian's
   * bash does for sshd sessions (default false). A developer's rc file (pyenv,
   * nvm) can cost ~100 ms per exec and would measure their machine, not muster.
   */
  sourceBashrc?: boolean
}

export interface Sshd {
  port: number
  host: '127.0.0.1'
  dir: string
  /** Private key (ed25519, no passphrase) whose public half is authorised. */
  clientKeyFile: string
  /** `[127.0.0.1]:PORT type key` for every host key. */
  knownHostsFile: string
  /** SHA256 fingerprint of the first host key, as `ssh-keygen -lf` prints it. */
  hostKeyFingerprint: string
  /** The `.pub` text of each host key, by type. */
  hostKeys: Record<string, { publicKey: string; fingerprint: string }>
  /** PID of the listening sshd (sessions run in children of their own). */
  pid: number
  /** Lines sshd wrote to stderr so far, for diagnosing a failing test. */
  log(): string
  stop(): Promise<void>
}

export async function startSshd(opts: SshdOptions = {}): Promise<Sshd> {
  try {
    await access(SSHD)
  } catch {
    throw new Error(`${SSHD} is missing: run \`npm test\` as root once (scripts/test-setup.sh installs it), or apt-get install openssh-server`)
  }
  // sshd's privilege separation chroots into this directory
  await mkdir('/run/sshd', { recursive: true, mode: 0o755 })
  const dir = await mkdtemp(join(tmpdir(), 'muster-sshd-'))
  try {
    const types = opts.hostKeyTypes ?? ['ed25519']
    const hostKeys: Sshd['hostKeys'] = {}
    const hostKeyFiles: string[] = []
    for (const t of types) {
      const file = join(dir, `ssh_host_${t}_key`)
      await run('ssh-keygen', ['-q', '-t', t, '-N', '', '-C', `muster-test-host-${t}`, '-f', file])
      const publicKey = (await readFile(`${file}.pub`, 'utf8')).trim()
      hostKeys[t] = { publicKey, fingerprint: await fingerprintOf(`${file}.pub`) }
      hostKeyFiles.push(file)
    }
    const clientKeyFile = join(dir, 'id_ed25519')
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'muster-test-client', '-f', clientKeyFile])
    await writeFile(join(dir, 'authorized_keys'), await readFile(`${clientKeyFile}.pub`), { mode: 0o600 })

    // bash reads ~/.bashrc under sshd only when SHLVL < 2: starting at 1 makes it 2.
    const extra = [...(opts.sourceBashrc ? [] : ['SetEnv SHLVL=1']), ...(opts.extraConfig ?? [])]
    const { child, port } = await listenOnFreePort(dir, hostKeyFiles, extra)
    const knownHostsFile = join(dir, 'known_hosts')
    const knownHosts = Object.values(hostKeys).map((k) => `[127.0.0.1]:${port} ${k.publicKey.split(/\s+/).slice(0, 2).join(' ')}\n`)
    await writeFile(knownHostsFile, knownHosts.join(''), { mode: 0o600 }).catch(async (e: unknown) => {
      await stopSshd(child)
      throw e
    })
    let stopped: Promise<void> | undefined
    return {
      port,
      host: '127.0.0.1',
      dir,
      clientKeyFile,
      knownHostsFile,
      hostKeyFingerprint: hostKeys[types[0]].fingerprint,
      hostKeys,
      pid: child.pid,
      log: () => child.stderr(),
      stop: () => (stopped ??= stopSshd(child).then(() => rm(dir, { recursive: true, force: true }))),
    }
  } catch (e) {
    await rm(dir, { recursive: true, force: true })
    throw e
  }
}

async function fingerprintOf(pubFile: string): Promise<string> {
  const { stdout } = await run('ssh-keygen', ['-l', '-E', 'sha256', '-f', pubFile])
  const m = /SHA256:[A-Za-z0-9+/]+/.exec(stdout)
  if (!m) throw new Error(`ssh-keygen -lf ${pubFile} printed no SHA256 fingerprint: ${stdout}`)
  return m[0]
}

interface RunningSshd {
  /** The shell that watches over sshd (see WATCHDOG). */
  watchdog: ChildProcess
  /** sshd itself. */
  pid: number
  stderr(): string
}

/** Pick a free port and start sshd on it; another process can take the port in between, so retry a few times. */
async function listenOnFreePort(dir: string, hostKeyFiles: string[], extra: string[]): Promise<{ child: RunningSshd; port: number }> {
  let lastError: Error | undefined
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort()
    const config = join(dir, 'sshd_config')
    await writeFile(
      config,
      [
        `Port ${port}`,
        'ListenAddress 127.0.0.1',
        ...hostKeyFiles.map((f) => `HostKey ${f}`),
        `PidFile ${join(dir, 'sshd.pid')}`,
        `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
        'StrictModes no',
        'UsePAM no',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'PubkeyAuthentication yes',
        'PermitRootLogin prohibit-password',
        'Subsystem sftp internal-sftp',
        'LogLevel INFO', // INFO prints "Server listening on", which says it is ready
        ...extra,
      ].join('\n') + '\n',
    )
    try {
      return { child: await spawnSshd(config, port), port }
    } catch (e) {
      lastError = e as Error
      if (!/Address already in use/.test(lastError.message)) throw lastError
    }
  }
  throw lastError
}

/**
 * sshd runs under a small shell that holds our end of a pipe: if the test
 * process dies without stop() (killed by a CI timeout, say), the pipe closes
 * and the shell takes sshd down, instead of leaving a listener behind.
 * It prints sshd's PID first, so stop() can signal sshd itself.
 */
const WATCHDOG = `exec 3<&0
"$0" -D -e -f "$1" </dev/null &
pid=$!
echo "$pid"
( read _ <&3; kill "$pid" 2>/dev/null ) &
wait "$pid"`

function spawnSshd(config: string, port: number): Promise<RunningSshd> {
  return new Promise((resolve, reject) => {
    // -D: stay in the foreground (a child of the watchdog); -e: log to stderr.
    const watchdog = spawn('/bin/sh', ['-c', WATCHDOG, SSHD, config], { stdio: ['pipe', 'pipe', 'pipe'] })
    let stderr = ''
    let stdout = ''
    let done = false
    const settle = (err?: Error): void => {
      if (done) return
      done = true
      clearTimeout(timer)
      if (err) {
        watchdog.stdin!.end() // the watchdog stops sshd if it is still up
        return reject(err)
      }
      resolve({ watchdog, pid: Number(stdout.trim().split('\n')[0]), stderr: () => stderr })
    }
    const timer = setTimeout(() => settle(new Error(`sshd did not listen on port ${port} within 10 s: ${stderr.trim()}`)), 10_000)
    const ready = (): void => {
      if (/^\d+\n/.test(stdout) && /Server listening on 127\.0\.0\.1 port \d+/.test(stderr)) settle()
    }
    watchdog.stdout!.setEncoding('utf8')
    watchdog.stdout!.on('data', (d: string) => {
      stdout += d
      ready()
    })
    watchdog.stderr!.setEncoding('utf8')
    watchdog.stderr!.on('data', (d: string) => {
      stderr += d
      ready()
    })
    watchdog.once('error', (e) => settle(e))
    watchdog.once('exit', (code, signal) => settle(new Error(`sshd exited (${code ?? signal}) before listening on port ${port}: ${stderr.trim()}`)))
  })
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address()
      const port = typeof addr === 'object' && addr ? addr.port : 0
      srv.close(() => resolve(port))
    })
  })
}

/** SIGTERM sshd by its PID and wait for it to exit (SIGKILL after 5 s); then release the watchdog. */
function stopSshd(sshd: RunningSshd): Promise<void> {
  const { watchdog } = sshd
  if (watchdog.exitCode !== null || watchdog.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    // the watchdog's `wait` returns when sshd has exited; then it exits too
    const force = setTimeout(() => signal(sshd.pid, 'SIGKILL'), 5_000)
    watchdog.once('exit', () => {
      clearTimeout(force)
      resolve()
    })
    signal(sshd.pid, 'SIGTERM')
    watchdog.stdin!.end()
  })
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e // already gone is fine
  }
}

/** The same handle under the name other tests import. */
export type SshdHandle = Sshd
