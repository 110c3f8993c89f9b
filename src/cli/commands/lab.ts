import { spawn } from 'node:child_process'
import type { Argv, CommandModule } from 'yargs'
import { ExitCode, UsageError } from '../../core/errors.ts'
import { labDown } from '../../lab/down.ts'
import { LabError, LabNotUpError } from '../../lab/errors.ts'
import { labFiles, upSpec } from '../../lab/layout.ts'
import { tool } from '../../lab/preflight.ts'
import { requireHost, requireState } from '../../lab/require-state.ts'
import { labReset } from '../../lab/reset.ts'
import { labStatus } from '../../lab/status.ts'
import { labUp, type LabHostReport } from '../../lab/up.ts'
import { labSuites, parseLabSuite, suiteRelease, type LabSuite } from '../../lab/suite.ts'

/** `muster lab ...`: the local fleet of Debian hosts the demo and the lab tests run against. */

const progress = (line: string): void => {
  process.stderr.write(`lab: ${line}\n`)
}
const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`

/** Lab failures are reported, not thrown: exit 1 with the message and its hint. Bad input still throws (exit 64). */
async function reportingLabErrors(fn: () => Promise<void>): Promise<void> {
  try {
    await fn()
  } catch (err) {
    if (err instanceof UsageError || !(err instanceof LabError || err instanceof LabNotUpError)) throw err
    process.stderr.write(`muster: ${err.message}\n`)
    process.exitCode = ExitCode.failed
  }
}

function printHosts(hosts: readonly LabHostReport[]): void {
  const width = Math.max(...hosts.map((h) => h.name.length))
  for (const h of hosts) {
    const how = h.action === 'kept' ? 'already up' : `booted in ${seconds(h.bootMs ?? 0)}, systemd ${h.system}${h.failed?.length ? ` (failed: ${h.failed.join(', ')})` : ''}`
    console.log(`  ${h.name.padEnd(width)}  ${h.address.padEnd(11)}  ${how}`)
  }
}

interface UpArgs {
  hosts?: number
  ha?: boolean
  suite?: string
}
const upCommand: CommandModule<object, UpArgs> = {
  command: 'up',
  describe: 'Boot the lab: bare Debian 13 (or 12) hosts with systemd and sshd, each in its own network namespace (as root)',
  builder: (y) =>
    y
      .option('hosts', { type: 'number', describe: 'how many hosts: 4 (default) is web-01 web-02 lb-01 db-03, any other N is node-01..node-NN' })
      .option('suite', { type: 'string', choices: [...labSuites], describe: 'the Debian release: trixie (13, the default) or bookworm (12); else MUSTER_LAB_SUITE, else the one running. Changing it boots every host afresh from that release\'s own cached base image' })
      .option('ha', { type: 'boolean', describe: 'the four and a second balancer lb-02: inventory/lab.ts then gives the site a floating address (lbVip) that keepalived moves to a live balancer' })
      .example('$0 lab up', 'the reference stack\'s four hosts')
      .example('$0 lab up --suite bookworm', 'the same four on Debian 12 (MUSTER_LAB_SUITE=bookworm does the same)')
      .example('$0 lab up --ha', 'five hosts, to try balancer failover (`lab up --hosts 4` goes back to four)')
      .example('$0 lab up --hosts 50', 'fifty hosts node-01..node-50 for a fleet-scale run')
      .epilogue('Builds the base image once per machine (debootstrap, about a minute), then boots in seconds. Running it again is a no-op (it keeps the hosts that are up: five after --ha); it brings back hosts that died and cleans what an earlier run left behind.') as never,
  handler: (args) =>
    reportingLabErrors(async () => {
      const suite: LabSuite | undefined = args.suite === undefined ? undefined : parseLabSuite(args.suite, '--suite')
      const r = await labUp({ hosts: upSpec(args), suite, log: progress })
      const booted = r.hosts.filter((h) => h.action === 'booted').length
      const release = `${suiteRelease[r.state.suite ?? 'bookworm']} (${r.state.suite ?? 'bookworm'})`
      console.log(`lab up: ${r.hosts.length} ${release} hosts (${booted} booted, ${r.hosts.length - booted} already up) in ${seconds(r.ms)}${r.baseBuilt ? ', base image built' : ''}`)
      printHosts(r.hosts)
      console.log(`key ${labFiles.clientKey()}, known_hosts ${labFiles.knownHosts()}`)
      console.log(`shell on a host: muster lab ssh ${r.hosts[0]?.name ?? 'HOST'}`)
    }),
}

const downCommand: CommandModule = {
  command: 'down',
  describe: 'Destroy the lab: every host\'s processes, mounts, namespaces and links, the bridge and the proxy',
  builder: (y) =>
    y
      .example('$0 lab down', 'remove the lab (the base image cache stays)')
      .epilogue('Also cleans after a failed or interrupted `lab up`. Running it again is a no-op.') as never,
  handler: () =>
    reportingLabErrors(async () => {
      const r = await labDown({ log: progress })
      console.log(r.removed.length ? `lab down: removed ${r.removed.join(' ')} in ${seconds(r.ms)}` : 'lab down: nothing to remove')
    }),
}

interface StatusArgs {
  json: boolean
}
const statusCommand: CommandModule<object, StatusArgs> = {
  command: 'status',
  describe: 'List the lab\'s hosts, their addresses and state (exit 3 when the lab is not up or a host is down)',
  builder: (y) =>
    y
      .option('json', { type: 'boolean', default: false, describe: 'print the status as JSON' })
      .example('$0 lab status', 'hosts, addresses, state')
      .example('$0 lab status --json', 'for scripts') as never,
  handler: (args) =>
    reportingLabErrors(async () => {
      const s = await labStatus()
      const healthy = s.up && s.hosts.every((h) => h.condition === 'running' || h.condition === 'degraded')
      process.exitCode = healthy ? ExitCode.ok : ExitCode.unreachable
      if (args.json) {
        console.log(JSON.stringify(s.up ? { ...s, ssh: { user: 'root', identityFile: labFiles.clientKey(), knownHosts: labFiles.knownHosts() } } : s, null, 2))
        return
      }
      if (s.unsupported) {
        console.log(`lab: cannot run here: ${s.unsupported}`)
        return
      }
      if (!s.up) {
        console.log(`lab: not up (${s.suite} base image ${s.base.ready ? 'cached' : 'not built yet'}); start it with \`muster lab up\``)
        return
      }
      console.log(`lab: ${s.hosts.length} hosts, ${suiteRelease[s.suite]} (${s.suite}); apt proxy ${s.proxy?.alive ? `running (pid ${s.proxy.pid})` : 'NOT running (run `lab up`)'}`)
      const width = Math.max(4, ...s.hosts.map((h) => h.name.length))
      console.log(`  ${'NAME'.padEnd(width)}  ADDRESS      STATE     PID      RELEASE`)
      for (const h of s.hosts) {
        const pid = h.condition === 'down' ? '-' : String(h.pid)
        console.log(`  ${h.name.padEnd(width)}  ${h.address.padEnd(11)}  ${h.condition.padEnd(8)}  ${pid.padEnd(7)}  ${h.release ?? '(disk not mounted)'}`)
      }
      // what an inventory of your own needs to reach them, host keys checked
      console.log(`key ${labFiles.clientKey()}, known_hosts ${labFiles.knownHosts()}; in an INI inventory:`)
      for (const h of s.hosts) console.log(`  ${h.name} ansible_host=${h.address}`)
      console.log(`  [all:vars]\n  ansible_user=root\n  ansible_ssh_private_key_file=${labFiles.clientKey()}\n  muster_known_hosts=${labFiles.knownHosts()}`)
    }),
}

