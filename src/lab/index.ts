/**
 * muster lab: a local fleet of bare Debian 13 or 12 hosts (systemd + sshd), each in
 * its own network namespace, for the demo, the lab tests and the benches.
 */
export { labUp, type LabUpOptions, type LabUpResult, type LabHostReport } from './up.ts'
export { labDown, type LabDownResult } from './down.ts'
export { labStatus, type LabStatus, type LabHostStatus, type HostCondition } from './status.ts'
export { labReset } from './reset.ts'
export { labKillHost } from './kill-host.ts'
export { labExec, type LabExecOptions } from './exec.ts'
export { labHostSpecs } from './inventory.ts'
export { labSupport, type LabSupport } from './preflight.ts'
export { labDir, labFiles, referenceHosts, fleetNames, bridge } from './layout.ts'
export { readState, type LabState, type LabHostState } from './state.ts'
export { LabError, LabUnavailableError, LabNotUpError, LabCommandError } from './errors.ts'
export type { LabLog } from './log.ts'
