import { expect } from 'chai'
import { spawn } from 'node:child_process'
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { scratchDirs } from '../support/scratch.ts'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { repoRoot } from '../support/cli.ts'
import { startSshd, type SshdHandle } from '../support/sshd.ts'

/**
 * `muster vault` as a user runs it, and an inventory reading a vault in a
 * real run over SSH. Processes start in their own session, with no terminal
 * to ask on, so a missing password is an error and not a prompt.
 */

interface Run {
  code: number
  stdout: string
  stderr: string
}

function run(args: string[], env: Record<string, string | undefined>, input?: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const childEnv: NodeJS.ProcessEnv = { ...process.env, CI: '1' }
    delete childEnv.MUSTER_VAULT_PASSWORD
    delete childEnv.MUSTER_VAULT_PASSWORD_FILE
    for (const [k, v] of Object.entries(env)) if (v === undefined) delete childEnv[k]
    else childEnv[k] = v
    const child = spawn(process.execPath, ['bin/muster.js', ...args], { cwd: repoRoot, env: childEnv, stdio: ['pipe', 'pipe', 'pipe'], detached: true })
    let stdout = ''
    let stderr = ''
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code: code ?? -1, stdout, stderr })
    })
    child.stdin.end(input ?? '')
  })
}

describe('e2e: muster vault', function () {
  this.timeout(120_000)
  const tmp = scratchDirs()
  let dir: string
  let file: string
  let pwEnv: Record<string, string>
  const DB = 'db-pass-3f9a1c77e2'
  const KEY = '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcw\nggSjAgEAAoIBAQC7ZvX0dGhpcyBpcyBub3Q\n-----END PRIVATE KEY-----'

  before(function () {
    dir = tmp.make('muster-vault-e2e-')
    file = join(dir, 'secrets.vault')
    const pw = join(dir, 'vault.pw')
    writeFileSync(pw, 'first password, long enough\n', { mode: 0o600 })
    pwEnv = { MUSTER_VAULT_PASSWORD_FILE: pw }
  })
  after(function () {
    tmp.removeAll()
  })

  it('set creates the vault (0600) from stdin, and the file holds no value or name in clear', async function () {
    const r = await run(['vault', 'set', file, 'db-password'], pwEnv, `${DB}\n`)
    expect(r.code, r.stderr).to.equal(0)
    expect(r.stderr).to.include(`created with db-password in ${file}`)
    const k = await run(['vault', 'set', file, 'tls-key'], pwEnv, `${KEY}\n`)
    expect(k.code, k.stderr).to.equal(0)
    expect(k.stderr).to.include('added tls-key')
    const text = readFileSync(file, 'utf8')
    expect(text.startsWith('$MUSTER_VAULT;1;')).to.equal(true)
    for (const clear of [DB, 'MIIEvQ', 'db-password', 'tls-key']) expect(text).to.not.include(clear)
    expect(statSync(file).mode & 0o777).to.equal(0o600)
  })

  it('list shows names only; get prints one value exactly', async function () {
    const l = await run(['vault', 'list', file], pwEnv)
    expect(l.code, l.stderr).to.equal(0)
    expect(l.stdout).to.equal('db-password\ntls-key\n')
    const g = await run(['vault', 'get', file, 'tls-key'], pwEnv)
    expect(g.code, g.stderr).to.equal(0)
    expect(g.stdout).to.equal(`${KEY}\n`)
  })

  it('setting the same value again leaves the file byte for byte as it was (no churn in git)', async function () {
    const before = readFileSync(file, 'utf8')
    const r = await run(['vault', 'set', file, 'db-password'], pwEnv, `${DB}\n`)
    expect(r.code, r.stderr).to.equal(0)
    expect(r.stderr).to.include('unchanged db-password')
    expect(readFileSync(file, 'utf8')).to.equal(before)
  })

  it('a wrong password, no password, or a missing name: exit 64, a clear message, no value shown', async function () {
    const wrong = await run(['vault', 'get', file, 'db-password'], { MUSTER_VAULT_PASSWORD: 'not the password at all' })
    expect(wrong.code).to.equal(64)
    expect(wrong.stderr).to.include(`${file}: cannot decrypt: the vault password is wrong`)
    expect(wrong.stdout + wrong.stderr).to.not.include(DB)
    const none = await run(['vault', 'get', file, 'db-password'], {})
    expect(none.code).to.equal(64)
    expect(none.stderr).to.match(/no terminal to ask on; set MUSTER_VAULT_PASSWORD_FILE/)
    const missing = await run(['vault', 'get', file, 'db-pasword'], pwEnv)
    expect(missing.code).to.equal(64)
    expect(missing.stderr).to.include('no secret "db-pasword" (it has db-password, tls-key)')
  })

  it('edit saves what the editor wrote when it parses; a broken edit or an editor that fails leaves the vault as it was', async function () {
    const editor = join(dir, 'editor.sh')
    const editWith = async (script: string): Promise<Run> => {
      writeFileSync(editor, `#!/bin/sh\n${script}\n`)
      chmodSync(editor, 0o755)
      return run(['vault', 'edit', file], { ...pwEnv, EDITOR: editor, VISUAL: undefined })
    }
    const before = readFileSync(file, 'utf8')
    const broken = await editWith('printf "app-token: [unclosed\\n" >> "$1"')
    expect(broken.code).to.equal(64)
    expect(broken.stderr).to.match(/the edited secrets: line \d+: .*was left as it was/)
    expect(readFileSync(file, 'utf8')).to.equal(before)
    const failing = await editWith('echo x >> "$1"; exit 3')
    expect(failing.code).to.equal(64)
    expect(failing.stderr).to.include('exited 3')
    expect(readFileSync(file, 'utf8')).to.equal(before)
    const untouched = await editWith('true')
    expect(untouched.code, untouched.stderr).to.equal(0)
    expect(untouched.stderr).to.include('no change')
    expect(readFileSync(file, 'utf8')).to.equal(before)
    const good = await editWith('printf "app-token: tok-77e1b2c9d0\\n" >> "$1"')
    expect(good.code, good.stderr).to.equal(0)
    expect(good.stderr).to.include('added app-token')
    expect((await run(['vault', 'get', file, 'app-token'], pwEnv)).stdout).to.equal('tok-77e1b2c9d0\n')
    // the plaintext is gone once the editor is done
    const { readdirSync } = await import('node:fs')
    const left = ['/dev/shm', tmpdir()].flatMap((d) => readdirSync(d).filter((n) => n.startsWith('muster-vault-') && join(d, n) !== dir))
    expect(left).to.deep.equal([])
  })

  it('unset removes one secret; rekey moves the vault to a new password and the old one stops working', async function () {
    const u = await run(['vault', 'unset', file, 'app-token'], pwEnv)
    expect(u.code, u.stderr).to.equal(0)
    expect((await run(['vault', 'list', file], pwEnv)).stdout).to.equal('db-password\ntls-key\n')
    // the environment's password opens the vault: rekey never takes it as the new one
    const noNew = await run(['vault', 'rekey', file], pwEnv)
    expect(noNew.code).to.equal(64)
    expect(noNew.stderr).to.match(/no terminal to ask on/)
    const newPw = join(dir, 'new.pw')
    writeFileSync(newPw, 'second password, also long\n', { mode: 0o600 })
    const r = await run(['vault', 'rekey', file, '--new-password-file', newPw], pwEnv)
    expect(r.code, r.stderr).to.equal(0)
    expect((await run(['vault', 'get', file, 'db-password'], pwEnv)).code).to.equal(64)
    const g = await run(['vault', 'get', file, 'db-password'], { MUSTER_VAULT_PASSWORD_FILE: newPw })
    expect(g.stdout).to.equal(`${DB}\n`)
    pwEnv = { MUSTER_VAULT_PASSWORD_FILE: newPw }
  })

  it('on a terminal it asks for the password (twice for a new vault) and the value, echoing none of them', async function () {
    const { spawnSync } = await import('node:child_process')
    if (spawnSync('script', ['--version']).status !== 0) this.skip() // util-linux's script gives the CLI a terminal
    const ttyVault = join(dir, 'tty.vault')
    const typed = ['typed password 1', 'typed password 1', 'typed-value-5e6f']
    const child = spawn('script', ['-qec', `${process.execPath} bin/muster.js vault set ${ttyVault} typed`, '/dev/null'], { cwd: repoRoot, env: { ...process.env, CI: '1', MUSTER_VAULT_PASSWORD_FILE: '' }, stdio: ['pipe', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    const done = new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? -1)))
    for (const [i, prompt] of ['new password for', 'again:', 'value for typed:'].entries()) {
      const deadline = Date.now() + 20_000
      while (!out.includes(prompt) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
      child.stdin.write(`${typed[i]}\r`)
    }
    child.stdin.end()
    expect(await done, out).to.equal(0)
    expect(out).to.include('created with typed')
    for (const t of typed) expect(out).to.not.include(t)
    const g = await run(['vault', 'get', ttyVault, 'typed'], { MUSTER_VAULT_PASSWORD: 'typed password 1' })
    expect(g.stdout).to.equal('typed-value-5e6f\n')
  })

  it('a password typed before the prompt appears is discarded, saying so, and never taken; answers typed ahead of the next prompt are not echoed', async function () {
    const { spawnSync } = await import('node:child_process')
    if (spawnSync('script', ['--version']).status !== 0) this.skip()
    const ttyVault = join(dir, 'typeahead.vault')
    const go = join(dir, 'typeahead.go')
    const early = 'typed-too-early-91c2'
    const [pw, value] = ['typed ahead password 2', 'typed-ahead-value-3a4b']
    // muster starts only once the early line sits in the terminal: the order is the test's, not the machine's load
    const shell = `while [ ! -e ${go} ]; do sleep 0.05; done; exec ${process.execPath} bin/muster.js vault set ${ttyVault} typed`
    const child = spawn('script', ['-qec', shell, '/dev/null'], { cwd: repoRoot, env: { ...process.env, CI: '1', MUSTER_VAULT_PASSWORD_FILE: '' }, stdio: ['pipe', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    const done = new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? -1)))
    const waitFor = async (text: string): Promise<void> => {
      const deadline = Date.now() + 30_000
      while (!out.includes(text) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
      expect(out, `waiting for ${JSON.stringify(text)}`).to.include(text)
    }
    child.stdin.write(`${early}\r`)
    await waitFor(early) // the terminal echoed it as it was typed: that is what muster must own up to
    writeFileSync(go, '')
    await waitFor('new password for')
    expect(out).to.include('what was typed before the prompt was discarded')
    // all three answers at once, before "again:" and "value for" are shown: none may echo
    child.stdin.write(`${pw}\r${pw}\r${value}\r`)
    child.stdin.end()
    expect(await done, out).to.equal(0)
    for (const t of [pw, value]) expect(out).to.not.include(t)
    expect((await run(['vault', 'get', ttyVault, 'typed'], { MUSTER_VAULT_PASSWORD: pw })).stdout).to.equal(`${value}\n`)
    expect((await run(['vault', 'get', ttyVault, 'typed'], { MUSTER_VAULT_PASSWORD: early })).code).to.equal(64)
  })

  describe('an inventory that reads the vault, in a real run over SSH', function () {
    const tmp = scratchDirs()
    let sshd: SshdHandle
    let root: string
    let env: Record<string, string>
    const PB = 'test/fixtures/e2e/vault-playbook.ts'
    const INV = 'test/fixtures/e2e/vault-inventory.ts'

    before(async function () {
      sshd = await startSshd()
      root = tmp.make('muster-vault-root-')
      env = { E2E_PORT: String(sshd.port), E2E_KEY: sshd.clientKeyFile, E2E_KNOWN_HOSTS: sshd.knownHostsFile, E2E_VAULT: file, MUSTER_STATE_DIR: dir, ...pwEnv }
    })
    after(async function () {
      await sshd?.stop()
      tmp.removeAll()
    })

    it('renders the secret into the host\'s file (0600) and never into output, with --diff and -v', async function () {
      const r = await run(['apply', PB, '-i', INV, '-e', `root=${root}`, '--diff', '-v'], env)
      expect(r.code, r.stdout + r.stderr).to.equal(0)
      expect(readFileSync(join(root, 'db.cnf'), 'utf8')).to.equal(`[client]\nuser = app\npassword = ${DB}\n`)
      expect(statSync(join(root, 'db.cnf')).mode & 0o777).to.equal(0o600)
      expect(r.stdout + r.stderr).to.not.include(DB)
    })

    it('a rotated secret: check --diff shows the password line changed, and neither the old value nor the new one', async function () {
      const NEW = 'rotated-pass-9b8c7d6e5f'
      const s = await run(['vault', 'set', file, 'db-password'], pwEnv, `${NEW}\n`)
      expect(s.code, s.stderr).to.equal(0)
      const c = await run(['check', PB, '-i', INV, '-e', `root=${root}`, '--diff'], env)
      expect(c.code, c.stdout + c.stderr).to.equal(2)
      expect(c.stdout).to.include('-password = ***')
      expect(c.stdout).to.include('+password = ***')
      expect(c.stdout + c.stderr).to.not.include(DB)
      expect(c.stdout + c.stderr).to.not.include(NEW)
    })

    it('without the vault password the run stops before any host is touched: exit 64, naming the vault', async function () {
      const r = await run(['apply', PB, '-i', INV, '-e', `root=${root}`], { ...env, MUSTER_VAULT_PASSWORD_FILE: undefined })
      expect(r.code).to.equal(64)
      expect(r.stderr).to.include(`${file} is a vault: set MUSTER_VAULT_PASSWORD_FILE`)
      expect(readFileSync(join(root, 'db.cnf'), 'utf8')).to.include(DB) // untouched
    })
  })
})
