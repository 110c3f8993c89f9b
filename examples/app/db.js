// Two pools: writes go to the primary, reads to the database on this host (a
// replica, or the primary itself on the primary's host).
import mysql from 'mysql2/promise'

const SCHEMA = `CREATE TABLE IF NOT EXISTS items (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  value VARCHAR(1000) NOT NULL,
  written_by VARCHAR(255) NOT NULL,
  created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`

export function createDatabase(cfg) {
  const common = {
    user: cfg.user,
    password: cfg.password,
    database: cfg.name,
    connectionLimit: 8,
    connectTimeout: 2000,
    enableKeepAlive: true,
    dateStrings: true,
  }
  const local = mysql.createPool({ ...common, ...cfg.local })
  const primary = mysql.createPool({ ...common, ...cfg.primary })
  let schema = null

  // the table is made on the primary on first need and reaches replicas by replication;
  // a failure is not remembered, so the next write tries again
  function ensureSchema() {
    schema ??= primary.query(SCHEMA).catch((err) => {
      schema = null
      throw err
    })
    return schema
  }

  return {
    async health() {
      const [rows] = await local.query('SELECT 1 AS ok')
      return rows[0].ok === 1
    },
    async insert(value, writtenBy) {
      await ensureSchema()
      const [res] = await primary.execute('INSERT INTO items (value, written_by) VALUES (?, ?)', [value, writtenBy])
      return Number(res.insertId)
    },
    async read(id) {
      try {
        const [rows] = await local.execute('SELECT id, value, written_by, created_at FROM items WHERE id = ?', [id])
        return rows[0] ?? null
      } catch (err) {
        if (err.code === 'ER_NO_SUCH_TABLE') return null // nothing was ever written, or it has not replicated yet
        throw err
      }
    },
    ensureSchema,
    async close() {
      await Promise.allSettled([local.end(), primary.end()])
    },
  }
}
