import { expect } from 'chai'
import { isIP } from 'node:net'
import { ipFamily } from '../../../src/core/ip-family.ts'

describe('ipFamily: net.isIP without the IPv6 pattern for names that cannot be IPv6', () => {
  it('agrees with net.isIP', () => {
    for (const s of ['10.84.0.11', '0.0.0.0', '256.1.1.1', '::1', 'fe80::1%eth0', '2001:db8::/32', '2001:db8::', 'web-01', 'example.org', '', '1.2.3', '::ffff:10.0.0.1', 'a:b']) {
      expect(ipFamily(s), s).to.equal(isIP(s))
    }
  })
})
