import { posix } from 'node:path'
import type { ApplyContext } from '../contract/resource.ts'
import { RemoteCommandError } from '../core/errors.ts'
import { sh } from '../core/sh.ts'
import { chownSpec } from './file-mode.ts'

/**
 * How to check new content before it goes live.
 * - `'visudo -cf %s'`: run on the temp file before it replaces the live one (`%s` is the temp path).
 * - `{ command: 'nginx -t', inPlace: true }`: put the new file where the service loads it, run the
 *   command against the whole config tree, and put the old file back if it fails.
 *   A string without `%s` means the same, since a command that does not name the file can only
 *   judge it in place. In place, `%s` (if present) is the live path.
 * Either way a failed validation leaves the live file byte-for-byte as it was.
 */
export type Validate = string | { command: string; inPlace?: boolean }

export interface ValidateSpec {
  command: string
  inPlace: boolean
}

export function validateSpec(v: Validate): ValidateSpec {
  const command = typeof v === 'string' ? v : v.command
  if (typeof command !== 'string' || command.trim() === '') throw new Error('validate: the command is empty')
  const inPlace = typeof v === 'string' ? !command.includes('%s') : (v.inPlace ?? false)
  if (!inPlace && !command.includes('%s')) {
    throw new Error(`validate: ${JSON.stringify(command)} must name the file to check with %s, or set inPlace: true`)
  }
  return { command, inPlace }
}

export interface WriteOptions {
  /** 4-digit octal; default: the existing file's mode, or 0644 for a new file. */
  mode?: string
  /** default: the existing file's owner, or the login user (root under become). */
  owner?: string
  group?: string
  validate?: Validate
  /**
   * Keep the replaced file as `path.<UTC timestamp>~`. Beware directories a
   * service loads whole (nginx's `include sites-enabled/*`): the backup is loaded too.
   */
  backup?: boolean
}

/** Content above this goes by SFTP instead of stdin. */
export const STDIN_LIMIT = 256 * 1024
/** The script's exit code when the validator refused the content (and the live file is restored). */
export const VALIDATION_FAILED = 97

/** The new content was refused by its validator; the live file is as it was. */
export class ValidationError extends Error {
  constructor(
    readonly host: string,
    readonly path: string,
    readonly command: string,
    readonly output: string,
  ) {
    const out = output.trim()
    super(`${host}: ${path}: validation \`${command}\` failed; the live file is unchanged${out ? `:\n${out}` : ''}`)
    this.name = 'ValidationError'
  }
}

export interface WriteScriptOptions extends WriteOptions {
  /** Take the content from this file on the host (an SFTP upload) instead of stdin. */
  upload?: string
  /** The backup's suffix, fixed by the caller so the script stays a pure function. */
  backupSuffix?: string
}

/**
 * One shell script that writes `path` atomically from its stdin: a temp file
 * beside the target (same filesystem, so the final `mv` is a rename), mode and
 * owner set on the temp before it is visible, optional validation, `mv -T`
 * over the target. The trap removes the temp on any failure, and in place it
 * puts the old file back. Temp names start with a dot and end in a suffix of
 * their own, so conf.d-style globs (`*`, `*.conf`) never load them.
 */
