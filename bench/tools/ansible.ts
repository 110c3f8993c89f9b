/**
 * Ansible as a user runs it: `ansible-playbook <playbook>` in the generated
 * project, a new process each time, each run with its own ControlPath
 * directory so it opens its own SSH connections as muster does (with
 * ControlPersist a run would otherwise inherit the previous run's masters).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runTimed } from '../lib/proc.ts'
import type { ToolRun } from './muster.ts'

export interface AnsibleRunOptions {
  dir: string
  playbook: string
  check: boolean
  /** host name -> address, to attribute `-vvv` EXEC lines. */
  addresses: Record<string, string>
  /** Run with -vvv and count SSH executions per host (slower: only for counting, never timed). */
  countExecs?: boolean
  /** Only these hosts (`--limit`). */
  limit?: string
  timeoutMs?: number
}

/** Debian's ansible package, installed when missing. Returns `ansible-playbook --version`'s first line. */
export async function ensureAnsible(log: (l: string) => void): Promise<string> {
  const have = await runTimed('sh', ['-c', 'command -v ansible-playbook'])
  if (have.code !== 0) {
    log('ansible: not installed; apt-get install -y ansible (Debian\'s package)')
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
    let inst = await runTimed('apt-get', ['install', '-y', '-q', 'ansible'], { env, timeoutMs: 20 * 60_000 })
    if (inst.code !== 0) {
      await runTimed('apt-get', ['update', '-q'], { env, timeoutMs: 10 * 60_000 })
      inst = await runTimed('apt-get', ['install', '-y', '-q', 'ansible'], { env, timeoutMs: 20 * 60_000 })
    }
    if (inst.code !== 0) throw new Error(`apt-get install ansible failed:\n${inst.stderr.slice(-2000)}`)
  }
  const v = await runTimed('ansible-playbook', ['--version'])
  return v.stdout.split('\n')[0]!.trim()
}

export interface AnsibleRecap {
  ok: number
  changed: number
  unreachable: number
  failed: number
  skipped: number
}

export function parseAnsibleRecap(stdout: string): Record<string, AnsibleRecap> {
  const at = stdout.lastIndexOf('PLAY RECAP')
  const out: Record<string, AnsibleRecap> = {}
  if (at < 0) return out
  for (const line of stdout.slice(at).split('\n')) {
    const m = /^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)\s+skipped=(\d+)/.exec(line)
    if (m) out[m[1]!] = { ok: +m[2]!, changed: +m[3]!, unreachable: +m[4]!, failed: +m[5]!, skipped: +m[6]! }
  }
  return out
}

/** `<10.77.0.11> SSH: EXEC ssh ...` and `... EXEC sftp ...`: one per SSH session Ansible opens. */
export function countExecLines(stdout: string, addresses: Record<string, string>): Record<string, number> {
  const byAddress = new Map(Object.entries(addresses).map(([h, a]) => [a, h]))
  const out: Record<string, number> = Object.fromEntries(Object.keys(addresses).map((h) => [h, 0]))
  for (const m of stdout.matchAll(/^<([^>]+)> SSH: EXEC /gm)) {
    const host = byAddress.get(m[1]!) ?? m[1]!
    out[host] = (out[host] ?? 0) + 1
  }
  return out
}

export async function runAnsible(o: AnsibleRunOptions): Promise<ToolRun & { recap: Record<string, AnsibleRecap> }> {
  const control = mkdtempSync(join(tmpdir(), 'bench-ansible-cp-'))
  try {
    const args = [o.playbook, ...(o.check ? ['--check'] : []), ...(o.countExecs ? ['-vvv'] : []), ...(o.limit ? ['--limit', o.limit] : [])]
    const res = await runTimed('ansible-playbook', args, {
      cwd: o.dir,
      env: { ...process.env, ANSIBLE_CONFIG: join(o.dir, 'ansible.cfg'), ANSIBLE_SSH_CONTROL_PATH_DIR: control, ANSIBLE_FORCE_COLOR: '0', ANSIBLE_NOCOLOR: '1' },
      timeoutMs: o.timeoutMs ?? 30 * 60_000,
    })
    const recap = parseAnsibleRecap(res.stdout)
    const run: ToolRun & { recap: Record<string, AnsibleRecap> } = { tool: 'ansible', wallMs: res.wallMs, code: res.code, changed: {}, failed: {}, unreachable: [], problems: [], recap }
    for (const [h, r] of Object.entries(recap)) {
      run.changed[h] = r.changed
      run.failed[h] = r.failed
      if (r.unreachable) run.unreachable.push(h)
    }
    if (o.countExecs) run.execs = countExecLines(res.stdout, o.addresses)
    if (res.code !== 0 || Object.keys(recap).length === 0) {
      run.problems.push(`exit ${res.code}`)
      run.tail = [...res.stdout.split('\n').filter((l) => /fatal:|FAILED|ERROR/.test(l)).slice(0, 15), ...res.stderr.split('\n').slice(-10)].join('\n')
    }
    return run
  } finally {
    // the masters of this run end with it
    await runTimed('sh', ['-c', `for s in "${control}"/*; do [ -S "$s" ] && ssh -o ControlPath="$s" -O exit dummy 2>/dev/null; done; true`])
    rmSync(control, { recursive: true, force: true })
  }
}
