import { createHash, createHmac, timingSafeEqual } from 'node:crypto'
import type { AuthPlan } from './auth.ts'

/**
 * A seal over text a run leaves on disk for a later run to send to a host
 * before it has planned anything (the probe script sent ahead: preconnect.ts).
 * The state directory may be shared, restored from a CI cache or written by
 * someone else; the seal is an HMAC keyed by the private key this connection
 * logged in with, so only someone who can already log in as that user could
 * have made a script that is sent that way. Connections logged in through an
 * agent or a password have no key here: nothing is sent ahead on them.
 */
export type SealKey = Buffer

/** The seal key of the credential that logged in: the last one tried, when it is a key file. */
export function sealKeyOf(plan: AuthPlan, tried: readonly string[]): SealKey | undefined {
  const used = plan.candidates.find((c) => c.label === tried.at(-1))
  if (used?.kind !== 'key' || !used.key.isPrivateKey()) return undefined
  return createHash('sha256').update('muster seal v1\0').update(used.key.getPrivatePEM()).digest()
}

export function sealOf(key: SealKey, host: string, text: string): string {
  return createHmac('sha256', key).update(host).update('\0').update(text).digest('hex')
}

export function sealHolds(key: SealKey, host: string, text: string, seal: string): boolean {
  const want = Buffer.from(sealOf(key, host, text), 'hex')
  const got = Buffer.from(seal, 'hex')
  return got.length === want.length && timingSafeEqual(got, want)
}
