import type { PathState } from '../../facts/path.ts'

/**
 * The shape of muster's package table: what installing a Debian package brings
 * into being, for check-mode predictions. One edition per set of package
 * versions it was verified against (src/resources/packages/debian12.ts,
 * debian13.ts); src/resources/package-provides.ts picks the edition from
 * what the host says (the candidate version, else its base-files).
 */
export interface ProvidedUser {
  home: string
  shell: string
  group: string
  gecos: string
}
export interface ProvidedUnit {
  running: boolean
  enabled: boolean
}
/** What installing one Debian package brings into being, for check-mode predictions. */
export interface PackageFacts {
  /** The version this entry was verified against (its .deb, and an installed host). */
  readonly verified: string
  /** Packages of the same source that come with it; each has an entry of its own. */
  readonly with?: readonly string[]
  /** Shipped in the .deb (checked against it). */
  readonly paths?: Readonly<Record<string, PathState>>
  /** Made by a maintainer script. */
  readonly created?: Readonly<Record<string, PathState>>
  /**
   * Paths of `created` that the maintainer script makes on a first install
   * only (its postinst tests `[ -z "$2" ]`): installed again over the
   * conffiles of an earlier install (dpkg's config-files), it leaves them be.
   */
  readonly firstInstallOnly?: readonly string[]
  readonly units?: Readonly<Record<string, ProvidedUnit>>
  readonly users?: Readonly<Record<string, ProvidedUser>>
  readonly groups?: readonly string[]
}

export const dir = (mode: string, owner = 'root', group = 'root'): PathState => ({ type: 'directory', mode, owner, group, mtime: 0 })
export const file = (mode: string, size: number, sha256: string, owner = 'root', group = 'root'): PathState => ({
  type: 'file',
  mode,
  owner,
  group,
  size,
  mtime: 0,
  sha256,
})
export const link = (target: string): PathState => ({ type: 'symlink', target, owner: 'root', group: 'root', mtime: 0 })

/** One verified table: the packages of one Debian release, as its .debs and an installed host showed them. */
export interface PackageEdition {
  /** For messages and the verifier: "Debian 12 (bookworm)". */
  readonly name: string
  /**
   * The major version of `base-files` on a host of this release (Debian's
   * own release number): the edition a host takes when apt cannot yet say
   * which version it will install (no package lists before the first update).
   */
  readonly baseFiles: string
  readonly table: Readonly<Record<string, PackageFacts>>
}
