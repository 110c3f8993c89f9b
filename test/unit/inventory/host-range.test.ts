import { expect } from 'chai'
import { parseHostPattern } from '../../../src/inventory/host-range.ts'
import { InventoryError } from '../../../src/inventory/types.ts'

const at = { file: 'inv.ini', line: 7 }

describe('parseHostPattern', () => {
  const table: [text: string, names: string[], port?: string][] = [
    ['web-01', ['web-01']],
    ['web-[01:03]', ['web-01', 'web-02', 'web-03']],
    ['web-[1:3]', ['web-1', 'web-2', 'web-3']],
    ['web-[8:11]', ['web-8', 'web-9', 'web-10', 'web-11']],
    ['n[00:10:5].lan', ['n00.lan', 'n05.lan', 'n10.lan']],
    ['db-[a:c]', ['db-a', 'db-b', 'db-c']],
    ['r[1:2]-[a:b]', ['r1-a', 'r1-b', 'r2-a', 'r2-b']],
    ['web-[:2]', ['web-0', 'web-1', 'web-2']],
    ['web-[01:02]:2222', ['web-01', 'web-02'], '2222'],
    ['db.example.com:5309', ['db.example.com'], '5309'],
    ['2001:db8::1', ['2001:db8::1']],
    ['[2001:db8::1]:2222', ['2001:db8::1'], '2222'],
  ]
  for (const [text, names, port] of table) {
    it(`${text} -> ${names.join(' ')}${port ? ` port ${port}` : ''}`, () => {
      expect(parseHostPattern(text, at)).to.deep.equal({ names, port })
    })
  }
  const errors: [text: string, message: string][] = [
    ['web-[03:01]', 'runs backwards'],
    ['web-[01:100]', 'same width'],
    ['web-[1:a]', 'bounds must be two numbers or two letters'],
    ['web-[1:3:0]', "invalid step '0'"],
    ['web-[1]', "invalid host range '[1]'"],
    ['web:ssh', "invalid port 'ssh'"],
  ]
  for (const [text, message] of errors) {
    it(`${text} is an error: ${message}`, () => {
      expect(() => parseHostPattern(text, at)).to.throw(InventoryError, message).with.property('message').that.contains('inv.ini:7')
    })
  }
})
