import { predict } from '../../contract/fact.ts'
import { change, ok, resource, type Plan, type Resource, type ResourceMeta } from '../../contract/resource.ts'
import { sh } from '../../core/sh.ts'
import { Secret } from '../../core/secret.ts'
import { fileContent } from '../../facts/file-content.ts'
import { assertHostPath, pathState, type PathState } from '../../facts/path.ts'

/** Options of `gitCheckout()`: the repository and the commit, pinned like a download's sha256. */
export interface GitCheckoutOptions extends ResourceMeta {
  /** The repository as the host's git reaches it: a path, `file://`, `ssh://` or `user@host:path`. */
  repo: string
  /** The commit to check out, 40 hex digits: a pinned commit is what makes check mode exact (a branch moves). */
  commit: string
  /** A private key for an SSH repository: written 0600 on the host only for the fetch, never in argv or output. */
  deployKey?: Secret
}

/**
 * A working tree of a repository at one commit, detached (`.git/HEAD` holds
 * the commit, so a converged host is compared by reading that one file, and
 * needs no network). A new checkout is cloned beside the target and renamed
 * into place; an existing one fetches first and only then checks the commit
 * out (forced), so a commit the repository lacks fails before the working tree
 * moves. The repository URL of an existing checkout is not compared. git
 * itself must be on the host (`apt('git')` before it).
 */
export function gitCheckout(dest: string, opts: GitCheckoutOptions): Resource {
  const id = `git-checkout:${dest}`
  assertHostPath(dest, id)
  if (dest.split('/').length < 3) throw new Error(`${id}: check out into a directory at least two levels deep (like /srv/app), not ${dest}`)
  if (typeof opts.commit !== 'string' || !/^[0-9a-f]{40}$/.test(opts.commit)) throw new Error(`${id}: commit must be a full commit id (40 lowercase hex digits), not ${JSON.stringify(opts.commit)}: pin what you deploy`)
  if (typeof opts.repo !== 'string' || opts.repo === '' || /[\s]/.test(opts.repo) || opts.repo.startsWith('-')) throw new Error(`${id}: repo ${JSON.stringify(opts.repo)} is not a repository address`)
  if (opts.deployKey !== undefined && !(opts.deployKey instanceof Secret)) throw new Error(`${id}: deployKey must be a Secret (secret(...) or from the vault)`)
  const { repo, commit, deployKey, ...meta } = opts
  return resource({
    id,
    type: 'gitCheckout',
    probe: { dir: pathState(dest), head: fileContent(`${dest}/.git/HEAD`) },
    plan: ({ dir, head }) => planGitCheckout(dest, repo, commit, deployKey, dir, head),
    meta,
  })
}

export function planGitCheckout(dest: string, repo: string, commit: string, deployKey: Secret | undefined, dir: PathState, head: string | null): Plan {
  if (dir.type !== 'absent' && dir.type !== 'directory') throw new Error(`${dest} is a ${dir.type}, not a directory`)
  const now = head?.trim() ?? null
  if (dir.type === 'directory' && now === commit) return ok(commit.slice(0, 12))
  if (dir.type === 'directory' && now === null) throw new Error(`${dest} exists and is not a git checkout; move it away or choose another path`)
  const t = sh`${dest}`
  // the key reaches the host on stdin into a 0600 file that lives only for this step
  const key = deployKey !== undefined
  const setup = key
    ? `umask 077; k=$(mktemp) || exit 1; trap 'rm -f -- "$k"' EXIT; cat > "$k"; export GIT_SSH_COMMAND="ssh -i $k -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=accept-new"; umask 022`
    : 'export GIT_TERMINAL_PROMPT=0'
  const c = sh`${commit}`
  const script =
    dir.type === 'absent'
      ? [
          setup,
          `new=$(mktemp -d ${sh`${dest}.muster-XXXXXX`}) || exit 1; chmod 0755 "$new"`,
          `{ git clone -q --no-checkout -- ${sh`${repo}`} "$new" && git -C "$new" -c advice.detachedHead=false checkout -q --detach ${c}; } || { rc=$?; rm -rf -- "$new"; exit $rc; }`,
          `mv -T -- "$new" ${t} || { rc=$?; rm -rf -- "$new"; exit $rc; }`,
        ].join('\n')
      : [setup, `git -C ${t} fetch -q origin`, `git -C ${t} rev-parse -q --verify ${sh`${commit}^{commit}`} >/dev/null || { echo "no commit ${commit} in ${repo}" >&2; exit 1; }`, `git -C ${t} -c advice.detachedHead=false checkout -q -f --detach ${c}`].join('\n')
  const summary = dir.type === 'absent' ? `clone at ${commit.slice(0, 12)}` : `${now!.slice(0, 12)} -> ${commit.slice(0, 12)}`
  return change(summary, (ctx) => ctx.run(script, key ? { stdin: `${deployKey!.reveal().trimEnd()}\n` } : {}).then(() => {}), {
    predicts: [predict(pathState(dest), { type: 'directory', mode: '0755', owner: 'root', group: 'root', mtime: Number.NaN }), predict(fileContent(`${dest}/.git/HEAD`), `${commit}\n`)],
  })
}
