/**
 * Records a probe fixture: runs a fact kind's script for some keys on a real
 * host, exactly as the probe batch does (`sh -s`, LC_ALL=C, in a subshell),
 * and keeps its raw stdout and exit code under test/fixtures/probes/<kind>/
 * in the format of record-probes.ts: <name>.txt (raw stdout) and
 * <name>.meta.json (kind, keys, exit code, host, OS, when). It reaches lab
 * hosts with the OpenSSH client, so it needs nothing of muster's ssh layer.
 *
 *   npx tsx test/support/record-system-probes.ts apt-package bare -- nginx curl
 *   npx tsx test/support/record-system-probes.ts systemd-unit ssh-active \
 *     --ssh root@10.77.0.11 --identity /var/lib/muster/lab/id_ed25519 \
 *     --known-hosts /var/lib/muster/lab/known_hosts -- ssh.service
 *
 * Only read-only scripts are ever run: this is the same script a probe runs.
 */
import { spawn } from 'node:child_process'
import { mkdir, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import type { FactKind } from '../../src/contract/fact.ts'
import { aptPackageFact } from '../../src/facts/apt-package.ts'
import { aptCandidateFact } from '../../src/facts/apt-candidate.ts'
import { aptInstallableFact } from '../../src/facts/apt-installable.ts'
import { systemdUnitFact } from '../../src/facts/systemd-unit.ts'
import { userFact } from '../../src/facts/user.ts'
import { groupFact } from '../../src/facts/group.ts'
import { shellFact } from '../../src/facts/shell.ts'
import { pathFact, pathStatFact } from '../../src/facts/path.ts'
import { sysctlFact } from '../../src/facts/sysctl.ts'
import { authorizedKeysFact } from '../../src/facts/authorized-keys.ts'
import { localeFact } from '../../src/facts/locale.ts'
import { fileContentFact } from '../../src/facts/file-content.ts'
import { mountFact } from '../../src/facts/mount.ts'
import { procTableFact } from '../../src/facts/proc-table.ts'
import { swapSignatureFact } from '../../src/facts/swap-signature.ts'

const kinds: Record<string, FactKind<unknown>> = Object.fromEntries(
  [aptPackageFact, aptCandidateFact, aptInstallableFact, systemdUnitFact, userFact, groupFact, shellFact, pathFact, pathStatFact, sysctlFact, authorizedKeysFact, localeFact, fileContentFact, mountFact, procTableFact, swapSignatureFact].map((k) => [
    k.name,
    k as FactKind<unknown>,
  ]),
)

export const fixturesDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'probes')

export interface FixtureMeta {
  kind: string
  keys: string[]
  code: number
  host: string
  os: string
  recordedAt: string
  note?: string
  /** Edited by hand from a real recording (see README.md): re-record on a lab host. */
  derived?: boolean
}

function run(argv: string[], stdin: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] })
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout.on('data', (d: Buffer) => out.push(d))
    child.stderr.on('data', (d: Buffer) => err.push(d))
    child.on('error', reject)
    child.on('close', (code) =>
      resolve({ code: code ?? 1, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }),
    )
    // a command that never reads stdin (hostname) closes it early; its exit code tells the story
    child.stdin.on('error', () => {})
    child.stdin.end(stdin)
  })
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      ssh: { type: 'string' },
      identity: { type: 'string' },
      'known-hosts': { type: 'string' },
      note: { type: 'string' },
    },
  })
  const [kindName, name, ...keys] = positionals
  const kind = kindName ? kinds[kindName] : undefined
  if (!kind || !name || keys.length === 0) {
    console.error(`usage: record-system-probes.ts <${Object.keys(kinds).join('|')}> <fixture-name> [--ssh user@host ...] -- key...`)
    process.exit(64)
  }
  if (!kind.coalesce && keys.length !== 1) throw new Error(`${kind.name} takes one key per fixture`)
  // the marker lets us split the fragment's own exit code from its stdout, as the probe batch does
  const marker = '__muster_record_end__'
  const script = `export LC_ALL=C\n(\n${kind.script(keys)}\n)\nprintf '\\n%s %s\\n' '${marker}' "$?"\n`
  const argv = values.ssh
    ? [
        'ssh',
        '-o',
        'BatchMode=yes',
        ...(values.identity ? ['-i', values.identity] : []),
        ...(values['known-hosts'] ? ['-o', `UserKnownHostsFile=${values['known-hosts']}`] : []),
        values.ssh,
        'sh -s',
      ]
    : ['sh', '-s']
  const res = await run(argv, script)
  const at = res.stdout.lastIndexOf(`\n${marker} `)
  if (at < 0) throw new Error(`the script did not finish (exit ${res.code}): ${res.stderr}`)
  const stdout = res.stdout.slice(0, at)
  const code = Number(res.stdout.slice(at + marker.length + 2).trim())
  const host = values.ssh ?? `${(await run(['hostname'], '')).stdout.trim()} (the controller)`
  const os = (await run(argv, '. /etc/os-release && echo "$PRETTY_NAME ($(cat /etc/debian_version 2>/dev/null))"\n')).stdout.trim()
  const meta: FixtureMeta = {
    kind: kind.name,
    keys,
    code,
    host,
    os,
    recordedAt: new Date().toISOString(),
    ...(values.note ? { note: values.note } : {}),
  }
  const dir = join(fixturesDir, kind.name)
  await mkdir(dir, { recursive: true })
  await writeFile(join(dir, `${name}.txt`), stdout)
  await writeFile(join(dir, `${name}.meta.json`), JSON.stringify(meta, null, 2) + '\n')
  // check it parses before calling it a fixture
  kind.parse(stdout, keys, code)
  console.log(`${kind.name}/${name}: ${stdout.length} bytes, exit ${code}, from ${host}`)
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err))
    process.exit(1)
  })
}
