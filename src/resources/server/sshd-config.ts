import { change, resource, type ApplyContext, type Plan, type Resource, type ResourceMeta } from '../../contract/resource.ts'
import { sh } from '../../core/sh.ts'
import { pathState, type PathState } from '../../facts/path.ts'
import { planFile } from '../file.ts'
import { ValidationError, writeFileAtomic } from '../write-file.ts'

/** A value in sshd_config: a word, a number, yes/no, or a list written space-separated. */
export type SshdValue = string | number | boolean | readonly (string | number)[]

/** Options of `sshdConfig()`: the drop-in's settings, validated by `sshd -t` and never allowed to lock out the run's own login. */
export interface SshdConfigOptions extends ResourceMeta {
  /** sshd_config keywords and values: `{ PasswordAuthentication: false, MaxAuthTries: 3 }`; an array gives the keyword once per value. */
  settings: Readonly<Record<string, SshdValue>>
}

/**
 * A drop-in under /etc/ssh/sshd_config.d (Debian's sshd_config includes them
 * first, so for most keywords the first file in name order wins). Before the
 * new file stays, with it in place: `sshd -t` must accept the whole config, and
 * `sshd -T` for the run's own login (user, the controller's address, the port
 * it came in on) must still let a public key in: PubkeyAuthentication yes,
 * AuthenticationMethods `any` or plain `publickey`, PermitRootLogin allowing
 * keys when the login is root, the port still listened on, the user not left
 * out by AllowUsers/DenyUsers, AuthorizedKeysFile unchanged, and a key type in
 * the user's authorized_keys still accepted. Otherwise the old file is put
 * back and the resource fails: the run never locks itself out. The change
 * takes effect when sshd reloads (`notify: reload('ssh')`). Match blocks are
 * not written by this resource.
 */
