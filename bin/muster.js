#!/usr/bin/env node
// Runs the compiled CLI in dist/. An installed package ships dist/ only and
// never builds: its directory may belong to another user (a global install).
// In a checkout of muster itself (src/ and scripts/ beside dist/), dist/ is
// rebuilt first whenever a file under src/ is newer than the last build, so
// the CLI never runs stale code (the check is a stat of each source file).
import { existsSync, readdirSync, statSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))

function newestMtime(dir) {
  let newest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = `${dir}/${entry.name}`
    const m = entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs
    if (m > newest) newest = m
  }
  return newest
}

if (existsSync(`${root}src`) && existsSync(`${root}scripts/build.mjs`)) {
  const stamp = `${root}dist/.stamp`
  if (!existsSync(stamp) || statSync(stamp).mtimeMs < newestMtime(`${root}src`)) {
    const { buildDist } = await import('../scripts/build.mjs')
    await buildDist()
  }
}

// apply and check: the last identical run's handshakes start before the rest of the CLI loads,
// which waits for them briefly (src/cli/early.ts says why). Only a head start: whatever goes
// wrong there, the run proceeds without it.
try {
  const { startEarly } = await import('../dist/early.js')
  await startEarly(process.argv.slice(2))
} catch {
  // the run connects as it always did
}

const { main } = await import('../dist/cli.js')
process.exitCode = await main(process.argv.slice(2))
