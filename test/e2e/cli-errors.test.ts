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

  it('an unknown host pattern: exit 64', async () => {
    const r = await muster(['apply', 'test/fixtures/e2e/playbook.ts', '-i', INV, '--limit', 'nosuchhost'], env)
    expect(r.code).to.equal(64)
    expect(r.stderr).to.contain("unknown host or group 'nosuchhost'")
  })

  it('a playbook that does not type-check: exit 64 with the compiler message, nothing run', async () => {
    const r = await muster(['apply', 'test/fixtures/e2e/ill-typed.ts', '-i', INV, '--limit', 'box'], env)
    expect(r.code).to.equal(64)
    expect(r.stderr).to.contain('does not type-check')
    expect(r.stderr).to.match(/ill-typed\.ts\(4,\d+\)/)
    expect(existsSync('/tmp/muster-ill-typed')).to.equal(false)
  })

  it('a playbook that throws while loading: exit 64 with its message', async () => {
    const r = await muster(['apply', 'test/fixtures/e2e/throws.ts', '-i', INV, '--limit', 'box'], env)
    expect(r.code).to.equal(64)
    expect(r.stderr).to.contain('threw while loading: boom while loading')
    noStack(r.stderr)
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
