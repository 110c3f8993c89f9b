import { expect } from 'chai'
import { writeFileSync, existsSync } from 'node:fs'
import { scratchDirs } from '../support/scratch.ts'
import { join } from 'node:path'
import { startSshd, type SshdHandle } from '../support/sshd.ts'
import { muster } from '../support/cli.ts'

const INV = 'test/fixtures/e2e/inventory.ts'

describe('e2e: bad input gets a clear error and the right exit code', function () {
  this.timeout(120_000)
  const tmp = scratchDirs()
  let sshd: SshdHandle
  let root: string
  let env: Record<string, string>

  before(async () => {
    sshd = await startSshd()
    root = tmp.make('muster-e2e-err-')
    env = { E2E_PORT: String(sshd.port), E2E_KEY: sshd.clientKeyFile, E2E_KNOWN_HOSTS: sshd.knownHostsFile, MUSTER_STATE_DIR: join(root, 'state') }
  })
  after(async () => {
    await sshd?.stop()
    tmp.removeAll()
  })

  const noStack = (s: string) => expect(s).not.to.match(/\n\s+at .+:\d+:\d+/)

  it('a malformed inventory: exit 64 naming file, line and host', async () => {
    const r = await muster(['apply', 'test/fixtures/e2e/playbook.ts', '-i', 'test/fixtures/inventory/../e2e/bad-inventory.yml'], env)
    expect(r.code).to.equal(64)
    expect(r.stderr).to.match(/bad-inventory\.yml:5(:\d+)?: .*box/)
    noStack(r.stderr)
  })

  it('an unknown host pattern: exit 64, with what was meant when one is close', async () => {
    const r = await muster(['apply', 'test/fixtures/e2e/playbook.ts', '-i', INV, '--limit', 'nosuchhost'], env)
    expect(r.code).to.equal(64)
    expect(r.stderr).to.contain("unknown host or group 'nosuchhost'")
    const typo = await muster(['check', 'test/fixtures/e2e/playbook.ts', '-i', INV, '--limit', 'bxo'], env)
    expect(typo.code).to.equal(64)
    expect(typo.stderr).to.contain("muster: unknown host or group 'bxo' in pattern 'bxo'; did you mean 'box'?")
  })

  describe('a selection that matches nothing: exit 64 naming it, nothing run', () => {
    const PB = 'test/fixtures/e2e/playbook.ts'
    const rows: [string, string[], string][] = [
      ['--tags with a typo', ['--tags', 'fiels'], "muster: --tags fiels: no resource of this run has the tag 'fiels'; did you mean 'files'?"],
      ['--skip-tags nothing has', ['--skip-tags', 'nginx'], "muster: --skip-tags nginx: no resource of this run has the tag 'nginx'"],
      ['--limit outside every play', ['--limit', 'box:&ghost'], "muster: --limit 'box:&ghost' selects none of the playbook's hosts (box, ghost)"],
    ]
    for (const [name, extra, says] of rows) {
      for (const cmd of ['apply', 'check']) {
        it(`${cmd} ${name}`, async () => {
          const r = await muster([cmd, PB, '-i', INV, '-e', `root=${root}/sel`, ...(extra[0] === '--limit' ? [] : ['--limit', 'box']), ...extra], env)
          expect(r.code, r.stdout + r.stderr).to.equal(64)
          expect(r.stderr).to.contain(says)
          noStack(r.stderr)
          expect(r.stdout, 'nothing ran, not even the run header').to.equal('')
          expect(existsSync(join(root, 'sel')), 'nothing was applied').to.equal(false)
        })
      }
    }

    it('a play whose hosts pattern matches no host is named', async () => {
      const r = await muster(['apply', 'test/fixtures/e2e/empty-play.ts', '-i', INV, '--limit', 'box', '-e', `root=${root}/sel`], env)
      expect(r.code, r.stdout + r.stderr).to.equal(64)
      expect(r.stderr).to.contain(`muster: play "nobody": hosts 'box:!box' match no host of the inventory`)
      expect(existsSync(join(root, 'sel'))).to.equal(false)
    })

    it('--allow-unmatched runs anyway with a WARNING; a check that then checks no resource still does not say "in sync"', async () => {
      const r = await muster(['apply', 'test/fixtures/e2e/empty-play.ts', '-i', INV, '--limit', 'box', '-e', `root=${root}`, '--allow-unmatched'], env)
      expect(r.code, r.stdout + r.stderr).to.equal(0)
      expect(r.stdout).to.contain(`WARNING play "nobody": hosts 'box:!box' match no host of the inventory (--allow-unmatched: running anyway)`)
      expect(existsSync(join(root, 'marked')), 'the play that matched ran').to.equal(true)
      const c = await muster(['check', PB, '-i', INV, '--limit', 'box', '-e', `root=${root}/sel`, '--tags', 'fiels', '--allow-unmatched'], env)
      expect(c.code, c.stdout + c.stderr).to.equal(64)
      expect(c.stdout).to.match(/box\s+: ok=0 changed=0 unreachable=0 failed=0 skipped=7/)
      expect(c.stdout).to.contain('nothing checked: no resource was selected, so nothing is known to be in sync')
      expect(c.stdout).not.to.match(/^in sync/m)
    })
  })

  it('a misspelt Ansible setting in an inventory: exit 64 naming file, line, host and what was meant', async () => {
    const r = await muster(['ping', 'box', '-i', 'test/fixtures/e2e/misspelt-inventory.yml'], env)
    expect(r.code).to.equal(64)
    expect(r.stderr).to.match(/misspelt-inventory\.yml:4(:\d+)?: host box: ansible_hots is not a setting muster knows; did you mean 'ansible_host'\?/)
  })

  it('a missing required var names the host once, and the var', async () => {
    const r = await muster(['apply', 'test/fixtures/e2e/playbook.ts', '-i', INV, '--limit', 'box'], env)
    expect(r.code).to.equal(64)
    const line = r.stdout.split('\n').find((l) => l.includes('is required'))!
    expect(line).to.match(/^box\s+FAILED\s+expand: role files: test\/fixtures\/e2e\/playbook\.ts:\d+:\d+: var "root" is required but not set/)
    expect(line.match(/\bbox\b/g)).to.have.length(1)
  })

  it('an unknown command: exit 64 with what was meant', async () => {
    const r = await muster(['aply', 'test/fixtures/e2e/playbook.ts'], env)
    expect(r.code).to.equal(64)
    expect(r.stderr).to.contain("muster: unknown command 'aply'; did you mean 'apply'? (commands: init, apply, check, ping")
  })

  it('a playbook that does not type-check: exit 64 with the compiler message, nothing run', async () => {
    const r = await muster(['apply', 'test/fixtures/e2e/ill-typed.ts', '-i', INV, '--limit', 'box'], env)
    expect(r.code).to.equal(64)
    expect(r.stderr).to.contain('does not type-check')
    expect(r.stderr).to.match(/ill-typed\.ts\(4,\d+\)/)
    expect(existsSync('/tmp/muster-ill-typed')).to.equal(false)
  })

  it('a playbook that throws while loading: exit 64 with its message, file and line', async () => {
    const r = await muster(['apply', 'test/fixtures/e2e/throws.ts', '-i', INV, '--limit', 'box'], env)
    expect(r.code).to.equal(64)
    expect(r.stderr).to.contain('muster: test/fixtures/e2e/throws.ts: the playbook threw while loading: test/fixtures/e2e/throws.ts:3:7: boom while loading')
    noStack(r.stderr)
  })

  it('an error thrown in a role names the role, its file and line (source-mapped); -v adds the user\'s frames only', async () => {
    const r = await muster(['apply', 'test/fixtures/e2e/role-throws.ts', '-i', INV, '-e', `root=${root}`], env)
    expect(r.code, r.stdout + r.stderr).to.equal(64)
    expect(r.stdout, r.stdout).to.contain('box  FAILED       expand: role thrower: test/fixtures/e2e/roles/thrower.ts:6:38: listen "localhost" has no port')
    noStack(r.stdout + r.stderr)
    const v = await muster(['apply', 'test/fixtures/e2e/role-throws.ts', '-i', INV, '-e', `root=${root}`, '-v'], env)
    const frames = v.stdout.split('\n').filter((l) => /^\s+at /.test(l)).map((l) => l.trim())
    // where it threw, then the role's line that called it; nothing of muster's own
    expect(frames, v.stdout).to.have.length(2)
    expect(frames[0]).to.equal('at portOf test/fixtures/e2e/roles/thrower.ts:6:38')
    expect(frames[1]).to.match(/^at build test\/fixtures\/e2e\/roles\/thrower\.ts:11:\d+$/)
    const json = await muster(['check', 'test/fixtures/e2e/role-throws.ts', '-i', INV, '-e', `root=${root}`, '--json'], env)
    const failed = json.events.find((e) => e.type === 'host:failed') as { resource: string; frames: string[] }
    expect(failed.resource).to.equal('expand')
    expect(failed.frames.map((f) => f.replace(/:\d+$/, ''))).to.deep.equal(['portOf test/fixtures/e2e/roles/thrower.ts:6', 'build test/fixtures/e2e/roles/thrower.ts:11'])
  })

  it('an inventory module that throws names its file and line', async () => {
    const r = await muster(['ping', '-i', 'test/fixtures/inventory/throws.ts'], env)
    expect(r.code).to.equal(64)
    expect(r.stderr).to.contain('test/fixtures/inventory/throws.ts:2:7: vault password not set')
  })

  it('a template with an undefined variable: exit 64 naming template and line', async () => {
    const r = await muster(['apply', 'test/fixtures/e2e/broken-template.ts', '-i', INV, '--limit', 'box', '-e', `root=${root}`], env)
    expect(r.code).to.equal(64)
    expect(r.stdout + r.stderr).to.match(/undefined-var\.ejs:3: serverName is not defined/)
  })

  it('an unreachable host: exit 3, and the other host still finishes', async () => {
    const r = await muster(['apply', 'test/fixtures/e2e/playbook.ts', '-i', INV, '--limit', 'box:ghost', '-e', `root=${root}/u`, '--json'], { ...env, E2E_DEAD_PORT: '1' })
    expect(r.code).to.equal(3)
    expect(r.recap!.hosts.ghost!.unreachable).to.equal(true)
    expect(r.recap!.hosts.box!.changed).to.be.greaterThan(0)
    expect(existsSync(join(root, 'u/etc/motd'))).to.equal(true)
  })

  it('a host key that is not the recorded one is refused: exit 3, with the fingerprint', async () => {
    const other = join(root, 'known_hosts_other')
    // a valid key, but not this server's
    writeFileSync(other, `[127.0.0.1]:${sshd.port} ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n`)
    const r = await muster(['ping', 'box', '-i', INV], { ...env, E2E_KNOWN_HOSTS: other })
    expect(r.code).to.equal(3)
    expect(r.stdout).to.match(/box\s+UNREACHABLE.*SHA256:/)
    const unknown = await muster(['ping', 'box', '-i', INV], { ...env, E2E_KNOWN_HOSTS: join(root, 'empty_known_hosts') })
    expect(unknown.code).to.equal(3)
    expect(unknown.stdout).to.contain('--accept-new-host-keys')
  })

  it('usage errors: exit 64 and a pointer to --help', async () => {
    const r = await muster(['apply'], env)
    expect(r.code).to.equal(64)
    expect(r.stderr).to.contain('--help')
  })
})
