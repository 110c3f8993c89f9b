import { execFileSync } from 'node:child_process'
import { expect } from 'chai'
import { becomeCommand, usesBecome } from '../../../src/ssh/become.ts'

describe('become', () => {
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
  it('applies only to a non-root login, defaulting to the host setting', () => {
    expect(usesBecome({ user: 'deploy', become: true })).to.equal(true)
    expect(usesBecome({ user: 'deploy', become: true }, false)).to.equal(false)
    expect(usesBecome({ user: 'deploy', become: false }, true)).to.equal(true)
    expect(usesBecome({ user: 'root', become: true }, true)).to.equal(false)
  })
})
