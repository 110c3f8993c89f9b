import { expect } from 'chai'
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { join, relative, basename } from 'node:path'
import { fileURLToPath } from 'node:url'
import { labToolPackages } from '../../../src/lab/preflight.ts'
import { repoRoot } from '../../support/cli.ts'

/**
 * `npm test` must pass on a fresh Debian machine with nothing installed by
 * hand: every system tool that the tests (or muster itself, on the
 * controller) start must be installed by the test command
 * (scripts/test-packages.txt, read by scripts/test-setup.sh), by the lab
 * (src/lab/preflight.ts), or be part of every Debian system. This reads the
 * source for the tools it spawns and fails on one that nothing installs.
 */

/** Commands from Debian's Essential packages, plus apt (how anything else gets installed) and node's own npm. */
const everywhere = new Set([
  'sh', 'bash', 'true', 'false', 'env', 'cat', 'id', 'kill', 'sleep', 'tar', 'gzip', 'zcat',
  'dpkg', 'dpkg-deb', 'dpkg-query', 'apt-get', 'apt-cache', 'script', 'su', 'hostname',
  'sed', 'grep', 'find', 'xargs', 'sha256sum', 'stat', 'readlink', 'npm', 'node',
])

/** Tools used only when the machine has them (the lab loads overlayfs with modprobe if it can). */
const optional = new Set(['modprobe'])

function manifest(): Map<string, string> {
  const text = readFileSync(join(repoRoot, 'scripts/test-packages.txt'), 'utf8')
  const m = new Map<string, string>()
  for (const line of text.split('\n')) {
    if (line.trim() === '' || line.startsWith('#')) continue
    const [cmd, pkg] = line.trim().split(/\s+/)
    m.set(cmd!, pkg!)
  }
  return m
}

function sources(dir: string): string[] {
  const out: string[] = []
  for (const name of readdirSync(dir)) {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) {
      if (name !== 'fixtures' && name !== 'node_modules') out.push(...sources(p))
    } else if (/\.(ts|mjs|js)$/.test(name)) out.push(p)
  }
  return out
}

/** The literal program names passed to spawn/execFile (and the lab's tool()) in a file. */
export function spawnedTools(text: string): string[] {
  const found: string[] = []
  const call = /\b(?:spawn|spawnSync|execFile|execFileSync|run|runOk|tool|findTool)\(\s*'([^'\s]+)'/g
  for (const m of text.matchAll(call)) found.push(basename(m[1]!))
  // a program named by its absolute path, usually in a constant: const SSHD = '/usr/sbin/sshd'
  for (const m of text.matchAll(/\bconst [A-Z_]+ = (?:[^'\n]*\?\? )?'\/(?:usr\/)?s?bin\/([\w.+-]+)'/g)) found.push(m[1]!)
  return found
}

describe('npm test installs every system tool its tests start (a fresh machine needs nothing by hand)', function () {
  it('finds the spawned tools in a source text (so the scan below can fail)', function () {
    expect(spawnedTools(`spawn('ssh', a); tool('debootstrap'); spawn(process.execPath); const X = '/usr/sbin/nft'; const Y = process.env.Y ?? '/usr/bin/gpg'`)).to.deep.equal(['ssh', 'debootstrap', 'nft', 'gpg'])
  })

  it('every tool that test/, src/ and scripts/ start is in scripts/test-packages.txt, installed by the lab, or on every Debian', function () {
    const listed = manifest()
    const unaccounted: string[] = []
    const self = fileURLToPath(import.meta.url)
    for (const file of [...sources(join(repoRoot, 'test')), ...sources(join(repoRoot, 'src')), ...sources(join(repoRoot, 'scripts'))]) {
      if (file === self) continue // its own examples above
      for (const t of spawnedTools(readFileSync(file, 'utf8'))) {
        if (listed.has(t) || t in labToolPackages || everywhere.has(t) || optional.has(t)) continue
        unaccounted.push(`${t} (${relative(repoRoot, file)})`)
      }
    }
    expect(unaccounted, 'add these to scripts/test-packages.txt with their Debian package').to.deep.equal([])
  })

  it('the manifest names the real sshd the e2e tests start, and the test command runs the setup first', function () {
    expect(manifest().get('sshd')).to.equal('openssh-server')
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
    expect(pkg.scripts.pretest).to.equal('bash scripts/test-setup.sh')
    const ci = readFileSync(join(repoRoot, '.ci/run'), 'utf8')
    expect(ci, '.ci/run keeps nothing npm test lacks').to.not.match(/apt-get|apt install/)
  })
})
