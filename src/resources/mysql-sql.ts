import type { ApplyContext } from '../contract/resource.ts'
import { MYSQL_CLIENT } from '../facts/mysql.ts'

/** `mysql --batch` as root over the socket, reading SQL from stdin. */
export const MYSQL_BATCH = `${MYSQL_CLIENT} --batch`

/** A SQL string literal: quotes doubled, backslashes escaped (the server's default sql_mode reads them). */
export function sqlString(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "''").replace(/\0/g, '\\0')}'`
}

/** `name` as a SQL identifier. */
export function sqlIdent(name: string): string {
  return `\`${name.replace(/`/g, '``')}\``
}

/** Run SQL (from stdin) as root; what it prints comes back. */
export async function runSql(ctx: ApplyContext, sql: string, timeoutMs?: number): Promise<string> {
  const res = await ctx.run(MYSQL_BATCH, { stdin: sql, ...(timeoutMs !== undefined ? { timeoutMs } : {}) })
  return res.stdout
}
