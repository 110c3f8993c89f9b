import { expect } from 'chai'
import { mkdtemp, rm, writeFile, readFile, readdir, stat, chmod, chown, mkdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { writeFileAtomic, validateSpec, writeScript, ValidationError, STDIN_LIMIT } from '../../../src/resources/write-file.ts'
import { createApplyContext, localHostInfo } from '../../../src/engine/apply-context.ts'
import { LocalConnection } from '../../../src/ssh/local-connection.ts'
import { RemoteCommandError } from '../../../src/core/errors.ts'
import type { Connection, ExecOptions } from '../../../src/ssh/connection.ts'

/** Remembers every command and stdin that went to the host. */
class RecordingConnection extends LocalConnection {
  readonly commands: string[] = []
  readonly stdins: string[] = []
  override exec(command: string, opts: ExecOptions = {}) {
    this.commands.push(command)
    if (opts.stdin !== undefined) this.stdins.push(opts.stdin.toString())
    return super.exec(command, opts)
  }
}

const ctxOn = (conn: Connection = new LocalConnection()) => createApplyContext(localHostInfo(), conn)
const isRoot = process.getuid?.() === 0

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p
  } catch (err) {
    return err as Error
  }
  throw new Error('expected a rejection')
}

describe('writeFileAtomic', () => {
  let dir: string
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'muster-write-'))
  })
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true })
  })
  const at = (n: string) => join(dir, n)
  const leftovers = async () => (await readdir(dir)).filter((n) => n.includes('muster'))

  it('creates a file from stdin, 0644 by default, and leaves no temp file', async () => {
    await writeFileAtomic(ctxOn(), at('new.conf'), Buffer.from('a = 1\n'))
    expect(await readFile(at('new.conf'), 'utf8')).to.equal('a = 1\n')
    expect(((await stat(at('new.conf'))).mode & 0o7777).toString(8)).to.equal('644')
    expect(await leftovers()).to.deep.equal([])
  })

  it('keeps the mode and owner of the file it replaces when none are asked for', async function () {
    if (!isRoot) this.skip()
    await writeFile(at('x'), 'old')
    await chown(at('x'), 65534, 4) // before chmod: chown clears setuid
    await chmod(at('x'), 0o4750)
    await writeFileAtomic(ctxOn(), at('x'), Buffer.from('new'))
    const st = await stat(at('x'))
    expect(await readFile(at('x'), 'utf8')).to.equal('new')
    expect((st.mode & 0o7777).toString(8)).to.equal('4750')
    expect([st.uid, st.gid]).to.deep.equal([65534, 4])
  })

  it('sets the mode and owner asked for, setuid bits surviving the chown', async function () {
    if (!isRoot) this.skip()
    await writeFileAtomic(ctxOn(), at('s'), Buffer.from('#!/bin/sh\n'), { mode: '4755', owner: 'nobody', group: 'adm' })
    const st = await stat(at('s'))
    expect((st.mode & 0o7777).toString(8)).to.equal('4755')
    expect([st.uid, st.gid]).to.deep.equal([65534, 4])
  })

  it('replaces by rename: the new file is a new inode, and readers of the old one keep it', async () => {
    await writeFile(at('r'), 'old\n')
    const before = (await stat(at('r'))).ino
    await writeFileAtomic(ctxOn(), at('r'), Buffer.from('new\n'))
    expect((await stat(at('r'))).ino).to.not.equal(before)
  })

  describe('validation on the temp file (%s)', () => {
    it('refuses bad content: the live file keeps its bytes and inode, the error carries the validator output', async () => {
      await writeFile(at('sudoers'), 'good\n')
      const ino = (await stat(at('sudoers'))).ino
      const err = await rejection(
        writeFileAtomic(ctxOn(), at('sudoers'), Buffer.from('bad\n'), { validate: `grep -q good %s || { echo "syntax error near line 1" >&2; exit 1; }` }),
      )
      expect(err).to.be.instanceOf(ValidationError)
      expect(err.message).to.include('syntax error near line 1').and.include('live file is unchanged')
      expect(await readFile(at('sudoers'), 'utf8')).to.equal('good\n')
      expect((await stat(at('sudoers'))).ino).to.equal(ino)
      expect(await leftovers()).to.deep.equal([])
    })

    it('passes good content, and %s names the temp file, not the live one', async () => {
      await writeFile(at('sudoers'), 'good old\n')
      await writeFileAtomic(ctxOn(), at('sudoers'), Buffer.from('good new\n'), { validate: `grep -q 'good new' %s && test %s != ${at('sudoers')}` })
      expect(await readFile(at('sudoers'), 'utf8')).to.equal('good new\n')
    })
  })

  describe('validation in place (the whole config tree)', () => {
    // a tiny "server": loads conf.d/* (no dotfiles, like nginx's glob), fails on a duplicate server name or BROKEN
    const checker = (conf: string) =>
      `cat ${conf}/* | grep -v '^#' | sort | uniq -d | grep . && { echo "duplicate in ${conf}" >&2; exit 1; }; ` +
      `if grep -l BROKEN ${conf}/*; then echo "conf test failed" >&2; exit 1; fi; echo "configuration ok"`

    let conf: string
    beforeEach(async () => {
      conf = at('conf.d')
      await mkdir(conf)
      await writeFile(join(conf, 'a.conf'), 'server a\n')
      await writeFile(join(conf, 'b.conf'), 'server b\n')
    })

    it('a file that breaks the tree is put back exactly (same inode), and the run fails with the validator output', async () => {
      const ino = (await stat(join(conf, 'b.conf'))).ino
      const err = await rejection(
        writeFileAtomic(ctxOn(), join(conf, 'b.conf'), Buffer.from('server a\n'), { validate: { command: checker(conf), inPlace: true } }),
      )
      expect(err).to.be.instanceOf(ValidationError)
      expect(err.message).to.include(`duplicate in ${conf}`)
      expect(await readFile(join(conf, 'b.conf'), 'utf8')).to.equal('server b\n')
      expect((await stat(join(conf, 'b.conf'))).ino).to.equal(ino)
      expect((await readdir(conf)).sort()).to.deep.equal(['a.conf', 'b.conf'])
    })

    it('backup in place: kept when the new file is accepted, not made when it is refused', async () => {
      const backups = async () => (await readdir(conf)).filter((n) => n.endsWith('~'))
      await rejection(writeFileAtomic(ctxOn(), join(conf, 'b.conf'), Buffer.from('BROKEN\n'), { validate: checker(conf), backup: true }))
      expect(await backups()).to.deep.equal([])
      await writeFileAtomic(ctxOn(), join(conf, 'b.conf'), Buffer.from('server bb\n'), { validate: checker(conf), backup: true })
      const [b] = await backups()
      expect(await readFile(join(conf, b), 'utf8')).to.equal('server b\n')
      expect(await readFile(join(conf, 'b.conf'), 'utf8')).to.equal('server bb\n')
      expect((await readdir(conf)).filter((n) => n.startsWith('.'))).to.deep.equal([])
    })

    it('a new file that breaks the tree is removed again', async () => {
      const err = await rejection(writeFileAtomic(ctxOn(), join(conf, 'c.conf'), Buffer.from('BROKEN\n'), { validate: checker(conf) }))
      expect(err).to.be.instanceOf(ValidationError)
      expect((await readdir(conf)).sort()).to.deep.equal(['a.conf', 'b.conf'])
    })

    it('a good file stays, and the validator saw it in place with no stray temp files in the tree', async () => {
      const seen = `test "$(ls ${conf} | tr '\\n' ' ')" = "a.conf b.conf c.conf " && grep -q 'server c' ${conf}/c.conf`
      await writeFileAtomic(ctxOn(), join(conf, 'c.conf'), Buffer.from('server c\n'), { validate: { command: `${seen} && ${checker(conf)}`, inPlace: true } })
      expect(await readFile(join(conf, 'c.conf'), 'utf8')).to.equal('server c\n')
      expect((await readdir(conf)).sort()).to.deep.equal(['a.conf', 'b.conf', 'c.conf'])
    })
  })

  it('validate: a string without %s means in place; an object without %s must say inPlace', () => {
    expect(validateSpec('nginx -t')).to.deep.equal({ command: 'nginx -t', inPlace: true })
    expect(validateSpec('visudo -cf %s')).to.deep.equal({ command: 'visudo -cf %s', inPlace: false })
    expect(() => validateSpec({ command: 'nginx -t' })).to.throw(/%s/)
    expect(() => validateSpec('')).to.throw(/empty/)
  })

  it('backup: keeps the replaced file as path.<UTC timestamp>~', async () => {
    await writeFile(at('b.conf'), 'v1\n')
    await writeFileAtomic(ctxOn(), at('b.conf'), Buffer.from('v2\n'), { backup: true })
    const backups = (await readdir(dir)).filter((n) => /^b\.conf\.\d{8}T\d{6}Z~$/.test(n))
    expect(backups).to.have.length(1)
    expect(await readFile(at(backups[0]), 'utf8')).to.equal('v1\n')
    expect(await readFile(at('b.conf'), 'utf8')).to.equal('v2\n')
  })

  it('a failure halfway (unknown owner) leaves the live file and no temp behind', async () => {
    await writeFile(at('f'), 'keep\n')
    const err = await rejection(writeFileAtomic(ctxOn(), at('f'), Buffer.from('x'), { owner: 'no-such-user-muster' }))
    expect(err).to.be.instanceOf(RemoteCommandError)
    expect(err.message).to.include(`\`write ${at('f')}\` exited 1`).and.include('no-such-user-muster')
    expect(await readFile(at('f'), 'utf8')).to.equal('keep\n')
    expect(await leftovers()).to.deep.equal([])
  })

  it(`content over ${STDIN_LIMIT / 1024} KiB goes by put to a 0600 upload, which is removed`, async () => {
    const conn = new RecordingConnection()
    const big = Buffer.alloc(STDIN_LIMIT + 10, 'x')
    await writeFileAtomic(ctxOn(conn), at('big'), big)
    expect((await readFile(at('big'))).equals(big)).to.equal(true)
    expect(conn.stats.sftpOps).to.equal(1)
    expect(conn.stdins.every((s) => s.length < 1024)).to.equal(true)
    const upload = conn.commands.map((c) => /^up=(\S+)$/m.exec(c)?.[1]).find(Boolean) as string
    expect(upload).to.match(/^\/tmp\/muster-upload\./)
    const left = await stat(upload).then(() => true, () => false)
    expect(left).to.equal(false)
  })

  it('content travels on stdin only, never in the command', async () => {
    const conn = new RecordingConnection()
    await writeFileAtomic(ctxOn(conn), at('env'), Buffer.from('DB_PASSWORD=hunter2-s3cret\n'), { mode: '0600' })
    expect(conn.commands.join('\n')).to.not.include('hunter2-s3cret')
    expect(conn.stdins.join('\n')).to.include('hunter2-s3cret')
    expect(await readFile(at('env'), 'utf8')).to.equal('DB_PASSWORD=hunter2-s3cret\n')
  })

  it('the script is one exec, with paths quoted', () => {
    const s = writeScript("/etc/it's here.conf", { mode: '0640' })
    expect(s).to.include(`t='/etc/it'\\''s here.conf'`)
    expect(s).to.include(`mktemp -- '/etc/.it'\\''s here.conf.muster-XXXXXX'`)
    expect(s).to.include('mv -fT -- "$tmp" "$t"')
  })
})
