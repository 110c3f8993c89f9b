import { expect } from 'chai'
import { chmodSync, mkdtempSync, rmSync, writeFileSync, readFileSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { decryptVault, encryptVault, parseEntries, entriesToYaml, VaultError, type KdfParams } from '../../../src/vault/format.ts'
import { forgetTakenPassword, passwordFromEnv, vault, writeVault, readVault } from '../../../src/vault/vault.ts'
import { isSecret, maskSecrets } from '../../../src/core/secret.ts'

// a cheap key derivation for tests that only need the format to round-trip; one test uses the default
const fast: KdfParams = { N: 1024, r: 8, p: 1 }
const PW = 'correct horse battery'
const key = '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nBKcwggSjAgEAAoIBAQC7\n-----END PRIVATE KEY-----'

describe('vault format', function () {
  it('round-trips named secrets, multi-line ones too, and the file shows none of them', function () {
    const entries = { 'db-app-password': 'p&ss w0rd: "quoted"', 'tls-key': key, port: '3306' }
    const text = encryptVault(entries, PW, fast)
    expect(text).to.match(/^\$MUSTER_VAULT;1;scrypt:N=1024,r=8,p=1;aes-256-gcm\nsalt:[A-Za-z0-9+/=]+\niv:[A-Za-z0-9+/=]+\n/)
    for (const v of ['p&ss', 'w0rd', 'MIIEvQ', 'db-app-password', 'tls-key']) expect(text).to.not.include(v)
    expect(text.split('\n').every((l) => l.length <= 76 || l.startsWith('$MUSTER_VAULT'))).to.equal(true)
    expect(decryptVault(text, PW, 'x.vault')).to.deep.equal(entries)
  })

  it('encrypts the same secrets differently each time (fresh salt and IV)', function () {
    const a = encryptVault({ a: 'same value' }, PW, fast)
    const b = encryptVault({ a: 'same value' }, PW, fast)
    expect(a).to.not.equal(b)
  })

  it('works with the default key derivation (scrypt N=2^15)', function () {
    this.timeout(10_000)
    const text = encryptVault({ a: 'b-value' }, PW)
    expect(text.split('\n')[0]).to.equal('$MUSTER_VAULT;1;scrypt:N=32768,r=8,p=1;aes-256-gcm')
    expect(decryptVault(text, PW, 'v')).to.deep.equal({ a: 'b-value' })
  })

  it('a wrong password, a changed byte or a weakened header all fail to decrypt, naming the file', function () {
    const text = encryptVault({ a: 'secret-value' }, PW, fast)
    expect(() => decryptVault(text, 'wrong password', 'inv/s.vault')).to.throw(VaultError, /^inv\/s\.vault: cannot decrypt: the vault password is wrong, or the file was changed/)
    const lines = text.split('\n')
    const body = lines[3]!
    const flipped = [...lines.slice(0, 3), (body[0] === 'A' ? 'B' : 'A') + body.slice(1), ...lines.slice(4)].join('\n')
    expect(() => decryptVault(flipped, PW, 'v')).to.throw(/cannot decrypt/)
    const weaker = text.replace('N=1024', 'N=2048')
    expect(() => decryptVault(weaker, PW, 'v')).to.throw(/cannot decrypt/)
  })

  it('says what is wrong with a file that is not a vault, or is damaged, with the line', function () {
    expect(() => decryptVault('db-password: hunter2\n', PW, 's.vault')).to.throw(VaultError, /^s\.vault: line 1: not a muster vault \(it starts `db-password: hunter2`/)
    expect(() => decryptVault('$MUSTER_VAULT;2;scrypt:N=1024,r=8,p=1;aes-256-gcm\n', PW, 's.vault')).to.throw(/line 1: vault format version 2 is newer/)
    expect(() => decryptVault('$MUSTER_VAULT;1;argon2;chacha\n', PW, 's.vault')).to.throw(/line 1: a vault format this muster does not know/)
    const text = encryptVault({ a: 'value-1' }, PW, fast).split('\n')
    expect(() => decryptVault([text[0], 'salt:abc', ...text.slice(2)].join('\n'), PW, 's.vault')).to.throw(/s\.vault: line 2: expected `salt:` and 16 bytes/)
    expect(() => decryptVault([...text.slice(0, 3), 'not base64!'].join('\n'), PW, 's.vault')).to.throw(/not base64/)
    expect(() => decryptVault('$MUSTER_VAULT;1;scrypt:N=1000,r=8,p=1;aes-256-gcm\n', PW, 's.vault')).to.throw(/unusable scrypt parameters/)
    // a tampered header cannot make decryption cost gigabytes before it is refused
    expect(() => decryptVault('$MUSTER_VAULT;1;scrypt:N=2097152,r=8,p=1;aes-256-gcm\n', PW, 's.vault')).to.throw(/unusable scrypt parameters/)
    expect(() => decryptVault('$MUSTER_VAULT;1;scrypt:N=1024,r=8,p=1000;aes-256-gcm\n', PW, 's.vault')).to.throw(/unusable scrypt parameters/)
  })

  it('refuses a password under 8 characters', function () {
    expect(() => encryptVault({ a: 'b' }, 'short', fast)).to.throw(/at least 8 characters/)
  })

  describe('the plaintext (what `vault edit` shows)', function () {
    it('is YAML name: value, sorted, multi-line values as block scalars, and parses back to the same', function () {
      const yaml = entriesToYaml({ zeta: 'z-value', alpha: 'a: with colon', 'tls-key': key })
      expect(yaml.indexOf('alpha')).to.be.below(yaml.indexOf('tls-key'))
      expect(yaml).to.include('tls-key: |')
      expect(parseEntries(yaml, 'e')).to.deep.equal({ zeta: 'z-value', alpha: 'a: with colon', 'tls-key': key })
      expect(entriesToYaml({})).to.equal('{}\n')
      expect(parseEntries('{}\n', 'e')).to.deep.equal({})
      expect(parseEntries('', 'e')).to.deep.equal({})
    })

    it('names the line of a YAML mistake and of a duplicate name', function () {
      expect(() => parseEntries('a: one\nb: [unclosed\n', 'the edited secrets')).to.throw(VaultError, /^the edited secrets: line \d/)
      expect(() => parseEntries('a: one\na: two\n', 'the edited secrets')).to.throw(/line 2/)
    })

    it('wants a mapping of names to non-empty strings (numbers are kept as written)', function () {
      expect(() => parseEntries('- a\n- b\n', 'e')).to.throw(/a mapping of name: secret, not a list/)
      expect(() => parseEntries('a:\n', 'e')).to.throw(/"a" must be a non-empty string/)
      expect(() => parseEntries('a: {b: c}\n', 'e')).to.throw(/"a" must be a non-empty string/)
      expect(() => parseEntries('"bad name": x\n', 'e')).to.throw(/secret name "bad name"/)
      // every value is the text written: no number or boolean rewritten on the way through `vault edit`
      expect(parseEntries('pin: 0123\nflag: true\nbig: 12345678901234567890\nexp: 1e3\n', 'e')).to.deep.equal({ pin: '0123', flag: 'true', big: '12345678901234567890', exp: '1e3' })
    })
  })
})

describe('vault() for inventories', function () {
  let dir: string
  let file: string
  beforeEach(function () {
    dir = mkdtempSync(join(tmpdir(), 'muster-vault-'))
    file = join(dir, 'secrets.vault')
    writeFileSync(file, encryptVault({ 'db-password': 'vault-db-pass-1', 'tls-key': key }, PW, fast))
  })
  afterEach(function () {
    rmSync(dir, { recursive: true, force: true })
  })

  it('gives Secrets that print as *** and are masked in output, from a path or a URL', function () {
    const v = vault(pathToFileURL(file), { password: PW })
    const s = v.get('db-password')
    expect(isSecret(s)).to.equal(true)
    expect(String(s)).to.equal('***')
    expect(JSON.stringify({ s })).to.equal('{"s":"***"}')
    expect(s.reveal()).to.equal('vault-db-pass-1')
    expect(maskSecrets('connect with vault-db-pass-1 now')).to.equal('connect with *** now')
    expect(v.names()).to.deep.equal(['db-password', 'tls-key'])
    expect(v.has('tls-key')).to.equal(true)
    expect(v.file).to.equal(file)
  })

  it('a missing name says which file, what it has and how to add it', function () {
    const v = vault(file, { password: PW })
    expect(() => v.get('db-pasword')).to.throw(VaultError, `${file}: no secret "db-pasword" (it has db-password, tls-key); add it with \`muster vault set ${file} db-pasword\``)
  })

  it('reads the password from MUSTER_VAULT_PASSWORD_FILE (one trailing newline dropped) or MUSTER_VAULT_PASSWORD', function () {
    const pwFile = join(dir, 'pw')
    writeFileSync(pwFile, `${PW}\n`, { mode: 0o600 })
    expect(passwordFromEnv({ MUSTER_VAULT_PASSWORD_FILE: pwFile, MUSTER_VAULT_PASSWORD: 'ignored' })).to.equal(PW)
    expect(passwordFromEnv({ MUSTER_VAULT_PASSWORD: PW })).to.equal(PW)
    expect(passwordFromEnv({})).to.equal(undefined)
    expect(() => passwordFromEnv({ MUSTER_VAULT_PASSWORD_FILE: join(dir, 'nope') })).to.throw(/MUSTER_VAULT_PASSWORD_FILE=.*nope: no such file/)
    writeFileSync(pwFile, '\n')
    expect(() => passwordFromEnv({ MUSTER_VAULT_PASSWORD_FILE: pwFile })).to.throw(/is empty/)
  })

  it('takes MUSTER_VAULT_PASSWORD out of the environment once read, so no child process inherits it', function () {
    const saved = process.env.MUSTER_VAULT_PASSWORD_FILE
    delete process.env.MUSTER_VAULT_PASSWORD_FILE
    process.env.MUSTER_VAULT_PASSWORD = PW
    try {
      expect(vault(file).get('db-password').reveal()).to.equal('vault-db-pass-1')
      expect(process.env).to.not.have.property('MUSTER_VAULT_PASSWORD')
      expect(vault(file).names()).to.deep.equal(['db-password', 'tls-key']) // a second vault still opens
    } finally {
      forgetTakenPassword()
      delete process.env.MUSTER_VAULT_PASSWORD
      if (saved !== undefined) process.env.MUSTER_VAULT_PASSWORD_FILE = saved
    }
  })

  it('writeVault through a symlink replaces the target and keeps the link', async function () {
    const { symlinkSync, lstatSync } = await import('node:fs')
    const link = join(dir, 'link.vault')
    symlinkSync(file, link)
    writeVault(link, { a: 'via-the-link' }, PW)
    expect(lstatSync(link).isSymbolicLink()).to.equal(true)
    expect(readVault(file, PW)).to.deep.equal({ a: 'via-the-link' })
  })

  it('without a password it says how to give one, and decrypts only when first used', function () {
    const saved = { f: process.env.MUSTER_VAULT_PASSWORD_FILE, p: process.env.MUSTER_VAULT_PASSWORD }
    delete process.env.MUSTER_VAULT_PASSWORD_FILE
    delete process.env.MUSTER_VAULT_PASSWORD
    try {
      const v = vault(file) // no error yet: an inventory may build a vault it never reads
      expect(() => v.get('db-password')).to.throw(VaultError, `${file} is a vault: set MUSTER_VAULT_PASSWORD_FILE`)
    } finally {
      if (saved.f !== undefined) process.env.MUSTER_VAULT_PASSWORD_FILE = saved.f
      if (saved.p !== undefined) process.env.MUSTER_VAULT_PASSWORD = saved.p
    }
  })

  it('writeVault replaces the file whole and keeps its mode; a new one is 0600', function () {
    chmodSync(file, 0o640)
    writeVault(file, { a: 'first-value' }, PW)
    expect(statSync(file).mode & 0o777).to.equal(0o640)
    expect(readVault(file, PW)).to.deep.equal({ a: 'first-value' })
    const fresh = join(dir, 'new.vault')
    writeVault(fresh, { a: 'first-value' }, PW)
    expect(statSync(fresh).mode & 0o777).to.equal(0o600)
    expect(readVault(fresh, PW)).to.deep.equal({ a: 'first-value' })
    expect(readFileSync(fresh, 'utf8')).to.not.include('first-value')
    expect(() => readVault(join(dir, 'absent.vault'), PW)).to.throw(/absent\.vault: no such vault file/)
  })
})
