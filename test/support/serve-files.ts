import { readFileSync, statSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { join } from 'node:path'

/** Serve a directory's files over HTTP on `bindAddress` (a lab's bridge): what lab hosts download from. */
export async function serveDirectory(dir: string, bindAddress: string): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0]!)
    const file = join(dir, path)
    if (!file.startsWith(dir + '/') || path.includes('..')) return void res.writeHead(403).end()
    try {
      if (!statSync(file).isFile()) throw new Error('not a file')
      res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(readFileSync(file))
    } catch {
      res.writeHead(404).end()
    }
  })
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, bindAddress, resolve))
  const port = (server.address() as { port: number }).port
  return {
    url: `http://${bindAddress}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}
