import { predict } from '../../contract/fact.ts'
import { change, ok, resource, type Plan, type Resource, type ResourceMeta } from '../../contract/resource.ts'
import { sh } from '../../core/sh.ts'
import { assertHostPath, pathState, type PathState } from '../../facts/path.ts'
import { predictFile, sha256 } from '../file.ts'

/** Options of `archive()`: the tarball on the host and the sha256 it must have. */
export interface ArchiveOptions extends ResourceMeta {
  /** The tarball on the host (plain, gzip, xz, bzip2 or zstd: `tar` tells), e.g. put there by `download()` earlier in the run. */
  src: string
  /** The archive's sha256 (64 hex digits): the directory is unpacked again only when it changes. */
  sha256: string
}

/** The file inside the directory that says which archive it was unpacked from. */
export const ARCHIVE_MARKER = '.muster-archive'

/**
 * A directory holding exactly what a tarball unpacks to, idempotent by the
 * archive's sha256: a marker file in the directory records the hash it was
 * unpacked from, so a converged host compares hashes and unpacks nothing. The
 * archive is unpacked into a new directory beside the target with the marker
 * written in it, then renamed into place (the old directory removed after):
 * the directory is whole, old or new, at every moment. A file that is not an
 * archive fails `tar` before anything moves. Files edited inside the directory
 * are not compared (the archive's hash is); a directory removed by hand is drift.
 */
export function archive(dest: string, opts: ArchiveOptions): Resource {
  const id = `archive:${dest}`
  assertHostPath(dest, id)
  assertHostPath(opts.src, id)
  if (dest === '/' || dest.split('/').length < 3) throw new Error(`${id}: unpack into a directory at least two levels deep (like /srv/app), not ${dest}`)
  if (typeof opts.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(opts.sha256)) throw new Error(`${id}: sha256 must be 64 lowercase hex digits`)
  const { src, sha256: want, ...meta } = opts
  const marker = `${dest}/${ARCHIVE_MARKER}`
  return resource({
    id,
    type: 'archive',
    probe: { src: pathState(src), dir: pathState(dest), marker: pathState(marker) },
    plan: ({ src: s, dir, marker: m }) => planArchive(dest, src, want, s, dir, m),
    meta,
  })
}

export function planArchive(dest: string, src: string, want: string, s: PathState, dir: PathState, marker: PathState): Plan {
  const markerBytes = Buffer.from(`${want}\n`, 'utf8')
  if (dir.type !== 'absent' && dir.type !== 'directory') throw new Error(`${dest} is a ${dir.type}, not a directory`)
  if (dir.type === 'directory' && marker.type === 'file' && marker.sha256 === sha256(markerBytes)) return ok(`sha256 ${want.slice(0, 12)}`)
  if (s.type !== 'file') throw new Error(`archive ${src}: ${s.type === 'absent' ? 'no such file on this host' : `is a ${s.type}, not a file`}`)
  if (s.sha256 !== want) throw new Error(`archive ${src}: sha256 is ${s.sha256}, expected ${want}; nothing unpacked`)
  const summary = dir.type === 'absent' ? `unpack ${src}` : marker.type === 'file' ? `unpack ${src} (another archive was there)` : `unpack ${src} (replacing a directory not unpacked by muster)`
  const t = sh`${dest}`
  const script = [
    `new=$(mktemp -d ${sh`${dest}.muster-XXXXXX`}) || exit 1`,
    `tar -xf ${sh`${src}`} -C "$new" --no-same-owner || { rc=$?; rm -rf -- "$new"; exit $rc; }`,
    `printf '%s\\n' ${sh`${want}`} > "$new"/${ARCHIVE_MARKER} && chmod 0755 "$new" || { rm -rf -- "$new"; exit 1; }`,
    `old=; if [ -e ${t} ]; then old=$(mktemp -u ${sh`${dest}.muster-old-XXXXXX`}) && mv -T -- ${t} "$old" || { rm -rf -- "$new"; exit 1; }; fi`,
    `mv -T -- "$new" ${t} || { rc=$?; [ -n "$old" ] && mv -T -- "$old" ${t}; rm -rf -- "$new"; exit $rc; }`,
    `[ -z "$old" ] || rm -rf -- "$old"`,
  ].join('\n')
  const dirState: PathState = { type: 'directory', mode: '0755', owner: 'root', group: 'root', mtime: Number.NaN }
  return change(summary, (ctx) => ctx.run(script).then(() => {}), {
    predicts: [predict(pathState(dest), dirState), ...predictFile(`${dest}/${ARCHIVE_MARKER}`, markerBytes, { mode: '0644', owner: 'root', group: 'root' }, { type: 'absent' })],
  })
}
