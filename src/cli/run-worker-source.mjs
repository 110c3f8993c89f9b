// The thread of `--workers` when muster runs from its TypeScript source under tsx (its own
// tests and bench): a worker thread does not inherit tsx's --import, so it registers tsx
// itself before loading the worker. tsx is a devDependency: only a checkout gets here;
// dist/ starts its threads from the compiled run-worker.js.
import { register } from 'tsx/esm/api'

register()
await import('./run-worker.ts')
