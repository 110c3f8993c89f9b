/**
 * The fleet bench's desired state as plain data, so the muster playbook
 * (playbook.ts) and the Ansible project written for the same fleet
 * (../ansible/fleet-project.ts) cannot drift apart: both are built from this.
 *
 * Twenty resources per host (twenty-one with the package-list refresh):
 * three directories, ten small files, three templates, a symlink, an absent
 * file, a package and its service.
 */

export interface FleetOptions {
  /** Prefix of every managed path: '' on real hosts, a scratch directory for the in-process servers. */
  root: string
  /** A Debian package that brings `unit`. */
  pkg: string
  unit: string
  /** Refresh apt's lists first (a day's grace), as a real playbook on bare hosts must. */
  aptUpdate: boolean
}

export const LAB_FLEET: FleetOptions = { root: '', pkg: 'cron', unit: 'cron', aptUpdate: true }

export interface ConfFile {
  name: string
  content: string
}

/** Ten drop-in files with distinct, deterministic content. */
export const CONF_FILES: readonly ConfFile[] = Array.from({ length: 10 }, (_, i) => {
  const n = String(i + 1).padStart(2, '0')
  return {
    name: `${n}-setting.conf`,
    content: `# benchapp drop-in ${n}\nsetting_${n} = ${(i + 1) * 7}\nenabled = ${i % 2 === 0 ? 'yes' : 'no'}\n`,
  }
})

export const TEMPLATES = ['app.conf', 'limits.conf', 'logging.conf'] as const

/** What the templates see, apart from paths (which depend on the root). */
export const TEMPLATE_VALUES = {
  port: 8080,
  workers: 4,
  features: ['compression', 'metrics', 'keepalive'],
  maxOpenFiles: 65536,
  logLevel: 'info',
} as const

export function fleetPaths(root: string) {
  const etc = `${root}/etc/benchapp`
  return {
    etc,
    confD: `${etc}/conf.d`,
    data: `${root}/var/lib/benchapp`,
    active: `${etc}/active.conf`,
    legacy: `${etc}/legacy.conf`,
  }
}

export function templateVars(root: string): Record<string, unknown> {
  return { ...TEMPLATE_VALUES, features: [...TEMPLATE_VALUES.features], dataDir: fleetPaths(root).data }
}
