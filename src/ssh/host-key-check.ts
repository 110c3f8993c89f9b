import { appendFile, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { dirname, join } from 'node:path'
import { HostKeyError } from './connection.ts'
import { trace } from '../core/trace.ts'
import {
  algorithmsOfLines,
  fingerprintSha256,
  judgeLines,
  keyTypeOf,
  knownHostsLine,
  KnownHostsIndex,
  parseKnownHosts,
  where,
  type HostKeyVerdict,
  type KnownHostsEntry,
} from './known-hosts.ts'
import { completeLines, memoValid, nextMemo, recallFrom, type FileMemo, type Learnt, type MemoFile } from './known-hosts-memo.ts'

/**
 * The I/O half of host-key verification: read one known_hosts file, judge the
 * key a server presented, and record new keys when asked to. A recorded key is
 * never rewritten here, whatever the flags.
 */

export function defaultKnownHostsFile(): string {
  return join(homedir(), '.ssh', 'known_hosts')
}

/**
 * Parsed and indexed once per file and version: a run connecting to 1000 hosts
 * reads a 1000-line known_hosts once, not twice per host (measured: 13 ms per
 * connection otherwise), and each host's lines are searched for once
 * (KnownHostsIndex). A stat tells when the file changed (an appended key).
 * Connections starting together share one read.
 */
interface Loaded {
  index: KnownHostsIndex
  text: string
}
const parsed = new Map<string, { mtimeMs: number; size: number; loaded: Promise<Loaded> }>()
const EMPTY = new KnownHostsIndex([])

/**
 * Stats of one file in flight, shared: a fleet's connections start together,
 * and a thousand stats of the same file cost ~0.6 s of the controller's CPU.
 */
const statting = new Map<string, Promise<{ mtimeMs: number; size: number }>>()

function statOnce(file: string): Promise<{ mtimeMs: number; size: number }> {
  let p = statting.get(file)
  if (!p) {
    p = stat(file).finally(() => statting.delete(file))
    statting.set(file, p)
  }
  return p
}

/** `fresh`: a stat of its own, begun now (under the append lock, a shared stat may predate the last append). */
export async function loadKnownHosts(file: string, fresh = false): Promise<KnownHostsIndex> {
  let st: { mtimeMs: number; size: number }
  try {
    st = await (fresh ? stat(file) : statOnce(file))
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return EMPTY
    throw e
  }
  const hit = parsed.get(file)
  if (hit && hit.mtimeMs === st.mtimeMs && hit.size === st.size) return (await hit.loaded).index
  // the version replaced (a key appended meanwhile) keeps what it learnt, for the memo
  if (hit) void hit.loaded.then((old) => keepLearnt(file, old), () => undefined)
  const loaded = readKnownHosts(file)
  parsed.set(file, { ...st, loaded })
  loaded.catch(() => {
    if (parsed.get(file)?.loaded === loaded) parsed.delete(file)
  })
  try {
    return (await loaded).index
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return EMPTY
    throw e
  }
}

async function readKnownHosts(file: string): Promise<Loaded> {
  const text = await readFile(file, 'utf8')
  const recall = memo && text.includes('|1|') ? recallFrom((await readMemoOnce())?.files[file], text) : undefined
  return { index: new KnownHostsIndex(parseKnownHosts(text, file).entries, recall), text }
}

/**
 * The memo of hashed lines (known-hosts-memo.ts), when a command asks for one:
 * read once per process, written back by saveHashedLineMemo at the end of a run.
 */
let memo: { path: string; read?: Promise<MemoFile | undefined> } | undefined
const learntBefore = new Map<string, Learnt[]>()

/**
 * Keep (and use) a memo of which hashed known_hosts lines matched which host,
 * in this file; undefined turns it off. A run begins here: files are read
 * afresh, with the memo.
 */
export function rememberHashedLines(path: string | undefined): void {
  memo = path === undefined ? undefined : { path }
  learntBefore.clear()
  parsed.clear()
}

function readMemoOnce(): Promise<MemoFile | undefined> {
  if (!memo) return Promise.resolve(undefined)
  return (memo.read ??= readMemoFile(memo.path))
}

async function readMemoFile(path: string): Promise<MemoFile | undefined> {
  try {
    const m = JSON.parse(await readFile(path, 'utf8')) as MemoFile
    return m && m.version === 1 && typeof m.files === 'object' && m.files !== null ? m : undefined
  } catch {
    // missing or unreadable: the run searches as if there were none, and writes a new one
    return undefined
  }
}

function learntOf({ index, text }: Loaded, through = completeLines(text)): Learnt[] {
  return [...index.searched()].map(([token, lines]) => ({ token, through, lines }))
}

function keepLearnt(file: string, old: Loaded): void {
  if (memo && old.index.hashed) learntBefore.set(file, [...(learntBefore.get(file) ?? []), ...learntOf(old)])
}

/**
 * Write what this run learnt of hashed known_hosts files to the memo, over
 * what the memo file holds now (another process may have written it since we
 * read it). A memo that cannot be written costs the next run its speed, never
 * its result: the caller ignores a failure.
 */
export async function saveHashedLineMemo(): Promise<void> {
  if (!memo) return
  const path = memo.path
  const onDisk = (await readMemoFile(path))?.files ?? {}
  const ours: Record<string, FileMemo> = {}
  for (const [file, p] of parsed) {
    const loaded = await p.loaded.catch(() => undefined)
    if (!loaded?.index.hashed) continue
    const learnt = [...(learntBefore.get(file) ?? []), ...learntOf(loaded, Number.MAX_SAFE_INTEGER)]
    if (learnt.length === 0) continue
    const { searched, recalled } = loaded.index.counts
    trace(`known_hosts ${file}: ${recalled} of ${searched} hosts recalled from the memo of hashed lines`)
    const prev = memoValid(onDisk[file], loaded.text) ? onDisk[file] : (await readMemoOnce())?.files[file]
    // every host recalled from a memo that still covers the whole file: it would be written unchanged
    if (recalled === searched && !learntBefore.has(file) && prev === onDisk[file] && prev?.lines === completeLines(loaded.text)) continue
    ours[file] = nextMemo(prev, loaded.text, learnt)
  }
  if (Object.keys(ours).length === 0) return
  const all: MemoFile = { version: 1, files: { ...onDisk, ...ours } }
  await mkdir(dirname(path), { recursive: true, mode: 0o700 })
  const tmp = `${path}.${process.pid}.tmp`
  await writeFile(tmp, JSON.stringify(all), { mode: 0o600 })
  await rename(tmp, path)
}

export async function hostKeyAlgorithmsFor(file: string, address: string, port: number): Promise<string[]> {
  return algorithmsOfLines((await loadKnownHosts(file)).linesFor(address, port))
}

export interface HostKeyCheck {
  /** Inventory name, for messages. */
  host: string
  /** What known_hosts is searched for (and records): the address we connect to. */
  address: string
  port: number
  file: string
  acceptNew: boolean
}

export interface HostKeyAccepted {
  /** file:line of the matching entry, or of the line just appended. */
  recordedAt: string
  appended: boolean
}

/** One connection's known_hosts answer: the recorded key types (for the handshake), then the verdict on the key presented. */
export interface HostKeyLookup {
  algorithms: string[]
  verify(blob: Buffer): Promise<HostKeyAccepted>
}

/** Search known_hosts for the host once; the key the server presents is judged against the same lines. */
export async function lookUpHostKey(check: HostKeyCheck): Promise<HostKeyLookup> {
  const index = await loadKnownHosts(check.file)
  const lines = index.linesFor(check.address, check.port)
  return { algorithms: algorithmsOfLines(lines), verify: (blob) => verifyHostKey(check, blob, { index, lines }) }
}

/** Accept the key or throw a HostKeyError that tells the user what to check and how. `found`: the host's lines, when already looked up. */
export async function verifyHostKey(check: HostKeyCheck, blob: Buffer, found?: { index: KnownHostsIndex; lines: readonly KnownHostsEntry[] }): Promise<HostKeyAccepted> {
  const index = found?.index ?? (await loadKnownHosts(check.file))
  const first = judgeVerdict(check, blob, verdictOf(index, check, blob, found?.lines))
  if (first) return first
  if (!check.acceptNew) throw unknownHostError(check, blob)
  // Re-judge under the file's lock: another connection may have recorded this host meanwhile.
  return withFileLock(check.file, async () => {
    const again = await judge(check, blob, true)
    if (again) return again
    const line = await appendKnownHost(check.file, knownHostsLine(check.address, check.port, blob))
    return { recordedAt: `${check.file}:${line}`, appended: true }
  })
}

async function judge(check: HostKeyCheck, blob: Buffer, fresh: boolean): Promise<HostKeyAccepted | undefined> {
  return judgeVerdict(check, blob, verdictOf(await loadKnownHosts(check.file, fresh), check, blob))
}

/** The verdict on the key presented. An answer recalled from the memo stands only when it is `known`: any other is searched for again, every line tested. */
function verdictOf(index: KnownHostsIndex, check: HostKeyCheck, blob: Buffer, lines: readonly KnownHostsEntry[] = index.linesFor(check.address, check.port)): HostKeyVerdict {
  const verdict = judgeLines(lines, blob)
  if (verdict.kind === 'known' || !index.recalled(check.address, check.port)) return verdict
  return judgeLines(index.allLinesFor(check.address, check.port), blob)
}

function judgeVerdict(check: HostKeyCheck, blob: Buffer, verdict: HostKeyVerdict): HostKeyAccepted | undefined {
  const fp = fingerprintSha256(blob)
  const type = keyTypeOf(blob) ?? 'unknown-type'
  const name = describeHost(check)
  switch (verdict.kind) {
    case 'known':
      return { recordedAt: where(verdict.entry), appended: false }
    case 'unknown':
      return undefined
    case 'revoked':
      throw new HostKeyError(check.host, `host key for ${name} is REVOKED (${type} ${fp}, @revoked at ${where(verdict.entry)}); refusing to connect`, fp)
    case 'changed':
      throw new HostKeyError(
        check.host,
        `WARNING: HOST KEY FOR ${name} HAS CHANGED. Someone could be intercepting the connection, or the host was reinstalled. ` +
          `It now presents ${type} ${fp}; the recorded key is at ${verdict.recorded.map(where).join(', ')}. ` +
          `Refusing to connect. If the change is expected, remove that line (ssh-keygen -R) after checking the new fingerprint; muster never replaces a recorded key.`,
        fp,
      )
    case 'other-type':
      throw new HostKeyError(
        check.host,
        `host key for ${name} does not match: it presents ${type} ${fp}, but ${check.file} records only ` +
          `${[...new Set(verdict.recorded.map((e) => e.keyType))].join(', ')} for it (${verdict.recorded.map(where).join(', ')}). ` +
          `Refusing to connect; muster never replaces a recorded key.`,
        fp,
      )
  }
}

function unknownHostError(check: HostKeyCheck, blob: Buffer): HostKeyError {
  const fp = fingerprintSha256(blob)
  return new HostKeyError(
    check.host,
    `host key for ${describeHost(check)} is not known: ${keyTypeOf(blob)} ${fp} is not in ${check.file}; ` +
      `verify it, then run again with --accept-new-host-keys to record it`,
    fp,
  )
}

function describeHost(check: HostKeyCheck): string {
  const addr = check.port === 22 ? check.address : `${check.address}:${check.port}`
  return check.host === check.address ? addr : `${check.host} (${addr})`
}

/** Append one line, creating the file 0600 and its directory 0700 as ssh does. Returns its line number. */
async function appendKnownHost(file: string, line: string): Promise<number> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 })
  let existing = ''
  try {
    existing = await readFile(file, 'utf8')
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e
  }
  const sep = existing === '' || existing.endsWith('\n') ? '' : '\n'
  await appendFile(file, `${sep}${line}\n`, { mode: 0o600 })
  const before = existing === '' ? 0 : existing.split('\n').length - (existing.endsWith('\n') ? 1 : 0)
  return before + 1
}

/** Appends to one file are serialised within the process, so parallel first connects do not interleave or duplicate. */
const locks = new Map<string, Promise<unknown>>()

function withFileLock<T>(file: string, fn: () => Promise<T>): Promise<T> {
  const prev = locks.get(file) ?? Promise.resolve()
  const next = prev.then(fn, fn)
  const tail = next.then(
    () => undefined,
    () => undefined,
  )
  locks.set(file, tail)
  void tail.then(() => {
    if (locks.get(file) === tail) locks.delete(file)
  })
  return next
}
