import { createHmac, randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { appendFile, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect } from 'chai'
import { entryMatches, hostToken, KnownHostsIndex, parseKnownHosts } from '../../../src/ssh/known-hosts.ts'
import { memoValid, nextMemo, recallFrom, type FileMemo, type Learnt } from '../../../src/ssh/known-hosts-memo.ts'
import { lookUpHostKey, rememberHashedLines, saveHashedLineMemo } from '../../../src/ssh/host-key-check.ts'

const pub = (name: string): [string, string] =>
  readFileSync(new URL(`../../fixtures/ssh/${name}`, import.meta.url), 'utf8').trim().split(/\s+/) as [string, string]
const [ED_TYPE, ED_B64] = pub('host_ed25519.pub')
const [EC_TYPE, EC_B64] = pub('host_ecdsa.pub')
const ED = Buffer.from(ED_B64, 'base64')
const EC = Buffer.from(EC_B64, 'base64')
const hashed = (token: string): string => {
  const salt = randomBytes(20)
  return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(token).digest('base64')}`
}

const hosts = Array.from({ length: 120 }, (_, i) => `10.2.${i >> 8}.${i & 255}`)
const fleetText = (): string => hosts.map((h) => `${hashed(hostToken(h, 22))} ${ED_TYPE} ${ED_B64}`).join('\n') + '\n'

/** A first run: every host searched without a memo; what it learnt. */
function firstRun(text: string): { memo: FileMemo; index: KnownHostsIndex } {
  const index = new KnownHostsIndex(parseKnownHosts(text, 'kh').entries)
  for (const h of hosts) index.linesFor(h, 22)
  const learnt: Learnt[] = [...index.searched()].map(([token, lines]) => ({ token, through: Number.MAX_SAFE_INTEGER, lines }))
  return { memo: nextMemo(undefined, text, learnt), index }
}

const scan = (text: string, host: string, port = 22): number[] =>
  parseKnownHosts(text, 'kh').entries.filter((e) => entryMatches(e, host, port)).map((e) => e.line)

describe('known_hosts memo (hashed lines remembered between runs)', () => {
  it('a second run recalls every host: same lines as a line-by-line scan, and the memo names no host', () => {
    const text = fleetText()
    const { memo } = firstRun(text)
    expect(Object.keys(memo.hosts)).to.have.length(hosts.length)
    expect(memo.lines).to.equal(hosts.length)
    const json = JSON.stringify(memo)
    for (const h of hosts) expect(json).not.to.contain(h)
    const index = new KnownHostsIndex(parseKnownHosts(text, 'kh').entries, recallFrom(memo, text))
    for (const h of [...hosts].reverse()) {
      expect(index.linesFor(h, 22).map((e) => e.line)).to.deep.equal(scan(text, h))
      expect(index.recalled(h, 22), h).to.equal(true)
    }
    expect(index.linesFor('10.9.9.9', 22)).to.deep.equal([])
    expect(index.recalled('10.9.9.9', 22)).to.equal(false)
  })

  it('lines appended since are still found: a second key of a remembered host, a revoked key, a new host', () => {
    const text = fleetText()
    const { memo } = firstRun(text)
    const more = [
      `${hashed(hostToken(hosts[3]!, 22))} ${EC_TYPE} ${EC_B64}`,
      `@revoked ${hashed(hostToken(hosts[7]!, 22))} ${ED_TYPE} ${ED_B64}`,
      `${hashed('newcomer')} ${ED_TYPE} ${ED_B64}`,
      `${hashed(hostToken(hosts[9]!, 22))} ${EC_TYPE} ${EC_B64}`, // no newline: an unfinished last line
    ].join('\n')
    const grown = text + more
    expect(memoValid(memo, grown)).to.equal(true)
    const index = new KnownHostsIndex(parseKnownHosts(grown, 'kh').entries, recallFrom(memo, grown))
    for (const h of [hosts[3]!, hosts[7]!, hosts[9]!, 'newcomer', hosts[0]!]) expect(index.linesFor(h, 22).map((e) => e.line), h).to.deep.equal(scan(grown, h))
    expect(index.linesFor(hosts[3]!, 22)).to.have.length(2)
    expect(index.linesFor(hosts[7]!, 22).some((e) => e.revoked)).to.equal(true)
    // the next memo covers the finished lines only: the unfinished one is searched again next time
    const learnt = [...index.searched()].map(([token, lines]) => ({ token, through: Number.MAX_SAFE_INTEGER, lines }))
    const next = nextMemo(memo, grown, learnt)
    expect(next.lines).to.equal(hosts.length + 3)
    expect(next.salt).to.equal(memo.salt)
    const again = new KnownHostsIndex(parseKnownHosts(grown, 'kh').entries, recallFrom(next, grown))
    expect(again.linesFor(hosts[9]!, 22).map((e) => e.line)).to.deep.equal(scan(grown, hosts[9]!))
    expect(again.linesFor('newcomer', 22).map((e) => e.line)).to.deep.equal(scan(grown, 'newcomer'))
  })

  it('an edit before the end (a line removed, as ssh-keygen -R does) voids the memo', () => {
    const text = fleetText()
    const { memo } = firstRun(text)
    const edited = text.split('\n').slice(1).join('\n')
    expect(memoValid(memo, edited)).to.equal(false)
    expect(recallFrom(memo, edited)).to.equal(undefined)
    expect(recallFrom(undefined, text)).to.equal(undefined)
  })

  it('a remembered line that does not match its host (a memo from elsewhere, or altered) is not used: the host is searched as usual', () => {
    const text = fleetText()
    const { memo } = firstRun(text)
    // swap two hosts' entries
    const keys = Object.keys(memo.hosts)
    const swapped: FileMemo = { ...memo, hosts: { ...memo.hosts, [keys[0]!]: memo.hosts[keys[1]!]!, [keys[1]!]: memo.hosts[keys[0]!]! } }
    const index = new KnownHostsIndex(parseKnownHosts(text, 'kh').entries, recallFrom(swapped, text))
    for (const h of hosts) expect(index.linesFor(h, 22).map((e) => e.line), h).to.deep.equal(scan(text, h))
    expect(index.recalled(hosts[0]!, 22)).to.equal(false)
    expect(index.recalled(hosts[5]!, 22)).to.equal(true)
  })

  describe('in a run (host-key-check.ts)', () => {
    let dir: string
    let file: string
    let memoFile: string
    beforeEach(async () => {
      dir = await mkdtemp(join(tmpdir(), 'muster-khm-'))
      file = join(dir, 'known_hosts')
      memoFile = join(dir, 'cache', 'known-hosts-memo.json')
    })
    afterEach(async () => {
      rememberHashedLines(undefined)
      await rm(dir, { recursive: true, force: true })
    })

    const run = async (names: readonly string[], blob = ED): Promise<string[]> => {
      rememberHashedLines(memoFile)
      const out: string[] = []
      for (const h of names) {
        const found = await lookUpHostKey({ host: h, address: h, port: 22, file, acceptNew: false })
        out.push((await found.verify(blob)).recordedAt)
      }
      await saveHashedLineMemo()
      return out
    }

    it('the first run writes the memo (0600, no host named); the second recalls and verifies every host alike', async () => {
      await writeFile(file, fleetText())
      const first = await run(hosts)
      const m = JSON.parse(await readFile(memoFile, 'utf8')) as { files: Record<string, FileMemo> }
      expect(Object.keys(m.files)).to.deep.equal([file])
      expect(Object.keys(m.files[file]!.hosts)).to.have.length(hosts.length)
      expect((await stat(memoFile)).mode & 0o777).to.equal(0o600)
      const raw = await readFile(memoFile, 'utf8')
      for (const h of hosts) expect(raw).not.to.contain(h)
      expect(await run(hosts)).to.deep.equal(first)
    })

    it('a memo that hides a host\'s line never makes it unknown or changed: the key is searched for line by line', async () => {
      await writeFile(file, fleetText())
      await run(hosts)
      const m = JSON.parse(await readFile(memoFile, 'utf8')) as { files: Record<string, FileMemo> }
      const f = m.files[file]!
      for (const k of Object.keys(f.hosts)) f.hosts[k] = [f.lines] // every host: "no line matched"
      await writeFile(memoFile, JSON.stringify(m))
      expect(await run(hosts.slice(0, 5))).to.deep.equal(hosts.slice(0, 5).map((_, i) => `${file}:${i + 1}`))
      // and a key that really is different is still refused
      const e = await run([hosts[0]!], EC).catch((x: unknown) => x as Error)
      expect(String(e)).to.contain('records only ssh-ed25519')
    })

    it('a run that recalled every host from a memo covering the whole file leaves the memo as it was; a run after an append writes it anew', async () => {
      await writeFile(file, fleetText())
      await run(hosts)
      const before = await readFile(memoFile, 'utf8')
      await rm(memoFile)
      await writeFile(memoFile, before)
      const written = (await stat(memoFile)).mtimeMs
      await new Promise((r) => setTimeout(r, 20))
      await run(hosts.slice(0, 10))
      expect((await stat(memoFile)).mtimeMs, 'not rewritten').to.equal(written)
      await appendFile(file, `${hashed('newcomer')} ${ED_TYPE} ${ED_B64}\n`)
      await run(['newcomer', hosts[0]!])
      const after = JSON.parse(await readFile(memoFile, 'utf8')) as { files: Record<string, FileMemo> }
      expect(after.files[file]!.lines).to.equal(hosts.length + 1)
    })

    it('a memo that cannot be read is no memo: the run finds every host and writes a new one', async () => {
      await writeFile(file, fleetText())
      await run(hosts.slice(0, 3))
      await writeFile(memoFile, '{not json')
      expect(await run(hosts.slice(0, 3))).to.deep.equal([`${file}:1`, `${file}:2`, `${file}:3`])
      expect(JSON.parse(await readFile(memoFile, 'utf8')).version).to.equal(1)
    })
  })
})