interface SshArgs {
  host: string
  cmd?: string[]
}
const sshCommand: CommandModule<object, SshArgs> = {
  command: 'ssh <host> [cmd..]',
  describe: 'Open a root shell on a lab host, or run a command there (OpenSSH, host key checked against the lab\'s known_hosts)',
  builder: (y) =>
    y
      .positional('host', { type: 'string', demandOption: true, describe: 'lab host name' })
      .positional('cmd', { type: 'string', array: true, describe: 'command to run (put it after --)' })
      .example('$0 lab ssh web-01', 'interactive shell')
      .example('$0 lab ssh db-03 -- systemctl is-active mariadb', 'one command; its exit code is the exit code') as never,
  handler: (args) =>
    reportingLabErrors(async () => {
      const h = requireHost(requireState(), args.host)
      // words after `--` land in `_`, behind the command path ("lab", "ssh")
      const rest = (args as { _?: (string | number)[] })._ ?? []
      const command = [...(args.cmd ?? []), ...rest.slice(rest.indexOf('ssh') + 1)].map(String)
      const interactive = command.length === 0 && process.stdin.isTTY
      const argv = [
        '-i', labFiles.clientKey(),
        '-o', `UserKnownHostsFile=${labFiles.knownHosts()}`,
        '-o', 'StrictHostKeyChecking=yes',
        '-o', 'IdentitiesOnly=yes',
        '-o', 'LogLevel=ERROR',
        ...(interactive ? ['-t'] : []),
        `root@${h.address}`,
        ...(command.length ? ['--', ...command] : []),
      ]
      const code = await new Promise<number>((resolve, reject) => {
        const child = spawn(tool('ssh'), argv, { stdio: 'inherit' })
        child.on('error', reject)
        child.on('close', (c, signal) => resolve(c ?? (signal ? 128 : 1)))
      })
      process.exitCode = code
    }),
}

