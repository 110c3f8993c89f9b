import { expect } from 'chai'
import { unifiedDiff, contentDiff, isBinary } from '../../../src/resources/diff.ts'

describe('diff', () => {
  it('is a unified diff with host and muster sides named, and nothing else', () => {
    expect(unifiedDiff('/etc/a.conf', 'a\nb\nc\n', 'a\nB\nc\n')).to.equal(
      ['--- /etc/a.conf (host)', '+++ /etc/a.conf (muster)', '@@ -1,3 +1,3 @@', ' a', '-b', '+B', ' c', ''].join('\n'),
    )
  })
  it('is empty when nothing differs', () => {
    expect(unifiedDiff('/x', 'same\n', 'same\n')).to.equal('')
    expect(contentDiff('/x', 'same\n', Buffer.from('same\n'))).to.equal('')
  })
  it('a new file diffs against nothing', () => {
    expect(unifiedDiff('/x', null, 'a\n')).to.equal('--- /x (host)\n+++ /x (muster)\n@@ -0,0 +1,1 @@\n+a\n')
  })
  it('shows a missing final newline', () => {
    expect(unifiedDiff('/x', 'a\n', 'a')).to.include('\\ No newline at end of file')
  })
  it('keeps 3 lines of context around a change', () => {
    const before = Array.from({ length: 20 }, (_, i) => `line ${i}`).join('\n') + '\n'
    const after = before.replace('line 10\n', 'line ten\n')
    expect(unifiedDiff('/x', before, after)).to.include('@@ -8,7 +8,7 @@\n line 7\n line 8\n line 9\n-line 10\n+line ten\n line 11\n')
  })
  it('binary content: one line, no bytes', () => {
    expect(isBinary(Buffer.from([0x4d, 0x5a, 0x00]))).to.equal(true)
    expect(isBinary(Buffer.from([0xff, 0xfe, 0x41]))).to.equal(true)
    expect(isBinary(Buffer.from('héllo\n'))).to.equal(false)
    expect(contentDiff('/bin/x', 'text\n', Buffer.from([0, 1, 2]))).to.equal('binary content differs: /bin/x')
    expect(contentDiff('/bin/x', 'MZ\u0000', Buffer.from('text\n'))).to.equal('binary content differs: /bin/x')
  })
})
