/** The lab could not do what was asked; `hint` says what the user can do about it. */
export class LabError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
    readonly host?: string,
  ) {
    super(`${host ? `lab host ${host}: ` : 'lab: '}${message}${hint ? `\n  ${hint}` : ''}`)
    this.name = 'LabError'
  }
}

/** This machine cannot run the lab at all (not Linux, not root, no namespaces or overlayfs). */
export class LabUnavailableError extends LabError {
  constructor(
    readonly reason: string,
    hint: string,
  ) {
    super(`cannot run here: ${reason}`, hint)
    this.name = 'LabUnavailableError'
  }
}

/** A command the lab ran on the controller failed: the command, its exit code and the tail of its output. */
export class LabCommandError extends LabError {
  constructor(
    readonly argv: readonly string[],
    readonly code: number,
    readonly stderr: string,
    host?: string,
  ) {
    const tail = stderr.trim().split('\n').slice(-6).join('\n')
    super(`\`${argv.join(' ').slice(0, 200)}\` exited ${code}${tail ? `:\n${tail}` : ''}`, undefined, host)
    this.name = 'LabCommandError'
  }
}

/** There is no lab (no state.json, or no hosts in it). */
export class LabNotUpError extends Error {
  constructor() {
    super('the lab is not up: run `muster lab up`')
    this.name = 'LabNotUpError'
  }
}
