import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { serveDirectory } from './serve-files.ts'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/**
 * A signed apt repository of one small package, built on the controller with
 * the real tools (dpkg-deb builds the .deb, gpg makes the key and signs
 * InRelease) and served over HTTP on the lab's bridge address, so lab hosts
 * install from it as from any third-party repository. The Packages and
 * Release indexes are written here (the controller has no apt-ftparchive);
 * they carry the fields apt checks: Filename, Size, SHA256, and the index hashes.
 */
export interface LocalRepo {
  url: string
  /** The signing key, ASCII-armored, and its sha256 (served at `${url}/key.asc`). */
  key: string
  keySha256: string
  /** A key that did not sign this repository. */
  otherKey: string
  close(): Promise<void>
}

const sha256 = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex')

function gpgKey(dir: string, name: string): string {
  mkdirSync(dir, { mode: 0o700 })
  execFileSync('gpg', ['--homedir', dir, '--batch', '--passphrase', '', '--quick-gen-key', name, 'ed25519', 'sign', 'never'], { stdio: 'ignore' })
  return execFileSync('gpg', ['--homedir', dir, '--armor', '--export'], { encoding: 'utf8' })
}

export async function startLocalRepo(bindAddress: string, pkg = { name: 'muster-hello', version: '1.0' }): Promise<LocalRepo> {
  const root = mkdtempSync(join(tmpdir(), 'muster-apt-repo-'))
  const key = gpgKey(join(root, 'gpg'), 'muster test repo')
  const otherKey = gpgKey(join(root, 'gpg-other'), 'muster other key')
  const www = join(root, 'www')
  const build = join(root, 'build')
  mkdirSync(join(build, 'DEBIAN'), { recursive: true })
  mkdirSync(join(build, 'usr/share', pkg.name), { recursive: true })
  writeFileSync(join(build, 'usr/share', pkg.name, 'hello.txt'), `hello from ${pkg.name} ${pkg.version}\n`)
  const control = `Package: ${pkg.name}\nVersion: ${pkg.version}\nArchitecture: all\nMaintainer: muster tests <tests@muster.invalid>\nDescription: a package for muster's apt repository tests\n`
  writeFileSync(join(build, 'DEBIAN/control'), control)
  mkdirSync(join(www, 'pool'), { recursive: true })
  const debName = `pool/${pkg.name}_${pkg.version}_all.deb`
  execFileSync('dpkg-deb', ['--build', '--root-owner-group', build, join(www, debName)], { stdio: 'ignore' })
  const deb = readFileSync(join(www, debName))
  const packages = `${control}Filename: ${debName}\nSize: ${deb.length}\nSHA256: ${sha256(deb)}\n\n`
  const dist = join(www, 'dists/stable')
  mkdirSync(join(dist, 'main/binary-amd64'), { recursive: true })
  writeFileSync(join(dist, 'main/binary-amd64/Packages'), packages)
  const release = [
    'Origin: muster-test',
    'Label: muster-test',
    'Suite: stable',
    'Codename: stable',
    `Date: ${new Date().toUTCString()}`,
    'Architectures: amd64 all',
    'Components: main',
    'SHA256:',
    ` ${sha256(packages)} ${Buffer.byteLength(packages)} main/binary-amd64/Packages`,
    '',
  ].join('\n')
  writeFileSync(join(dist, 'Release'), release)
  execFileSync('gpg', ['--homedir', join(root, 'gpg'), '--batch', '--yes', '--clearsign', '-o', join(dist, 'InRelease'), join(dist, 'Release')], { stdio: 'ignore' })
  writeFileSync(join(www, 'key.asc'), key)

  const served = await serveDirectory(www, bindAddress)
  return {
    url: served.url,
    key,
    keySha256: sha256(key),
    otherKey,
    close: async () => {
      await served.close()
      rmSync(root, { recursive: true, force: true })
    },
  }
}
