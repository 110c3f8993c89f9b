import { createHash } from 'node:crypto'
import { predict, type Prediction } from '../contract/fact.ts'
import { change, ok, resource, type ApplyContext, type DiffRequest, type Plan, type Resource, type ResourceMeta } from '../contract/resource.ts'
import { Secret } from '../core/secret.ts'
import { sh } from '../core/sh.ts'
import { pathState, assertHostPath, type PathState } from '../facts/path.ts'
import { fileContent } from '../facts/file-content.ts'
import { contentDiff } from './diff.ts'
import { writeFileAtomic, validateSpec, type Validate } from './write-file.ts'
import { chownSpec, normalizeOwnership, ownershipDrift, type NormalOwnership, type Ownership } from './file-mode.ts'

/** Options of `file()`: content (text, bytes or a Secret), mode, owner, group, validation. */
export interface FileOptions extends Ownership, ResourceMeta {
  /** The whole content. A Secret (or text holding one) travels only on stdin. */
  content: string | Buffer | Secret
  /** Check the new content before it goes live; see Validate. */
  validate?: Validate
  /**
   * Keep the replaced file as `path.<UTC timestamp>~`. Beware directories a
   * service loads whole (nginx's `include sites-enabled/*`): the backup is loaded too.
   */
  backup?: boolean
}

/** What a file resource wants, everything checked and normalised once. */
export interface FileSpec extends NormalOwnership {
  path: string
  bytes: Buffer
  validate?: Validate
  backup?: boolean
  /** The content is a Secret: no diff of it is ever shown, whatever was asked. */
  secret?: boolean
  /** The content holds Secrets: what of the host's text a diff may show (./secret-lines.ts). */
  redact?: (hostText: string) => string
}

export type FileProbe = { state: ReturnType<typeof pathState> }

export function sha256(bytes: Buffer | string): string {
  return createHash('sha256').update(bytes).digest('hex')
}

export function contentBytes(content: string | Buffer | Secret): Buffer {
  if (content instanceof Secret) return Buffer.from(content.reveal(), 'utf8')
  if (Buffer.isBuffer(content)) return content
  if (typeof content === 'string') return Buffer.from(content, 'utf8')
  throw new Error(`file content must be a string, a Buffer or a Secret, got ${typeof content}`)
}

/** A file with exactly `content`, compared by sha256 on the host: the content itself travels only when it differs. */
export function file(path: string, opts: FileOptions): Resource<FileProbe> {
  return managedFile('file', path, contentBytes(opts.content), { ...opts, secret: opts.content instanceof Secret })
}

/** The one implementation behind file() and template(). */
export function managedFile(
  type: string,
  path: string,
  bytes: Buffer,
  opts: Omit<FileOptions, 'content'> & { secret?: boolean; redact?: (hostText: string) => string },
): Resource<FileProbe> {
  const id = `${type}:${path}`
  assertHostPath(path, id)
  if (opts.validate !== undefined) validateSpec(opts.validate)
  const spec: FileSpec = {
    path,
    bytes,
    ...normalizeOwnership(opts, id),
    ...(opts.validate !== undefined ? { validate: opts.validate } : {}),
    ...(opts.backup !== undefined ? { backup: opts.backup } : {}),
    ...(opts.secret ? { secret: true } : {}),
    ...(opts.redact ? { redact: opts.redact } : {}),
  }
  const { secret: _secret, redact: _redact, ...meta } = opts
  return resource({
    id,
    type,
    probe: { state: pathState(path) },
    plan: ({ state }) => planFile(spec, state),
    meta,
  })
}

/** Pure: what it takes to turn `have` into the file `want` describes. */
export function planFile(want: FileSpec, have: PathState): Plan {
  const { path, bytes } = want
  const hash = sha256(bytes)
  const write = (ctx: ApplyContext): Promise<void> =>
    writeFileAtomic(ctx, path, bytes, {
      ...(want.mode !== undefined ? { mode: want.mode } : {}),
      ...(want.owner !== undefined ? { owner: want.owner } : {}),
      ...(want.group !== undefined ? { group: want.group } : {}),
      ...(want.validate !== undefined ? { validate: want.validate } : {}),
      ...(want.backup !== undefined ? { backup: want.backup } : {}),
    })
  // the host's current text is fetched only if someone wants to see the diff; a secret's never is
  const diffFromHost: DiffRequest | undefined = want.secret ? undefined : { query: fileContent(path), render: (before) => contentDiff(path, before !== null && want.redact ? want.redact(before) : before, bytes) }
  const diffOf = (d: DiffRequest | string | undefined) => (d === undefined ? {} : { diff: d })

  switch (have.type) {
    case 'absent':
      return change(want.secret ? 'create (content is a secret: no diff)' : 'create', write, {
        ...diffOf(want.secret ? undefined : contentDiff(path, null, bytes)),
        predicts: predictFile(path, bytes, want, have),
      })
    case 'directory':
    case 'other':
      throw new Error(`${path} is ${have.type === 'directory' ? 'a directory' : 'not a regular file'}; a file resource will not replace it`)
    case 'symlink':
      return change(`replace symlink (-> ${have.target}) with a file`, write, {
        ...diffOf(diffFromHost),
        predicts: predictFile(path, bytes, want, have),
      })
    case 'file': {
      const drift = ownershipDrift(have, want)
      if (have.sha256 !== hash) {
        return change([want.secret ? 'content (a secret: no diff)' : 'content', ...drift].join(', '), write, {
          ...diffOf(diffFromHost),
          predicts: predictFile(path, bytes, want, have),
        })
      }
      if (drift.length === 0) return ok()
      return change(drift.join(', '), (ctx) => fixOwnership(ctx, path, want, have.mode), {
        predicts: predictFile(path, bytes, want, have),
      })
    }
  }
}

/**
 * Mode and owner drift is fixed in place, never by rewriting content. chown
 * clears setuid/setgid, so the mode (wanted, or the one the file had) is set after it.
 */
export async function fixOwnership(ctx: ApplyContext, path: string, want: NormalOwnership, haveMode: string): Promise<void> {
  const owner = chownSpec(want)
  const mode = want.mode ?? haveMode
  await ctx.run(owner === undefined ? sh`chmod -- ${mode} ${path}` : sh`chown -- ${owner} ${path} && chmod -- ${mode} ${path}`)
}

/**
 * The file as it will be after the write: what was asked, else what the file
 * had, else the defaults of writeFileAtomic (0644, the login user: root). The
 * mtime cannot be known before the write, so it is NaN.
 */
export function predictFile(path: string, bytes: Buffer, want: NormalOwnership, have: PathState): Prediction[] {
  const prior = have.type === 'file' ? have : undefined
  const state: PathState = {
    type: 'file',
    mode: want.mode ?? prior?.mode ?? '0644',
    owner: want.owner ?? prior?.owner ?? 'root',
    group: want.group ?? prior?.group ?? 'root',
    size: bytes.length,
    mtime: Number.NaN,
    sha256: sha256(bytes),
  }
  return [predict(pathState(path), state), predict(fileContent(path), bytes.toString('utf8'))]
}
