import { execFileSync } from 'node:child_process'
import { existsSync, linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { ipFamily } from '../core/ip-family.ts'
import { join } from 'node:path'
import { secret, type Secret } from '../core/secret.ts'
import { labDir } from './layout.ts'

/** A certificate for a lab host, signed by the lab's own CA. */
export interface LabCertificate {
  /** PEM of the host's certificate (what HAProxy presents). */
  certificate: string
  /** PEM of its private key: a Secret, so it never reaches output or argv. */
  key: Secret
  /** The lab CA's certificate file on this machine, for clients (curl --cacert, node's `ca`). */
  caFile: string
}

const tlsDir = (): string => join(labDir(), 'tls')

function openssl(args: string[]): void {
  // keys are written to files by openssl itself; nothing secret passes through argv or stdout
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] })
}

/** Write `make`'s output beside `file`, then link it into place: two runs at once end with one CA, not two. */
function once(file: string, make: (tmp: string) => void): void {
  if (existsSync(file)) return
  const tmp = `${file}.${process.pid}.tmp`
  make(tmp)
  try {
    linkSync(tmp, file)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
  } finally {
    rmSync(tmp, { force: true })
  }
}

/**
 * The lab's CA (made once per lab, kept in its directory, mode 0600 for keys)
 * and a certificate for `host` naming every one of `names` (host names and IP
 * addresses). Re-issued when the names change; the lab's clients trust the
 * CA, never a skipped verification.
 */
export function labCertificate(host: string, names: readonly string[]): LabCertificate {
  const dir = tlsDir()
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const caKey = join(dir, 'ca.key')
  const caFile = join(dir, 'ca.pem')
  once(caKey, (tmp) => openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', tmp]))
  once(caFile, (tmp) => openssl(['req', '-x509', '-new', '-key', caKey, '-sha256', '-days', '3650', '-subj', '/CN=muster lab CA', '-out', tmp]))

  const san = [...new Set(names)].map((n) => (ipFamily(n) !== 0 ? `IP:${n}` : `DNS:${n}`)).join(',')
  const base = join(dir, host.replace(/[^\w.-]/g, '_'))
  const sanFile = `${base}.san`
  if (!existsSync(`${base}.pem`) || !existsSync(sanFile) || readFileSync(sanFile, 'utf8') !== san) {
    const tmp = `${base}.${process.pid}`
    try {
      openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', `${tmp}.key`])
      openssl(['req', '-new', '-key', `${tmp}.key`, '-subj', `/CN=${host}`, '-out', `${tmp}.csr`])
      writeFileSync(`${tmp}.ext`, `subjectAltName=${san}\nextendedKeyUsage=serverAuth\n`)
      openssl(['x509', '-req', '-in', `${tmp}.csr`, '-CA', caFile, '-CAkey', caKey, '-CAcreateserial', '-sha256', '-days', '825', '-extfile', `${tmp}.ext`, '-out', `${tmp}.pem`])
      // key before certificate: a reader that finds the new certificate finds its key
      writeFileSync(`${base}.key`, readFileSync(`${tmp}.key`), { mode: 0o600 })
      writeFileSync(`${base}.pem`, readFileSync(`${tmp}.pem`))
      writeFileSync(sanFile, san)
    } finally {
      for (const ext of ['key', 'csr', 'ext', 'pem']) rmSync(`${tmp}.${ext}`, { force: true })
    }
  }
  return { certificate: readFileSync(`${base}.pem`, 'utf8'), key: secret(readFileSync(`${base}.key`, 'utf8')), caFile }
}
