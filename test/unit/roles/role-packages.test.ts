import { expect } from 'chai'
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
// @ts-expect-error a plain .mjs script, without types
import { packRole } from '../../../scripts/pack-role.mjs'

/**
 * Every reference role packs as its own npm package (scripts/pack-role.mjs):
 * muster a peer dependency, its templates and files inside, each module
 * exported, and a sibling role it imports named as a dependency
 * (`@muster-roles/mysql`), never reached through `../`. One of them
 * (mysql) is installed from its tarball and applied on a lab host by
 * test/lab/role-package.test.ts.
 */
const rolesDir = fileURLToPath(new URL('../../../roles/', import.meta.url))
const roles = readdirSync(rolesDir).filter((r) => statSync(join(rolesDir, r)).isDirectory())

describe('every reference role packs as an npm package of its own', function () {
  this.timeout(120_000)
  let out: string
  before(() => {
    out = mkdtempSync(join(tmpdir(), 'muster-role-packs-'))
  })
  after(() => rmSync(out, { recursive: true, force: true }))

  it('the roles are all there', () => {
    expect(roles).to.include.members(['app', 'firewall', 'haproxy', 'monitoring', 'mysql', 'nginx'])
  })

  for (const role of roles) {
    it(`roles/${role}: muster as peer, templates and files inside, siblings as dependencies`, () => {
      const tarball = packRole(join(rolesDir, role), out) as string
      const unpacked = join(out, role)
      mkdirSync(unpacked, { recursive: true })
      execFileSync('tar', ['-xzf', tarball, '-C', unpacked])
      const pkg = join(unpacked, 'package')
      const manifest = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')) as { name: string; peerDependencies: Record<string, string>; dependencies?: Record<string, string>; exports: Record<string, string> }
      expect(manifest.name).to.equal(`@muster-roles/${role}`)
      expect(manifest.peerDependencies).to.have.property('muster')
      expect(manifest.exports['.']).to.equal('./index.ts')
      for (const sub of ['templates', 'files']) {
        if (!existsSync(join(rolesDir, role, sub))) continue
        for (const f of readdirSync(join(rolesDir, role, sub))) expect(existsSync(join(pkg, sub, f)), `${sub}/${f}`).to.equal(true)
      }
      const deps = new Set(Object.keys(manifest.dependencies ?? {}))
      const used = new Set<string>()
      for (const m of readdirSync(pkg).filter((f) => f.endsWith('.ts'))) {
        const source = readFileSync(join(pkg, m), 'utf8')
        for (const [, spec] of source.matchAll(/from '([^']+)'/g)) {
          if (spec!.startsWith('./') || spec!.startsWith('node:') || spec === 'muster' || spec!.startsWith('muster/')) continue
          const dep = /^(@muster-roles\/[a-z0-9-]+)/.exec(spec!)?.[1]
          expect(dep, `${m} imports ${spec}: only muster, node:, its own files or a declared role package`).to.be.a('string')
          expect(deps.has(dep!), `${m} imports ${dep}, not among its dependencies`).to.equal(true)
          used.add(dep!)
        }
      }
      expect([...used].sort()).to.deep.equal([...deps].sort())
    })
  }
})
