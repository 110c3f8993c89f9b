import { readFileSync } from 'node:fs'
import { relative, isAbsolute, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Script } from 'node:vm'
import type ejsTypes from 'ejs'
import { requirePackage } from '../core/require-package.ts'
import type { Resource } from '../contract/resource.ts'
import { revealDeep } from '../core/secret.ts'
import { managedFile, type FileOptions, type FileProbe } from './file.ts'
import { secretLineRedactor, secretsIn, withPlaceholders, type Redactor } from './secret-lines.ts'

let ejsLib: typeof ejsTypes | undefined
const ejs = (): typeof ejsTypes => (ejsLib ??= requirePackage('ejs') as typeof ejsTypes)

/** Everything file() takes, with `source` + `vars` instead of `content`. */
export interface TemplateOptions extends Omit<FileOptions, 'content'> {
  /** The .ejs file: a URL (`new URL('./templates/x.ejs', import.meta.url)`) or a path (relative to the working directory). */
  source: string | URL
  /** What the template sees. Secrets render as their text; reporters mask that text wherever it shows. */
  vars: Record<string, unknown>
}

/** A template that cannot be rendered: names the template file and line. */
export class TemplateError extends Error {
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    readonly detail: string,
  ) {
    super(`${displayPath(file)}${line !== undefined ? `:${line}` : ''}: ${detail}`)
    this.name = 'TemplateError'
  }
}

/**
 * A file rendered from an EJS template on the controller, when the resource is
 * built (a broken template fails before any host is touched); from then on it
 * is exactly a file() with that content.
 *
 * `<%= x %>` inserts x as it is: these are config files, not HTML, so nothing
 * is HTML-escaped (an `&` in a password must stay an `&`). `<%- x %>` is the same.
 */
export function template(path: string, opts: TemplateOptions): Resource<FileProbe> {
  const { vars, source, ...fileOpts } = opts
  const bytes = Buffer.from(renderTemplate(source, vars), 'utf8')
  const secrets = secretsIn(vars)
  if (secrets.length === 0) return managedFile('template', path, bytes, fileOpts)
  // the host's copy may hold an old secret no reporter knows: a diff shows only what secretLineRedactor lets through
  let redact: Redactor | undefined
  try {
    redact = secretLineRedactor(renderTemplate(source, withPlaceholders(vars, secrets) as Record<string, unknown>), secrets, bytes.toString('utf8'))
  } catch {
    redact = undefined // the template cannot render placeholders (it computes with a secret): no diff at all
  }
  return managedFile('template', path, bytes, redact ? { ...fileOpts, redact } : { ...fileOpts, secret: true })
}

/** Render an EJS template with `vars` as `template()` does (undefined variables are errors). */
export function renderTemplate(source: string | URL, vars: Record<string, unknown>): string {
  const file = source instanceof URL ? fileURLToPath(source) : resolve(source)
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    throw new TemplateError(file, undefined, `cannot read template: ${(err as Error).message}`)
  }
  const data = revealDeep(vars) as Record<string, unknown>
  try {
    return compiled(file, text)(data)
  } catch (err) {
    throw toTemplateError(err, file, text)
  }
}

// a template renders once per host (twice when it holds secrets): compile each text once per process
const compiledTemplates = new Map<string, ejsTypes.TemplateFunction>()

function compiled(file: string, text: string): ejsTypes.TemplateFunction {
  const key = `${file}\0${text}`
  let fn = compiledTemplates.get(key)
  if (!fn) {
    fn = ejs().compile(text, { ...EJS_OPTIONS, filename: file })
    compiledTemplates.set(key, fn)
  }
  return fn
}

const EJS_OPTIONS = {
  async: false,
  compileDebug: true,
  escape: (v: unknown): string => (v === undefined || v === null ? '' : String(v)),
} as const

/**
 * EJS reports runtime errors as "file:line\n<context>\n\nmessage"; syntax errors
 * say only "... in <file> while compiling ejs", so the line is found by
 * compiling the generated code with V8, which does say where.
 */
const RUNTIME = /^(.*):(\d+)\n[\s\S]*?\n\n([\s\S]*)$/

function toTemplateError(err: unknown, file: string, text: string): TemplateError {
  if (!(err instanceof Error)) return new TemplateError(file, undefined, String(err))
  // an error inside an include is wrapped once per level: the innermost place is where to look
  const places: { file: string; line: number }[] = []
  let message = err.message
  for (let m = RUNTIME.exec(message); m; m = RUNTIME.exec(message)) {
    places.push({ file: m[1], line: Number(m[2]) })
    message = m[3]
  }
  const via = (list: typeof places): string =>
    list.length ? ` (included from ${list.reverse().map((p) => `${displayPath(p.file)}:${p.line}`).join(', ')})` : ''
  const compiling = / in (.+?) while compiling ejs/.exec(message)
  if (compiling) {
    const where = compiling[1]
    const detail = message.slice(0, compiling.index).trim()
    return new TemplateError(where, syntaxErrorLine(where, where === file ? text : undefined), `${detail}${via(places)}`)
  }
  if (places.length > 0) {
    const inner = places[places.length - 1]
    return new TemplateError(inner.file, inner.line, `${message.trim()}${via(places.slice(0, -1))}`)
  }
  return new TemplateError(file, undefined, message.split('\n')[0])
}

function syntaxErrorLine(file: string, known: string | undefined): number | undefined {
  let text = known
  try {
    text ??= readFileSync(file, 'utf8')
    const t = new (ejs().Template)(text, { ...EJS_OPTIONS, filename: file })
    try {
      t.compile()
      return undefined
    } catch (compileError) {
      if (!(compileError instanceof SyntaxError)) return undefined
    }
    // compile() keeps the generated code even when V8 refuses it
    const source = t.source
    try {
      new Script(`(function(){\n${source}\n})`, { filename: 'template' })
      return undefined
    } catch (e) {
      const at = /^template:(\d+)/.exec((e as Error).stack ?? '')
      if (!at) return undefined
      // generated line n holds code of the template line named by the last "__line = " marker before it
      const generated = `\n${source}`.split('\n').slice(0, Number(at[1]))
      let line = 1
      for (const l of generated) {
        const mk = /__line = (\d+)/.exec(l)
        if (mk) line = Number(mk[1])
      }
      return line
    }
  } catch {
    return undefined // the line is a courtesy; the error itself still names file and message
  }
}

function displayPath(file: string): string {
  const rel = relative(process.cwd(), file)
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file
}
