import { createHash } from 'node:crypto'
import { change, ok, resource, type Handler, type Plan, type Resource, type ResourceMeta } from '../contract/resource.ts'
import { shell, type ShellResult } from '../facts/shell.ts'
import { Secret } from '../core/secret.ts'

/** Options of `unitEnvironment()`: the handler that restarts the unit when its running environment differs, and the file named in summaries. */
export interface UnitEnvironmentOptions extends ResourceMeta {
  /** The handler that restarts the unit (the one its environment file notifies): queued when the running process has another environment. */
  restart: Handler
  /** The file the environment comes from, named in summaries (default "the environment file"). */
  file?: string
}

const UNIT = /^[A-Za-z0-9@_.:-]+\.service$/
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/
const DOWN = '#muster-not-running'
const SECRET_MARK = '#muster-secret'

/**
 * The environment a service's running process was started with, against the
 * one it should have. A changed environment file (a rotated password, a new
 * port) takes effect only at the next start, so a file in sync says nothing
 * about the process: this reads /proc/<MainPID>/environ, in the host's probe
 * batch. Plain values are compared as they are; a secret's value is hashed
 * on the host (sha256) and only the hash travels. A difference queues
 * `restart`, the unit's own restart handler, so a file change and a stale
 * process restart it once.
 */
export function unitEnvironment(unit: string, env: Record<string, string | number | Secret>, opts: UnitEnvironmentOptions): Resource {
  const id = `unit-environment:${unit}`
  if (!UNIT.test(unit)) throw new Error(`${id}: not a service unit name`)
  const names = Object.keys(env).sort()
  if (names.length === 0) throw new Error(`${id}: no variables to compare`)
  for (const n of names) if (!NAME.test(n)) throw new Error(`${id}: not an environment variable name: ${JSON.stringify(n)}`)
  const secrets = names.filter((n) => env[n] instanceof Secret)
  const plain = names.filter((n) => !(env[n] instanceof Secret))
  const { restart, file, ...meta } = opts
  return resource({
    id,
    type: 'unit-environment',
    probe: { live: shell(probeScript(unit, plain, secrets)) },
    plan: ({ live }) => planUnitEnvironment(unit, env, live, restart, file ?? 'the environment file'),
    meta,
  })
}

/**
 * Read-only: the plain variables as `NAME=value` lines, then each secret as
 * `#muster-secret NAME <sha256>` (its value stays in a shell variable and a
 * pipe, never in argv). A variable the process does not have prints nothing.
 */
export function probeScript(unit: string, plain: readonly string[], secrets: readonly string[]): string {
  const lines = [
    `pid=$(systemctl show -p MainPID --value ${unit} 2>/dev/null)`,
    `if [ -z "$pid" ] || [ "$pid" = 0 ] || [ ! -r "/proc/$pid/environ" ]; then echo '${DOWN}'; exit 0; fi`,
    // just started (Type=simple: systemctl returns after the fork), systemd's child is systemd-executor
    // (systemd 255+), then named "(node)" until it execs the service, its environ still systemd's own:
    // wait for that exec (up to 5 s), or the read says every variable is unset
    `n=0; while [ "$n" -lt 50 ] && case "$(cat "/proc/$pid/comm" 2>/dev/null)" in '('*|systemd-execut*) true;; *) false;; esac; do sleep 0.1; n=$((n + 1)); done`,
    `e=$(tr '\\0' '\\n' < "/proc/$pid/environ")`,
  ]
  if (plain.length > 0) lines.push(`printf '%s\\n' "$e" | grep -E '^(${plain.join('|')})=' || :`)
  for (const s of secrets) {
    // a pipe and a command substitution carry the value: no process has it in its argv
    lines.push(`case "\n$e" in *"\n${s}="*) printf '${SECRET_MARK} ${s} %s\\n' "$(printf '%s' "$(printf '%s\\n' "$e" | sed -n 's/^${s}=//p;T;q')" | sha256sum)";; esac`)
  }
  return lines.join('\n')
}

const sha256 = (s: string): string => createHash('sha256').update(s, 'utf8').digest('hex')

export function planUnitEnvironment(unit: string, env: Record<string, string | number | Secret>, live: ShellResult, restart: Handler, file: string): Plan {
  const out = live.stdout.split('\n').filter((l) => l !== '')
  // not running: starting it (the service resource) reads the file, which is compared on its own
  if (out[0] === DOWN) return ok(`${unit} is not running: it starts with ${file}`)
  const have = new Map<string, string>()
  for (const l of out) {
    if (l.startsWith(`${SECRET_MARK} `)) {
      const [, name = '', hash = ''] = l.split(' ')
      have.set(name, hash.slice(0, 64))
      continue
    }
    const at = l.indexOf('=')
    if (at > 0) have.set(l.slice(0, at), l.slice(at + 1))
  }
  const differs: string[] = []
  // (not localeCompare: its first call loads ICU's collator, tens of ms of every run, for ASCII names)
  for (const [name, want] of Object.entries(env).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const got = have.get(name)
    if (want instanceof Secret) {
      if (got !== sha256(want.reveal())) differs.push(`${name}: live ${got === undefined ? 'unset' : `differs from ${file}`} (a secret: not shown)`)
    } else if (got !== String(want)) {
      differs.push(`${name}: live ${got === undefined ? 'unset' : got}, ${file} ${String(want)}`)
    }
  }
  if (differs.length === 0) return ok(`${unit} runs with ${file}'s ${Object.keys(env).length} variables`)
  // nothing to do here: the restart handler (queued once, with the file's) starts it with the file
  return change(`${differs.join('; ')} (restart ${unit})`, async () => {}, { notify: [restart] })
}
