/**
 * `npm run bench`: the entry. The stack and fleet benches boot a lab of
 * their own (MUSTER_LAB_ID, default 7: its own subnet, hosts and state), so a
 * bench never resets or replaces the hosts of the lab the tests and the demo
 * use. The variable must be set before any lab module loads, hence this
 * file and the dynamic import.
 *
 *   npm run bench                                   # controller, stack, fleet
 *   npm run bench -- --only stack --runs 5
 *   MUSTER_LAB_ID=0 npm run bench -- --only stack   # on the default lab instead
 */
process.env.MUSTER_LAB_ID ??= '7'
await import('./main.ts')
