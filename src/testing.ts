/**
 * `muster/testing`: scenarios for `muster test`, which converge your roles on
 * real hosts and test check's predictions, idempotence, what must hold after,
 * and that drift is found and fixed
 * (`import { defineScenario, sideEffects } from 'muster/testing'`).
 */
export { defineScenario, sideEffects, hostAssertions, controllerHttp } from './testing/scenario.ts'
export type { Scenario, ScenarioHosts, SideEffect, Assertion, HostAssertions, VerifyContext } from './testing/scenario.ts'
export { runScenario, scenarioInventory, scenarioPlaybook } from './testing/runner.ts'
export type { RunScenarioOptions, ScenarioResult, StepResult } from './testing/runner.ts'
