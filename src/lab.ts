/**
 * `muster/lab`: the local lab's hosts for inventories that target it
 * (`import { labHostSpecs } from 'muster/lab'`, as inventory/lab.ts does).
 */
export { labHostSpecs } from './lab/inventory.ts'
export { labSecret } from './lab/secrets.ts'
export { labCertificate, type LabCertificate } from './lab/tls.ts'
