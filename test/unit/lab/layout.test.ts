import { expect } from 'chai'
import { fleetNames, hostAddress, netnsName, vethName, labId, upSpec } from '../../../src/lab/layout.ts'
import { labMac } from '../../../src/lab/network.ts'

describe('lab layout', function () {
  it('names the default fleet after the reference stack', function () {
    expect(fleetNames(undefined)).to.deep.equal(['web-01', 'web-02', 'lb-01', 'db-03'])
    expect(fleetNames(4)).to.deep.equal(['web-01', 'web-02', 'lb-01', 'db-03'])
  })

  it('numbers other fleet sizes node-01..node-NN', function () {
    expect(fleetNames(2)).to.deep.equal(['node-01', 'node-02'])
    const fifty = fleetNames(50)
    expect(fifty).to.have.length(50)
    expect([fifty[0], fifty[49]]).to.deep.equal(['node-01', 'node-50'])
    expect(fleetNames(120)[0]).to.equal('node-001')
  })

  it('refuses sizes and names the network cannot hold', function () {
    expect(() => fleetNames(0)).to.throw(/whole number from 1 to 244/)
    expect(() => fleetNames(245)).to.throw(/1 to 244/)
    expect(() => fleetNames(2.5)).to.throw(/whole number/)
    expect(() => fleetNames(['Web-01'])).to.throw(/lower-case/)
    expect(() => fleetNames(['a-very-long-name'])).to.throw(/1-12/)
    expect(() => fleetNames(['web-01', 'web-01'])).to.throw(/twice/)
    expect(() => fleetNames([])).to.throw(/at least one/)
  })

  it('`lab up --ha` asks for the reference four and lb-02, and refuses --hosts beside it', function () {
    expect(fleetNames(upSpec({ ha: true }))).to.deep.equal(['web-01', 'web-02', 'lb-01', 'db-03', 'lb-02'])
    expect(upSpec({ hosts: 50 })).to.equal(50)
    expect(upSpec({})).to.equal(undefined) // the fleet that is up, else the four
    expect(() => upSpec({ ha: true, hosts: 4 })).to.throw(/leave out --hosts/)
  })

  it('derives addresses, namespaces, links and MACs from the host', function () {
    // lab N (MUSTER_LAB_ID) lives on 10.(77+N).0.0/24 with its own name prefix; lab 0 is the default
    const net = `10.${77 + labId}.0`
    expect(hostAddress(1)).to.equal(`${net}.11`)
    expect(hostAddress(4)).to.equal(`${net}.14`)
    expect(netnsName('web-01')).to.equal(labId === 0 ? 'muster-web-01' : `muster${labId}-web-01`)
    // Linux link names stop at 15 characters: the longest allowed host name must fit
    expect(vethName('abcdefghijkl').length).to.be.at.most(15)
    expect(labMac('10.77.0.11')).to.equal('02:4d:0a:4d:00:0b')
    expect(labMac('10.77.0.1')).to.equal('02:4d:0a:4d:00:01')
  })
})