export function sshdConfig(name: string, opts: SshdConfigOptions): Resource {
  if (!/^[A-Za-z0-9_-]+$/.test(name)) throw new Error(`sshdConfig ${JSON.stringify(name)}: letters, digits, _ and - only (the file is <name>.conf)`)
  const lines = ['# managed by muster']
  for (const [k, v] of Object.entries(opts.settings ?? {})) {
    if (!/^[A-Za-z][A-Za-z0-9]*$/.test(k) || k.toLowerCase() === 'match') throw new Error(`sshdConfig ${name}: ${JSON.stringify(k)} is not a keyword this resource writes`)
    for (const one of Array.isArray(v) ? v : [v]) {
      const text = typeof one === 'boolean' ? (one ? 'yes' : 'no') : String(one)
      if (text.trim() === '' || /[\n#]/.test(text)) throw new Error(`sshdConfig ${name}: ${k} ${JSON.stringify(text)} is empty or has a newline or '#'`)
      lines.push(`${k} ${text}`)
    }
  }
  if (lines.length === 1) throw new Error(`sshdConfig ${name}: give at least one setting`)
  const path = `/etc/ssh/sshd_config.d/${name}.conf`
  const bytes = Buffer.from(lines.join('\n') + '\n', 'utf8')
  const { settings: _s, ...meta } = opts
  return resource({ id: `sshd-config:${path}`, type: 'sshd-config', probe: { state: pathState(path) }, plan: ({ state }) => planSshdConfig(path, bytes, state), meta })
}

export function planSshdConfig(path: string, bytes: Buffer, state: PathState): Plan {
  const plan = planFile({ path, bytes, mode: '0644', owner: 'root', group: 'root' }, state)
  if (plan.kind !== 'change') return plan
  return change(plan.summary, (ctx) => writeGuarded(ctx, path, bytes), {
    ...(plan.diff !== undefined ? { diff: plan.diff } : {}),
    ...(plan.predicts !== undefined ? { predicts: plan.predicts } : {}),
  })
}

/** Who the run is, as the host sees it: the login user, the controller's address and the port it reached. */
export interface RunLogin {
  user: string
  addr: string
  port: string
}

async function writeGuarded(ctx: ApplyContext, path: string, bytes: Buffer): Promise<void> {
  // SSH_CONNECTION of the login session (sudo would drop it): "client port server port"
  const conn = (await ctx.run('printf %s "$SSH_CONNECTION"', { become: false })).stdout.trim().split(/\s+/)
  const login: RunLogin = { user: ctx.host.user, addr: conn[0] || '127.0.0.1', port: conn[3] || String(ctx.host.port) }
  const before = (await ctx.run(sh`sshd -T -C ${`user=${login.user},host=muster,addr=${login.addr}`}`)).stdout
  const keysFile = /^authorizedkeysfile (.*)$/m.exec(before)?.[1] ?? ''
  try {
    await writeFileAtomic(ctx, path, bytes, { mode: '0644', owner: 'root', group: 'root', validate: { command: lockoutCheck(login, keysFile), inPlace: true } })
  } catch (err) {
    if (err instanceof ValidationError) throw new ValidationError(err.host, err.path, 'sshd -t, then the lockout check for this run', err.output)
    throw err
  }
}

/**
 * Shell run with the new file in place; a non-zero exit puts the old file back.
 * Each refusal says what would lock the run out.
 */
export function lockoutCheck(login: RunLogin, keysFile: string): string {
  const u = login.user
  return [
    'sshd -t || exit 1',
    `o=$(sshd -T -C ${sh`${`user=${u},host=muster,addr=${login.addr}`}`}) || exit 1`,
    // no printf %s here: validate commands substitute %s with the file's path
    'val() { echo "$o" | sed -n "s/^$1 //p"; }',
    `who=${sh`${`${u} with a key from ${login.addr}:${login.port}`}`}`,
    'no() { echo "refused: the run logs in as $who; $1" >&2; exit 1; }',
    '[ "$(val pubkeyauthentication)" = yes ] || no "PubkeyAuthentication would be no"',
    'val authenticationmethods | tr " " "\\n" | grep -qxE "any|publickey" || no "AuthenticationMethods would ask for more than a key"',
    ...(u === 'root' ? ['case "$(val permitrootlogin)" in yes|prohibit-password|without-password) ;; *) no "PermitRootLogin would refuse root keys";; esac'] : []),
    `val port | grep -qxF ${sh`${login.port}`} || no ${sh`${`sshd would no longer listen on port ${login.port}`}`}`,
    `a=$(val allowusers | tr "\\n" " "); if [ -n "$a" ]; then case " $a " in *${sh`${` ${u} `}`}*|*" * "*) ;; *) no "AllowUsers would leave ${u} out";; esac; fi`,
    `case " $(val denyusers | tr "\\n" " ") " in *${sh`${` ${u} `}`}*) no "DenyUsers would name ${u}";; esac`,
    `[ "$(val authorizedkeysfile)" = ${sh`${keysFile}`} ] || no "AuthorizedKeysFile would change"`,
    // a key type of the user's authorized_keys must stay accepted (which one the run used, the host cannot say)
    `h=$(getent passwd ${sh`${u}`} | cut -d: -f6)`,
    'alg=$(val pubkeyacceptedalgorithms | tr "," "\\n")',
    `types=$(grep -oE "(ssh-(ed25519|rsa|dss)|ecdsa-sha2-nistp(256|384|521)|sk-[a-z0-9-]+@openssh.com) " "$h/.ssh/authorized_keys" 2>/dev/null | sort -u)`,
    'ok=; for t in $types; do if [ "$t" = ssh-rsa ]; then t2="rsa-sha2-512 rsa-sha2-256"; else t2=$t; fi; for x in $t2; do echo "$alg" | grep -qxF "$x" && ok=1; done; done',
    '[ -n "$ok" ] || no "PubkeyAcceptedAlgorithms would accept none of the key types in ~/.ssh/authorized_keys"',
  ].join('\n')
}
