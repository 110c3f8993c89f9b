import http from 'node:http'
import https from 'node:https'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { labDir } from '../../src/lab/layout.ts'
import { labHostSpecs } from '../../src/lab/inventory.ts'

/**
 * HTTP to the lab as a browser would see the site: HTTPS through lb-01,
 * verified against the lab's own CA (inventory/lab.ts makes it), never with
 * verification turned off.
 */

/** The lab CA's certificate: what the lab's clients trust. */
export function labCa(): Buffer {
  return readFileSync(join(labDir(), 'tls', 'ca.pem'))
}

/** The lab address of `host`, from the lab's own inventory (never hard-coded, never outside the lab). */
export function labAddress(host: string): string {
  const spec = labHostSpecs()[host]
  if (!spec?.address) throw new Error(`${host} is not a host of the running lab`)
  return spec.address
}

/** The site's URL through the load balancer. */
export function siteUrl(path = '/', lb = 'lb-01'): string {
  return `https://${labAddress(lb)}${path}`
}

export interface Reply {
  status: number
  headers: http.IncomingHttpHeaders
  body: string
}

/** One request on a connection of its own (so HAProxy balances every one); https URLs trust the lab CA. */
export function request(url: string, opts: { method?: string; body?: string; timeoutMs?: number } = {}): Promise<Reply> {
  const secure = url.startsWith('https:')
  return new Promise((resolve, reject) => {
    const req = (secure ? https : http).request(
      url,
      {
        method: opts.method ?? 'GET',
        agent: false,
        ...(secure ? { ca: labCa() } : {}),
        headers: { Connection: 'close', ...(opts.body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
        timeout: opts.timeoutMs ?? 5000,
      },
      (res) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (d: string) => (body += d))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
      },
    )
    req.on('timeout', () => req.destroy(new Error(`${url}: timed out`)))
    req.on('error', reject)
    req.end(opts.body)
  })
}
