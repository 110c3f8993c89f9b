// `muster test roles/firewall`: a balancer's nftables ruleset on one lab host
// (SSH from anywhere, HTTP); a flushed ruleset is drift that apply loads again.
import { defineScenario, sideEffects } from 'muster/testing'
import { firewall } from '../index.ts'

const host = 'lb-01'

export default defineScenario({
  name: 'firewall balancer',
  hosts: { lab: [host], groups: { lb: [host] } },
  roles: [firewall],
  sideEffects: [sideEffects.shell(host, 'flush the ruleset', 'nft flush ruleset')],
  verify: (h) => [
    h(host).package('nftables').installed,
    h(host).command('nft list ruleset').stdoutContains('dport 80'),
    h(host).command('nft list ruleset').stdoutContains('dport 22'),
  ],
})
