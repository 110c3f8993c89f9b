import { execFileSync } from 'node:child_process'
import { expect } from 'chai'
import { Secret } from '../../../src/core/secret.ts'
import { BecomeGate, becomeCommand, newMarks, usesBecome, type BecomeHow } from '../../../src/ssh/become.ts'

const marks = { ready: 'muster-become-ready-X', prompt: 'muster-become-prompt-X' }
const pw = new Secret('hunter2-become-test')

describe('become', () => {
  describe('the command line', () => {
    it('wraps the command for sudo without a password prompt, quoted as one sh -c argument', () => {
      expect(becomeCommand('id -u')).to.equal(`sudo -n -H -- sh -c 'id -u'`)
      expect(becomeCommand(`echo 'a b' "$HOME"`)).to.equal(`sudo -n -H -- sh -c 'echo '\\''a b'\\'' "$HOME"'`)
    })
    it('the quoted command survives a real shell intact', () => {
      const cmd = `printf '%s|' "it's" '$HOME' "a  b"`
      // replace sudo by a plain prefix so the test runs anywhere: the quoting is what is under test
      const wrapped = becomeCommand(cmd).replace(/^sudo -n -H -- /, '')
      expect(execFileSync('/bin/sh', ['-c', wrapped], { encoding: 'utf8' })).to.equal(execFileSync('/bin/sh', ['-c', cmd], { encoding: 'utf8' }))
    })
    it('each method, to root or another user; never -n where a password will be answered', () => {
      const root = (method: BecomeHow['method'], password?: Secret): BecomeHow => ({ method, user: 'root', ...(password ? { password } : {}) })
      expect(becomeCommand('id', root('sudo', pw), marks)).to.equal(`sudo -S -p ${marks.prompt} -H -- sh -c 'echo ${marks.ready} >&2; exec sh -c id'`)
      expect(becomeCommand('id', root('sudo-rs'))).to.equal(`sudo-rs -n -- sh -c id`)
      expect(becomeCommand('id', root('sudo-rs', pw), marks)).to.equal(`sudo-rs -S -- sh -c 'echo ${marks.ready} >&2; exec sh -c id'`)
      expect(becomeCommand('id', root('doas'))).to.equal(`doas -n -- sh -c id`)
      // another user starts in / (the login user's home may be closed to it)
      expect(becomeCommand('id', { method: 'doas', user: 'app' })).to.equal(`doas -n -u app -- sh -c 'cd / || exit 1\nid'`)
      expect(becomeCommand('id', { method: 'sudo', user: 'app' })).to.equal(`sudo -n -H -u app -- sh -c 'cd / || exit 1\nid'`)
      expect(becomeCommand('id', { method: 'su', user: 'app', password: pw }, marks)).to.equal(`su app -c 'echo ${marks.ready} >&2; exec sh -c '\\''cd / || exit 1\nid'\\'''`)
    })
    it('the password is never part of the command line', () => {
      for (const method of ['sudo', 'sudo-rs', 'su', 'doas'] as const) {
        expect(becomeCommand('id', { method, user: 'root', password: pw }, newMarks())).not.to.include(pw.reveal())
      }
    })
    it('the su script runs the command with sh -c semantics in a real shell', () => {
      const cmd = `printf '%s|' "it's" a`
      const line = becomeCommand(cmd, { method: 'su', user: 'root', password: pw }, marks)
      const script = execFileSync('/bin/sh', ['-c', `set -- ${line.replace(/^su root -c /, '')}; printf %s "$1"`], { encoding: 'utf8' })
      expect(execFileSync('/bin/sh', ['-c', script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })).to.equal(`it's|a|`)
    })
  })

  it('applies only when the login user is not the target, defaulting to the host setting', () => {
    expect(usesBecome({ user: 'deploy', become: true, ssh: {} })).to.equal(true)
    expect(usesBecome({ user: 'deploy', become: true, ssh: {} }, false)).to.equal(false)
    expect(usesBecome({ user: 'deploy', become: false, ssh: {} }, true)).to.equal(true)
    expect(usesBecome({ user: 'root', become: true, ssh: {} }, true)).to.equal(false)
    expect(usesBecome({ user: 'root', become: true, ssh: { becomeUser: 'app' } })).to.equal(true)
    expect(usesBecome({ user: 'app', become: true, ssh: { becomeUser: 'app' } })).to.equal(false)
  })

  describe('the password exchange (stderr as the tools print it on Debian 13)', () => {
    it('sudo: answers its prompt mark once, then starts the command and keeps its stderr', () => {
      const g = new BecomeGate({ method: 'sudo', user: 'root', password: pw }, marks)
      expect(g.feed('We trust you have received the usual lecture\n')).to.deep.equal({ kind: 'wait' })
      expect(g.feed(`muster-become-pro`)).to.deep.equal({ kind: 'wait' })
      expect(g.feed(`mpt-X`)).to.deep.equal({ kind: 'answer', text: `${pw.reveal()}\n` })
      expect(g.feed(`${marks.ready}\ncommand's own stderr`)).to.deep.equal({ kind: 'ready', rest: "command's own stderr" })
      expect(g.feed('more')).to.deep.equal({ kind: 'ready', rest: 'more' })
    })
    it('sudo: a second prompt is a wrong password', () => {
      const g = new BecomeGate({ method: 'sudo', user: 'root', password: pw }, marks)
      expect(g.feed(marks.prompt).kind).to.equal('answer')
      const step = g.feed(`\nSorry, try again.\n${marks.prompt}`)
      expect(step.kind).to.equal('fail')
      expect((step as { message: string }).message).to.equal('wrong password: sudo asked for it again: Sorry, try again.')
    })
    it('no prompt at all (NOPASSWD, a cached credential): the password is never sent', () => {
      const g = new BecomeGate({ method: 'sudo', user: 'root', password: pw }, marks)
      expect(g.feed(`${marks.ready}\n`)).to.deep.equal({ kind: 'ready', rest: '' })
    })
    it('sudo-rs and su: their own prompts, answered once', () => {
      const rs = new BecomeGate({ method: 'sudo-rs', user: 'root', password: pw }, marks)
      expect(rs.feed('[sudo: authenticate] Password: ').kind).to.equal('answer')
      expect(rs.feed('\n[sudo: authenticate] Password: ').kind).to.equal('fail')
      const su = new BecomeGate({ method: 'su', user: 'root', password: pw }, marks)
      expect(su.feed('Pass').kind).to.equal('wait')
      expect(su.feed('word: ').kind).to.equal('answer')
      expect(su.feed(`${marks.ready}\n`).kind).to.equal('ready')
    })
    it('a tool that exits first says why, in its own words, secrets masked', () => {
      const su = new BecomeGate({ method: 'su', user: 'root', password: pw }, marks)
      su.feed('Password: ')
      su.feed(`su: Authentication failure (${pw.reveal()})\n`)
      expect(su.ended(1)).to.equal('su exited 1 before running the command: Password: su: Authentication failure (***)')
      expect(su.timedOut(8000)).to.match(/^no answer from su within 8 s/)
    })
  })
})
