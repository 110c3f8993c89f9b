/** What every server gets: accounts' access, kernel parameters, names and clocks (issue 20). */
export { sudoers, type SudoersOptions } from './sudoers.ts'
export { sysctl, type SysctlOptions } from './sysctl.ts'
export { hostname, type HostnameOptions } from './hostname.ts'
export { timezone, type TimezoneOptions } from './timezone.ts'
export { sysctlValue, type SysctlValue } from '../../facts/sysctl.ts'
export { authorizedKeys, type AuthorizedKeysOptions } from './authorized-keys.ts'
export { sshdConfig, type SshdConfigOptions, type SshdValue } from './sshd-config.ts'
export { locale, type LocaleOptions } from './locale.ts'
