/** `npm run bench -- [--only stack|fleet|controller]... [--runs N] [...]`: what to run, and how often. */
export type BenchMode = 'stack' | 'fleet' | 'controller' | 'releases' | 'scenario' | 'floor'

export const BENCH_MODES: readonly BenchMode[] = ['stack', 'fleet', 'controller', 'releases', 'scenario', 'floor']

/** What runs without --only (the stack part measures the floor too). */
export const DEFAULT_MODES: readonly BenchMode[] = ['stack', 'fleet', 'controller', 'releases', 'scenario']

export interface BenchArgs {
  only: BenchMode[]
  runs: number
  /** Controller mode: simulated host counts. */
  sizes: number[]
  /** Controller mode: forks per run (default: the host count). */
  forks?: number
  knownHosts: 'plain' | 'hashed' | 'wildcard'
  /** Controller mode: server processes. */
  servers: number
  /** Controller mode: the shard figure's local processes (--shard K/N), beside one process, at the largest size. */
  shards: number
  port: number
  /** Fleet mode: lab hosts. */
  fleetHosts: number
  /** Controller mode: write a V8 CPU profile of every measured run here. */
  cpuProfileDir?: string
  /** Controller mode: `--workers` of each measured controller run (threads in one process). */
  workers: number
  /** Controller mode: which runs (default apply and check). */
  modes: ('apply' | 'check')[]
  /** Where the results JSON goes. */
  out?: string
  help: boolean
}

export class BenchUsageError extends Error {}

export const USAGE = `npm run bench -- [options]

  --only MODE        stack | fleet | controller | releases | scenario | floor; repeat or comma-separate
                     (default: all but floor; stack includes the floor: muster's converged check against a
                     minimal ssh2 client sending its probe scripts, in --runs pairs (at least 3), as a paired ratio)
  --runs N           runs of each tool per scenario (default 3; at least 3 for the report)
  --sizes A,B,...    controller mode: simulated host counts (default 10,100,500,1000; e.g. 1000,2000,5000,10000)
  --forks N          controller mode: forks (default: the host count)
  --known-hosts S    controller mode: plain | hashed (a line per host) | wildcard (one line) (default plain)
  --servers N        controller mode: processes playing the hosts (default 1; more past 4000 hosts)
  --shards N         controller and fleet: also check (the largest size; the fleet) as N local shard processes (default 2; 1: off)
  --port N           controller mode: the simulated hosts' SSH port (default 46022)
  --cpu-prof DIR     controller mode: a V8 CPU profile of every measured controller run, into DIR,
                     summarised by self time (where the time goes) on stderr and in the results
  --workers N        controller mode: the controller's --workers (threads in its one process; default 1)
  --modes M,...      controller mode: apply, check or both (default apply,check)
  --hosts A,B,...    controller mode: the same as --sizes
  --fleet-hosts N    fleet mode: lab hosts (default 50)
  --out FILE         results JSON (default bench/results/latest.json)

stack and fleet boot a lab of their own (root; Debian 13 unless MUSTER_LAB_SUITE=bookworm):
MUSTER_LAB_ID, default 7, so the lab the tests use is left alone. releases converges the stack
on Debian 13 and then on Debian 12 in that lab and times muster's no-change apply and converged
check on each, side by side. scenario times muster test of roles/nginx's scenario on one
warm lab host (issue 17's figure: under 15 s). controller needs no lab.`

export function parseBenchArgs(argv: readonly string[]): BenchArgs {
  const args: BenchArgs = { only: [], runs: 3, sizes: [10, 100, 500, 1000], knownHosts: 'plain', servers: 1, shards: 2, port: 46022, fleetHosts: 50, workers: 1, modes: ['apply', 'check'], help: false }
  const positive = (flag: string, v: string | undefined): number => {
    const n = Number(v)
    if (!Number.isInteger(n) || n < 1) throw new BenchUsageError(`${flag} takes a whole number >= 1, got ${JSON.stringify(v)}`)
    return n
  }
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i]!.includes('=') ? (argv[i]!.split(/=(.*)/s, 2) as [string, string]) : [argv[i]!, undefined]
    const value = (): string => {
      const v = inline ?? argv[++i]
      if (v === undefined) throw new BenchUsageError(`${flag} needs a value`)
      return v
    }
    switch (flag) {
      case '--only':
        for (const m of value().split(',')) {
          if (!BENCH_MODES.includes(m as BenchMode)) throw new BenchUsageError(`--only takes ${BENCH_MODES.join(', ')}, got "${m}"`)
          if (!args.only.includes(m as BenchMode)) args.only.push(m as BenchMode)
        }
        break
      case '--runs':
        args.runs = positive(flag, value())
        break
      case '--sizes':
      case '--hosts':
        args.sizes = value().split(',').map((s) => positive(flag, s))
        break
      case '--forks':
        args.forks = positive(flag, value())
        break
      case '--known-hosts': {
        const v = value()
        if (v !== 'plain' && v !== 'hashed' && v !== 'wildcard') throw new BenchUsageError(`--known-hosts takes plain, hashed or wildcard, got "${v}"`)
        args.knownHosts = v
        break
      }
      case '--servers':
        args.servers = positive(flag, value())
        break
      case '--shards':
        args.shards = positive(flag, value())
        break
      case '--port':
        args.port = positive(flag, value())
        break
      case '--fleet-hosts':
        args.fleetHosts = positive(flag, value())
        break
      case '--workers':
        args.workers = positive(flag, value())
        break
      case '--modes': {
        const ms = value().split(',')
        for (const m of ms) if (m !== 'apply' && m !== 'check') throw new BenchUsageError(`--modes takes apply and/or check, got "${m}"`)
        args.modes = ms as ('apply' | 'check')[]
        break
      }
      case '--cpu-prof':
        args.cpuProfileDir = value()
        break
      case '--out':
        args.out = value()
        break
      case '--help':
      case '-h':
        args.help = true
        break
      default:
        throw new BenchUsageError(`unknown option ${flag}`)
    }
  }
  if (args.only.length === 0) args.only = [...DEFAULT_MODES]
  return args
}
