import { homedir } from 'node:os'
import { join } from 'node:path'

/** `~/x` as ssh_config(5) reads it: inventory files carry paths like ~/.ssh/deploy_key. */
export function expandHome(path: string, home: string = homedir()): string {
  return path === '~' ? home : path.startsWith('~/') ? join(home, path.slice(2)) : path
}