interface ResetArgs {
  hosts?: string[]
}
const resetCommand: CommandModule<object, ResetArgs> = {
  command: 'reset [hosts..]',
  describe: 'Give back bare hosts: throw away every change on them and boot them fresh (same names, addresses and host keys)',
  builder: (y) =>
    y
      .positional('hosts', { type: 'string', array: true, describe: 'hosts to reset (default: all)' })
      .example('$0 lab reset', 'every host bare again')
      .example('$0 lab reset web-01 lb-01', 'just these two') as never,
  handler: (args) =>
    reportingLabErrors(async () => {
      const started = Date.now()
      const reports = await labReset(args.hosts?.map(String), { log: progress })
      console.log(`lab reset: ${reports.length} hosts bare again in ${seconds(Date.now() - started)}`)
      printHosts(reports)
    }),
}

interface AptProxyArgs {
  config: string
}
/** Internal: the lab's apt proxy process, started detached by `lab up` (hidden from --help). */
const aptProxyCommand: CommandModule<object, AptProxyArgs> = {
  command: 'apt-proxy <config>',
  describe: false,
  builder: (y) => y.positional('config', { type: 'string', demandOption: true }) as never,
  handler: async (args) => {
    // loaded here, not at start: every other command would pay for node:http and node:dns
    const { createAptProxy } = await import('../../lab/apt-proxy.ts')
    const { readProxyConfig } = await import('../../lab/proxy.ts')
    return new Promise<void>((resolve, reject) => {
      const c = readProxyConfig(args.config)
      const log = (line: string): void => {
        process.stderr.write(`${new Date().toISOString()} ${line}\n`)
      }
      const server = createAptProxy({ ...c, log })
      server.on('error', reject)
      server.listen(c.port, c.host, () => {
        // it needs root only to be started by the lab; it serves as nobody
        if (process.getuid?.() === 0) {
          try {
            process.setgroups?.([]) // root's supplementary groups would outlive setgid
            process.setgid?.('nogroup')
            process.setuid?.('nobody')
          } catch (err) {
            // never serve the lab's hosts as root: fail, and lab up reports it with this log
            log(`cannot drop root to nobody:nogroup (${(err as Error).message}); stopping`)
            server.close()
            return reject(new LabError(`the apt proxy cannot run as nobody: ${(err as Error).message}`))
          }
        }
        log(`listening on ${c.host}:${c.port} for ${c.allow}`)
      })
      const stop = (): void => {
        server.close(() => resolve())
        server.closeAllConnections()
      }
      process.once('SIGTERM', stop)
      process.once('SIGINT', stop)
    })
  },
}

export const labCommand: CommandModule = {
  command: 'lab <command>',
  describe: 'A local fleet of real Debian 13 or 12 hosts (systemd + sshd) in network namespaces, for the demo and tests',
  builder: (y: Argv) =>
    y
      .command(upCommand)
      .command(downCommand)
      .command(statusCommand)
      .command(sshCommand)
      .command(resetCommand)
      .command(aptProxyCommand)
      .demandCommand(1, 'Name a lab command: up, down, status, ssh or reset.')
      .example('$0 lab up && $0 lab status', 'boot the four reference hosts and list them')
      .epilogue('Needs Linux and root. The lab lives in MUSTER_LAB_DIR (default /var/lib/muster/lab); its base image is cached in /var/cache/muster.'),
  handler: () => undefined,
}
