import type { InventorySpec } from '../inventory/types.ts'
import type { Playbook, Role } from '../engine/playbook.ts'
import type { Vars } from '../inventory/types.ts'
import type { LabSuite } from '../lab/suite.ts'

/**
 * One check on one host, run in that host's single verify script (one round
 * trip per host): `shell` prints what was seen, `judge` turns its output and
 * exit code into undefined (held) or what was seen instead.
 */
export interface Assertion {
  /** The host it runs on, or undefined for the controller (http from here). */
  host: string | undefined
  /** What must hold, for the report: "package nginx installed". */
  expected: string
  /** A shell snippet run on the host (stdout and exit code go to `judge`). */
  shell?: string
  /** Controller-side check instead of a shell snippet. */
  local?: () => Promise<string | undefined>
  /** undefined when it held, else what was seen. */
  judge: (stdout: string, code: number) => string | undefined
}

const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`
const held = (ok: boolean, seen: string): string | undefined => (ok ? undefined : seen)

/** Assertions on one host, for a scenario's `verify`: `h.package('nginx').installed`. */
export interface HostAssertions {
  readonly name: string
  package(name: string): { installed: Assertion; absent: Assertion; version(prefix: string): Assertion }
  service(name: string): { running: Assertion; enabled: Assertion; stopped: Assertion }
  file(path: string): { exists: Assertion; absent: Assertion; mode(mode: string): Assertion; owner(user: string): Assertion; contains(text: string): Assertion }
  port(port: number): { listening: Assertion }
  user(name: string): { exists: Assertion }
  command(cmd: string): { exitCode(code: number): Assertion; stdoutContains(text: string): Assertion }
  /** An HTTP GET from this host (curl on the host): status, and optionally a body substring. */
  http(url: string): { status(code: number, bodyContains?: string): Assertion }
}

/** The assertion builders for host `name`. */
export function hostAssertions(name: string): HostAssertions {
  const a = (expected: string, shell: string, judge: Assertion['judge']): Assertion => ({ host: name, expected, shell, judge })
  return {
    name,
    package: (p) => {
      const shell = `dpkg-query -W -f '\${db:Status-Status} \${Version}' ${q(p)} 2>/dev/null || echo absent`
      return {
        installed: a(`package ${p} installed`, shell, (o) => held(o.startsWith('installed '), o.trim() || 'absent')),
        absent: a(`package ${p} absent`, shell, (o) => held(!o.startsWith('installed '), o.trim())),
        version: (v) => a(`package ${p} version ${v}*`, shell, (o) => held(o.startsWith(`installed ${v}`), o.trim())),
      }
    },
    service: (s) => ({
      running: a(`service ${s} running`, `systemctl is-active ${q(s)}`, (o) => held(o.trim() === 'active', o.trim())),
      stopped: a(`service ${s} stopped`, `systemctl is-active ${q(s)}`, (o) => held(o.trim() !== 'active', o.trim())),
      enabled: a(`service ${s} enabled`, `systemctl is-enabled ${q(s)}`, (o) => held(o.trim() === 'enabled', o.trim())),
    }),
    file: (f) => ({
      exists: a(`file ${f} exists`, `test -e ${q(f)} && echo present || echo absent`, (o) => held(o.trim() === 'present', o.trim())),
      absent: a(`file ${f} absent`, `test -e ${q(f)} && echo present || echo absent`, (o) => held(o.trim() === 'absent', o.trim())),
      mode: (m) => a(`file ${f} mode ${m}`, `stat -c %a ${q(f)} 2>&1`, (o) => held(o.trim().padStart(4, '0') === m.padStart(4, '0'), `mode ${o.trim().padStart(4, '0')}`)),
      owner: (u) => a(`file ${f} owner ${u}`, `stat -c %U ${q(f)} 2>&1`, (o) => held(o.trim() === u, `owner ${o.trim()}`)),
      contains: (t) => a(`file ${f} contains ${JSON.stringify(t)}`, `grep -cF -- ${q(t)} ${q(f)} 2>&1`, (o, c) => held(c === 0, c === 1 ? 'no such text' : o.trim())),
    }),
    port: (p) => ({
      listening: a(`port ${p} listening`, `ss -Hltn 'sport = :${p}'`, (o) => held(o.trim() !== '', 'nothing listens')),
    }),
    user: (u) => ({ exists: a(`user ${u} exists`, `getent passwd ${q(u)} || echo absent`, (o) => held(o.trim() !== 'absent', 'no such user')) }),
    command: (cmd) => ({
      exitCode: (n) => a(`command ${JSON.stringify(cmd)} exits ${n}`, cmd, (o, c) => held(c === n, `exit ${c}${o.trim() ? `: ${o.trim().slice(0, 200)}` : ''}`)),
      stdoutContains: (t) => a(`command ${JSON.stringify(cmd)} prints ${JSON.stringify(t)}`, cmd, (o) => held(o.includes(t), JSON.stringify(o.trim().slice(0, 200)))),
    }),
    http: (url) => ({
      status: (code, body) =>
        a(`http ${url} status ${code}${body ? ` with body containing ${JSON.stringify(body)}` : ''}`, `curl -s -m 5 -o /tmp/.muster-test-body -w '%{http_code}' ${q(url)}; echo; cat /tmp/.muster-test-body 2>/dev/null`, (o) => {
          const [status = '', ...rest] = o.split('\n')
          const text = rest.join('\n')
          if (status.trim() !== String(code)) return `status ${status.trim() || 'none'}`
          return body && !text.includes(body) ? `body without ${JSON.stringify(body)}` : undefined
        }),
    }),
  }
}

/** An HTTP GET from the controller: status, and optionally a body substring. */
export function controllerHttp(url: string, code: number, bodyContains?: string): Assertion {
  return {
    host: undefined,
    expected: `http ${url} (from the controller) status ${code}${bodyContains ? ` with body containing ${JSON.stringify(bodyContains)}` : ''}`,
    local: async () => {
      try {
        const r = await fetch(url, { signal: AbortSignal.timeout(5000) })
        const text = await r.text()
        if (r.status !== code) return `status ${r.status}`
        return bodyContains && !text.includes(bodyContains) ? `body without ${JSON.stringify(bodyContains)}` : undefined
      } catch (e) {
        return `no answer: ${e instanceof Error ? e.message : String(e)}`
      }
    },
    judge: () => undefined,
  }
}

/**
 * Something done to a host between converge and the second check, that check
 * must find and apply must undo: `sideEffects.stopService('web-01', 'nginx')`.
 * Either a shell command run on the host, or (lab hosts only) something the
 * lab does to the host from outside: `kill` (every process on it ends, as in
 * a power cut) or `cut` (its network link goes down). After those, check must
 * find the host unreachable (exit 3); the lab then brings it back (boots it
 * from its disk, or plugs its link in again) and apply must converge it.
 */
export interface SideEffect {
  host: string
  /** For the report: "stop nginx". */
  name: string
  /** The shell command that does it, run as the scenario's user on the host. */
  shell?: string
  /** Done by the lab to the host instead: `kill` it or `cut` it off the network. */
  lab?: 'kill' | 'cut'
}

/** Ready-made side effects. */
export const sideEffects = {
  /** `systemctl stop UNIT`. */
  stopService: (host: string, unit: string): SideEffect => ({ host, name: `stop ${unit}`, shell: `systemctl stop ${q(unit)}` }),
  /** Delete a file. */
  deleteFile: (host: string, path: string): SideEffect => ({ host, name: `delete ${path}`, shell: `rm -f ${q(path)}` }),
  /** Append a line to a file. */
  editFile: (host: string, path: string, line = '# edited by muster test'): SideEffect => ({ host, name: `edit ${path}`, shell: `printf '%s\\n' ${q(line)} >> ${q(path)}` }),
  /** Change a file's mode. */
  chmod: (host: string, path: string, mode: string): SideEffect => ({ host, name: `chmod ${mode} ${path}`, shell: `chmod ${mode} ${q(path)}` }),
  /** `apt-get remove` a package (its config stays, as a person's removal would leave it). */
  removePackage: (host: string, pkg: string): SideEffect => ({ host, name: `remove package ${pkg}`, shell: `DEBIAN_FRONTEND=noninteractive apt-get remove -y -q ${q(pkg)} >/dev/null` }),
  /**
   * Kill a lab host (every process on it, sshd and systemd too, as a power
   * cut would): check must report it unreachable; the lab boots it again from
   * its disk and apply must converge it. Lab hosts only.
   */
  killHost: (host: string): SideEffect => ({ host, name: 'kill the host', lab: 'kill' }),
  /**
   * Cut a lab host off the network (its link down; it runs on): check must
   * report it unreachable; the link is plugged in again and apply must
   * converge it. Lab hosts only.
   */
  cutNetwork: (host: string): SideEffect => ({ host, name: 'cut it off the network', lab: 'cut' }),
  /** Any shell command. */
  shell: (host: string, name: string, shell: string): SideEffect => ({ host, name, shell }),
}

/** The hosts a scenario runs on. */
export type ScenarioHosts =
  /** Lab host names (`muster lab up`), reset to bare before the run. */
  | { lab: readonly string[]; vars?: Vars; hostVars?: Record<string, Vars>; groups?: Record<string, readonly string[]> }
  /** A delegated run: an inventory of your own hosts (not reset; the scenario must converge them from whatever they hold). */
  | { inventory: InventorySpec }

/** What a scenario's `verify` is told about the run. */
export interface VerifyContext {
  /** The Debian release of the lab hosts (`trixie`, `bookworm`); undefined for a delegated inventory. */
  suite: LabSuite | undefined
}

/** A scenario: `export default defineScenario({...})` in a `*.scenario.ts` file. */
export interface Scenario {
  name: string
  hosts: ScenarioHosts
  /** The roles to converge on every host, with `vars` (or give `playbook`). */
  roles?: readonly Role[]
  /** A whole playbook instead of `roles`. */
  playbook?: Playbook
  /** Done after verify; check must find each, apply must fix it, verify must hold again. */
  sideEffects?: readonly SideEffect[]
  /**
   * What must hold on the converged hosts: `(h) => [h('web-01').service('nginx').running]`;
   * `ctx.suite` is the Debian release the lab hosts run (undefined for a delegated inventory).
   */
  verify?: (host: (name: string) => HostAssertions, ctx: VerifyContext) => readonly Assertion[]
  /**
   * The Debian releases to run on (lab hosts only): the scenario runs once on
   * each, reported with it. `muster test --suite` overrides it; without
   * either it runs on whatever the lab runs.
   */
  suites?: readonly LabSuite[]
  /**
   * How long verify asks again while an assertion fails (a unit restarted by a
   * handler may take a moment to listen): milliseconds, default 10000; 0 asks once.
   */
  verifyWithinMs?: number
}

/** Declares a scenario (typed; returns it unchanged). */
export function defineScenario(s: Scenario): Scenario {
  return s
}
