import { query, type FactKind, type FactQuery } from '../contract/fact.ts'
import { sh } from '../core/sh.ts'
import { assertPackageName } from './apt-package.ts'
import { parsePolicy } from './apt-candidate.ts'

/**
 * Whether apt could install a package that dpkg does not have installed:
 * `installed` (nothing asked of apt), or its candidate (null: apt knows no
 * such package, or the package lists need an update). `lists-refreshing` is
 * only ever a check-mode prediction: an earlier aptUpdate would refresh the
 * lists first, so a name the current lists lack may exist after it.
 */
export type AptInstallable =
  | { state: 'installed' }
  | { state: 'missing'; candidate: string | null }
  /** `offeredBy`: the apt repository (muster's name for it) whose lists will offer it. */
  | { state: 'lists-refreshing'; offeredBy?: string }

/**
 * In the same probe as everything else: one dpkg-query for the batch, and
 * `apt-cache policy` (a read of the whole package cache, ~50 ms) only for the
 * packages that are not installed, so a converged check pays one dpkg-query.
 * A status of `?i`, `?W` or `?t` is installed, as in apt-package.ts.
 */
function script(keys: readonly string[]): string {
  keys.forEach(assertPackageName)
  return [
    `set -- ${sh`${keys}`}`,
    `installed=' '`,
    `while IFS='|' read -r p a s; do case $s in ?[iWt]*) installed="$installed$p $p:$a ";; esac; done <<EOF`,
    `$(dpkg-query -W -f='\${Package}|\${Architecture}|\${db:Status-Abbrev}\\n' "$@" 2>/dev/null)`,
    `EOF`,
    `missing=''`,
    `for k in "$@"; do case $installed in *" $k "*) echo "installed $k";; *) missing="$missing $k";; esac; done`,
    // names are checked package names: no spaces or glob characters to split on
    `[ -z "$missing" ] || apt-cache policy $missing 2>/dev/null`,
  ].join('\n')
}

function parse(stdout: string, keys: readonly string[], code: number): Map<string, AptInstallable> {
  if (code !== 0) throw new Error(`apt-installable probe: apt-cache policy exited ${code} (is this a Debian host?)`)
  const installed = new Set(stdout.split('\n').filter((l) => l.startsWith('installed ')).map((l) => l.slice('installed '.length)))
  const policy = parsePolicy(stdout, keys.filter((k) => !installed.has(k)))
  return new Map(keys.map((k): [string, AptInstallable] => [k, installed.has(k) ? { state: 'installed' } : { state: 'missing', candidate: policy.get(k)!.candidate }]))
}

export const aptInstallableFact: FactKind<AptInstallable> = {
  name: 'apt-installable',
  coalesce: true,
  script,
  parse,
}

/** For a package dpkg does not have installed: apt's candidate for it. */
export function aptInstallable(name: string): FactQuery<AptInstallable> {
  return query(aptInstallableFact, assertPackageName(name))
}
