/**
 * muster's public API: what playbooks, roles and inventories import
 * (`import { role, playbook, apt, template } from 'muster'`).
 */
// composing playbooks
export { role, play, playbook, MissingVarError } from './engine/playbook.ts'
export type { Role, TypedRole, RoleContext, RoleDeclaration, InventoryVars, RequiredVars, RoleItem, Play, PlayOptions, Playbook, HostContext, Serial } from './engine/playbook.ts'
// typed roles: what a role's vars are, checked before a run
export { roleVar, varKinds } from './engine/role-vars.ts'
export { hostsFrom, type HostsFromVars } from './engine/play-hosts.ts'
export type { VarKind, VarOptions, VarSpec, VarDecls, VarValues, VarInputs, RequiredVarNames } from './engine/role-vars.ts'
export type { HostFacts } from './engine/host-facts.ts'

// the resource catalogue
export * from './resources/files.ts'
export * from './resources/system.ts'
export * from './resources/server/index.ts'
export { mysqlDatabase, mysqlUser, mysqlReplica, mysqlGlobals, mysqlNativeHash, runSql, sqlString, sqlIdent } from './resources/mysql.ts'
export { mysqlServer, mysqlDatabaseState, mysqlUserState, mysqlReplicaState } from './resources/mysql.ts'
export type { MysqlDatabaseOptions, MysqlUserOptions, MysqlPrivileges, MysqlReplicaOptions, MysqlGlobalsOptions, MysqlSettingValue } from './resources/mysql.ts'
export type { MysqlServerInfo, MysqlDatabaseInfo, MysqlUserInfo, MysqlReplicaInfo } from './resources/mysql.ts'
export { buildRelease, releaseUpload, currentRelease, releasePaths, RELEASE_MANIFEST } from './resources/release.ts'
export type { Release, ReleaseOptions, ReleaseUploadOptions, CurrentReleaseOptions } from './resources/release.ts'
export { liveRelease, type LiveReleaseOptions } from './resources/live-release.ts'
// live state against config: the environment a service's process runs with
export { unitEnvironment, type UnitEnvironmentOptions } from './resources/unit-environment.ts'
// ... and HAProxy's servers as its runtime API has them
export { haproxyServers, parseServersState, type HaproxyServersOptions, type ServerRuntimeState } from './resources/haproxy-servers.ts'
// a host's firewall (nftables): default drop, SSH always open, named ports from named sources
export { firewall, nftLoaded, renderNftRuleset, NFT_CONF, NFT_STATE, NFT_TABLE, type FirewallOwnership } from './resources/firewall.ts'
export type { FirewallOptions, AllowRule } from './resources/firewall.ts'
// rolling deploys: `muster/deploy`; the lab's hosts: `muster/lab`

// writing your own resources and facts
export { resource, change, noChange, ok, unknownPlan } from './contract/resource.ts'
export type { Resource, Plan, Change, NoChange, UnknownPlan, ApplyContext, Handler, ResourceMeta, ProbeSpec, Observed, DiffRequest, RunOptions } from './contract/resource.ts'
export { query, predict, predictUnder, unknown, isUnknown } from './contract/fact.ts'
export type { FactKind, FactQuery, Prediction } from './contract/fact.ts'
export { pathFact, pathState, pathStatFact, pathStat } from './facts/path.ts'
export type { PathState, PathStat } from './facts/path.ts'

// inventories
export { defineInventory, inventoryFor } from './inventory/define.ts'
export type { InventorySpec, HostSpec, HostInfo, Inventory, Vars, SshSettings } from './inventory/types.ts'

// values and shell
export { secret, Secret, isSecret } from './core/secret.ts'
export { vault, type Vault, type VaultOptions } from './vault/vault.ts'
export { VaultError } from './vault/format.ts'
export { sh, quote, raw } from './core/sh.ts'
export { RemoteCommandError } from './core/errors.ts'

// engine events, for custom reporters
export type { MusterEvent, Recap, HostRecap, ResourceStatus, Mode } from './engine/events.ts'

