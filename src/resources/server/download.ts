import { createHash } from 'node:crypto'
import { posix } from 'node:path'
import { change, ok, resource, type ApplyContext, type Plan, type Resource, type ResourceMeta } from '../../contract/resource.ts'
import { predict } from '../../contract/fact.ts'
import { sh } from '../../core/sh.ts'
import { assertHostPath, pathState, type PathState } from '../../facts/path.ts'
import { chownSpec, normalizeOwnership, ownershipDrift, type NormalOwnership, type Ownership } from '../file-mode.ts'
import { fixOwnership } from '../file.ts'
import { writeFileAtomic } from '../write-file.ts'

/** Options of `download()`: the URL, the sha256 the file must have, its mode and owner, and whether the host or the controller fetches it. */
export interface DownloadOptions extends Ownership, ResourceMeta {
  url: string
  /** The content's sha256: the host's copy is compared by it, and nothing else is ever put in place. */
  sha256: string
  /** Who fetches: the host (curl, the default) or the controller (then sent over the connection). */
  via?: 'host' | 'controller'
}

/**
 * A file fetched from a URL and pinned by sha256. The host's copy is compared
 * by hash in the probe, so a converged host fetches nothing; a fetch lands in
 * a temp file beside the target, is checked, and only then renamed over it:
 * content that does not match is refused and the old file stays.
 */
export function download(path: string, opts: DownloadOptions): Resource {
  const id = `download:${path}`
  assertHostPath(path, id)
  if (!/^https?:\/\/\S+$/.test(opts.url)) throw new Error(`${id}: url must be http(s)`)
  if (!/^[0-9a-f]{64}$/.test(opts.sha256)) throw new Error(`${id}: sha256 must be 64 lowercase hex digits`)
  const own = normalizeOwnership(opts, id)
  const { url, sha256, via, mode: _m, owner: _o, group: _g, ...meta } = opts
  return resource({ id, type: 'download', probe: { state: pathState(path) }, plan: ({ state }) => planDownload(path, url, sha256, via ?? 'host', own, state), meta })
}

export function planDownload(path: string, url: string, sha256: string, via: 'host' | 'controller', want: NormalOwnership, have: PathState): Plan {
  if (have.type === 'directory' || have.type === 'other') throw new Error(`download ${path}: there is a ${have.type === 'directory' ? 'directory' : 'special file'} in the way`)
  const after: PathState = {
    type: 'file',
    mode: want.mode ?? (have.type === 'file' ? have.mode : '0644'),
    owner: want.owner ?? (have.type === 'file' ? have.owner : 'root'),
    group: want.group ?? (have.type === 'file' ? have.group : 'root'),
    size: Number.NaN,
    mtime: Number.NaN,
    sha256,
  }
  const predicts = [predict(pathState(path), after)]
  if (have.type === 'file' && have.sha256 === sha256) {
    const drift = ownershipDrift(have, want)
    return drift.length === 0 ? ok(`sha256 ${sha256.slice(0, 12)}`) : change(drift.join(', '), (ctx) => fixOwnership(ctx, path, want, have.mode), { predicts })
  }
  const what = have.type === 'absent' ? 'fetch' : `fetch (sha256 ${have.type === 'file' ? have.sha256.slice(0, 12) : 'of a symlink'} -> ${sha256.slice(0, 12)})`
  return change(`${what} from ${url}${via === 'controller' ? ' through the controller' : ''}`, (ctx) => (via === 'controller' ? viaController(ctx, path, url, sha256, after) : viaHost(ctx, path, url, sha256, want)), { predicts })
}

async function viaController(ctx: ApplyContext, path: string, url: string, sha256: string, after: Extract<PathState, { type: 'file' }>): Promise<void> {
  const res = await fetch(url)
  if (!res.ok) throw new Error(`download ${path}: ${url}: HTTP ${res.status}`)
  const bytes = Buffer.from(await res.arrayBuffer())
  const got = createHash('sha256').update(bytes).digest('hex')
  if (got !== sha256) throw new Error(`download ${path}: ${url} has sha256 ${got}, not the pinned ${sha256}; nothing written`)
  await writeFileAtomic(ctx, path, bytes, { mode: after.mode, owner: after.owner, group: after.group })
}

async function viaHost(ctx: ApplyContext, path: string, url: string, sha256: string, want: NormalOwnership): Promise<void> {
  const owner = chownSpec(want)
  await ctx.run(
    [
      'set -eu',
      `t=${sh`${path}`}`,
      `tmp=$(mktemp ${sh`${`${posix.dirname(path)}/.${posix.basename(path)}.muster-XXXXXX`}`})`,
      `trap 'rm -f -- "$tmp"' EXIT`,
      "trap 'exit 129' HUP INT TERM",
      `curl -fsSL --max-time 300 -o "$tmp" -- ${sh`${url}`}`,
      'got=$(sha256sum < "$tmp" | cut -d" " -f1)',
      `if [ "$got" != ${sh`${sha256}`} ]; then echo "the download has sha256 $got, not the pinned ${sha256}; nothing written" >&2; exit 1; fi`,
      owner !== undefined ? `chown -- ${sh`${owner}`} "$tmp"` : 'if [ -f "$t" ]; then chown --reference="$t" -- "$tmp"; fi',
      want.mode !== undefined ? `chmod -- ${sh`${want.mode}`} "$tmp"` : 'if [ -f "$t" ]; then chmod --reference="$t" -- "$tmp"; else chmod 0644 -- "$tmp"; fi',
      'mv -fT -- "$tmp" "$t"',
    ].join('\n'),
  )
}
