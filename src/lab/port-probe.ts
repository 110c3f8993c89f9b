import { connect } from 'node:net'

/**
 * Whether something answers on address:port, and what it says first. Used to
 * know a host's sshd or the proxy is really serving (a process that exists
 * may not be listening yet, or may be a zombie).
 */
export function firstBytes(address: string, port: number, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const sock = connect({ host: address, port })
    let got = ''
    const done = (v: string | undefined): void => {
      clearTimeout(timer)
      sock.destroy()
      resolve(v)
    }
    const timer = setTimeout(() => done(got || undefined), timeoutMs)
    sock.on('data', (d: Buffer) => {
      got += d.toString('latin1')
      if (got.includes('\n')) done(got)
    })
    sock.on('error', () => done(undefined))
    sock.on('close', () => done(got || undefined))
  })
}

export function canConnect(address: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host: address, port })
    const done = (v: boolean): void => {
      clearTimeout(timer)
      sock.destroy()
      resolve(v)
    }
    const timer = setTimeout(() => done(false), timeoutMs)
    sock.on('connect', () => done(true))
    sock.on('error', () => done(false))
  })
}

/** An SSH server answers with its identification line (RFC 4253 4.2). */
export async function sshAnswers(address: string, timeoutMs = 1000): Promise<boolean> {
  const banner = await firstBytes(address, 22, timeoutMs)
  return banner?.startsWith('SSH-') ?? false
}
