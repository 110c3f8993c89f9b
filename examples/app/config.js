// The app's settings, from its environment. On the hosts systemd loads them
// from /srv/app/shared/app.env (mode 0600): database credentials never sit in
// the release, in argv or in the unit file.
import { readFileSync } from 'node:fs'

function required(env, name) {
  const v = env[name]
  if (v === undefined || v === '') throw new Error(`${name} is not set (see /srv/app/shared/app.env)`)
  return v
}

function int(env, name, fallback) {
  const v = env[name]
  if (v === undefined || v === '') return fallback
  const n = Number(v)
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer, got ${JSON.stringify(v)}`)
  return n
}

/** The release this code belongs to: RELEASE_ID wins, else the RELEASE file the build put beside the code. */
export function releaseId(env, releaseFile) {
  if (env.RELEASE_ID) return env.RELEASE_ID
  try {
    return readFileSync(releaseFile, 'utf8').trim() || 'unknown'
  } catch {
    return 'dev' // running from a checkout, not from a built release
  }
}

export function loadConfig(env, releaseFile) {
  return {
    port: int(env, 'PORT', 3000),
    bind: env.BIND || '127.0.0.1',
    release: releaseId(env, releaseFile),
    shutdownTimeoutMs: int(env, 'SHUTDOWN_TIMEOUT_MS', 10000),
    db: {
      name: required(env, 'DB_NAME'),
      user: required(env, 'DB_USER'),
      password: required(env, 'DB_PASSWORD'),
      // reads: the database on this host, through its unix socket (or a host, for development)
      local: env.DB_LOCAL_HOST
        ? { host: env.DB_LOCAL_HOST, port: int(env, 'DB_LOCAL_PORT', 3306) }
        : { socketPath: env.DB_LOCAL_SOCKET || '/run/mysqld/mysqld.sock' },
      // writes: always the primary, wherever it is
      primary: { host: required(env, 'DB_PRIMARY_HOST'), port: int(env, 'DB_PRIMARY_PORT', 3306) },
    },
  }
}