export function writeScript(path: string, o: WriteScriptOptions = {}): string {
  const dir = posix.dirname(path)
  const base = posix.basename(path)
  const v = o.validate === undefined ? undefined : validateSpec(o.validate)
  const lines = [
    'set -eu',
    `t=${sh`${path}`}`,
    `up=${o.upload === undefined ? "''" : sh`${o.upload}`}`,
    'tmp=',
    'old=',
    'placed=',
    // dash runs an EXIT trap on `exit` but not on a signal: turn signals into exits
    'cleanup() {',
    '  rc=$?',
    '  if [ -n "$placed" ]; then',
    '    if [ -n "$old" ]; then mv -fT -- "$old" "$t"; else rm -f -- "$t"; fi',
    '  fi',
    '  for f in "$tmp" "$old" "$up"; do if [ -n "$f" ]; then rm -f -- "$f"; fi; done',
    '  exit $rc',
    '}',
    'trap cleanup EXIT',
    "trap 'exit 129' HUP INT TERM",
    `tmp=$(mktemp -- ${sh`${`${dir}/.${base}.muster-XXXXXX`}`})`,
    o.upload === undefined ? 'cat > "$tmp"' : 'cat -- "$up" > "$tmp"',
  ]
  // chown before chmod: chown clears setuid/setgid bits
  // what is not asked for is kept from the file being replaced (not from a symlink's target)
  const isFile = '[ -f "$t" ] && [ ! -L "$t" ]'
  const owner = chownSpec(o)
  if (owner !== undefined) lines.push(`chown -- ${sh`${owner}`} "$tmp"`)
  else lines.push(`if ${isFile}; then chown --reference="$t" -- "$tmp"; fi`)
  if (o.mode !== undefined) lines.push(`chmod -- ${sh`${o.mode}`} "$tmp"`)
  else lines.push(`if ${isFile}; then chmod --reference="$t" -- "$tmp"; else chmod 0644 -- "$tmp"; fi`)

  const check = (command: string, file: string): string =>
    `if ! ( ${command.split('%s').join(file)} ) 1>&2; then exit ${VALIDATION_FAILED}; fi`
  if (v && !v.inPlace) lines.push(check(v.command, '"$tmp"'))
  const backupName = `"$t"${sh`${`.${o.backupSuffix ?? 'bak'}~`}`}`
  // in place, the old file set aside becomes the backup once the new one is accepted
  if (o.backup && !v?.inPlace) lines.push(`if [ -f "$t" ]; then cp -p -- "$t" ${backupName}; fi`)
  if (v && v.inPlace) {
    // aside by hard link (the very same inode comes back on failure); copy where links are not possible
    lines.push(
      'if [ -e "$t" ] || [ -L "$t" ]; then old="$tmp.old"; ln -P -- "$t" "$old" 2>/dev/null || cp -pP -- "$t" "$old"; fi',
      'placed=1',
      'mv -fT -- "$tmp" "$t"',
      check(v.command, '"$t"'),
      'placed=',
      ...(o.backup ? [`if [ -n "$old" ]; then mv -f -- "$old" ${backupName}; old=; fi`] : []),
    )
  } else {
    lines.push('mv -fT -- "$tmp" "$t"')
  }
  return lines.join('\n')
}

/** `path.20240501T120000Z~`: sortable, and the trailing ~ is what conf.d loaders skip. */
export function backupSuffix(now = new Date()): string {
  return now.toISOString().replace(/\.\d+Z$/, 'Z').replace(/[-:]/g, '')
}

/**
 * Write `content` to `path` on the host, atomically. Content travels only on
 * stdin (or by SFTP when large), never in argv: it may hold secrets.
 */
export async function writeFileAtomic(ctx: ApplyContext, path: string, content: Buffer, opts: WriteOptions = {}): Promise<void> {
  const base: WriteScriptOptions = { ...opts, backupSuffix: backupSuffix() }
  try {
    if (content.length <= STDIN_LIMIT) {
      await ctx.run(writeScript(path, base), { stdin: content })
      return
    }
    // the upload lands as the login user (SFTP has no sudo), mode 0600, and the script removes it
    const upload = (await ctx.run('mktemp /tmp/muster-upload.XXXXXX', { become: false })).stdout.trim()
    try {
      await ctx.conn.put(content, upload, { mode: 0o600 })
    } catch (err) {
      await ctx.run(sh`rm -f -- ${upload}`, { become: false, okCodes: [0, 1] })
      throw err
    }
    await ctx.run(writeScript(path, { ...base, upload }))
  } catch (err) {
    if (err instanceof RemoteCommandError && err.code === VALIDATION_FAILED && opts.validate !== undefined) {
      throw new ValidationError(ctx.host.name, path, validateSpec(opts.validate).command, err.stderr || err.stdout)
    }
    throw relabel(err, `write ${path}`)
  }
}

/** A failed multi-line script reads better named for what it did than by its first 160 characters. */
export function relabel(err: unknown, label: string): unknown {
  if (!(err instanceof RemoteCommandError)) return err
  return new RemoteCommandError(err.host, label, err.code, err.stdout, err.stderr, err.resource)
}
