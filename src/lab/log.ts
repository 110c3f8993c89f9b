/** Where lab operations report progress: the CLI prints it, tests and benches stay quiet. */
export type LabLog = (line: string) => void

export const quiet: LabLog = () => undefined
