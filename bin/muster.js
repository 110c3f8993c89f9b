#!/usr/bin/env node
// The CLI and users' playbooks are TypeScript run without a build step:
// tsx's loader is registered once, before anything else is imported.
import { register } from 'tsx/esm/api'
register()
const { main } = await import('../src/cli/main.ts')
process.exitCode = await main(process.argv.slice(2))
