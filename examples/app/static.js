// public/ served by the app itself, for when nobody stands in front of it
// (development). On the hosts Nginx serves /static/ straight from disk.
import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { extname, join, normalize, sep } from 'node:path'

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
}

/** Resolve a URL path under `root`, or null when it would leave it. */
export function staticPath(root, urlPath) {
  let rel
  try {
    rel = decodeURIComponent(urlPath)
  } catch {
    return null
  }
  if (rel.includes('\0')) return null
  const full = normalize(join(root, rel))
  return full === root || full.startsWith(root.endsWith(sep) ? root : root + sep) ? full : null
}

export async function serveStatic(root, urlPath, res, closing = false) {
  const file = staticPath(root, urlPath)
  const st = file ? await stat(file).catch(() => null) : null
  if (!file || !st || !st.isFile()) return false
  res.writeHead(200, {
    'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream',
    'Content-Length': st.size,
    'X-Served-By': 'app',
    ...(closing ? { Connection: 'close' } : {}),
  })
  createReadStream(file).pipe(res)
  return true
}
