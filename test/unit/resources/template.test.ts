import { expect } from 'chai'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { template, renderTemplate, TemplateError } from '../../../src/resources/template.ts'
import { file } from '../../../src/resources/file.ts'
import { secret, maskSecrets } from '../../../src/core/secret.ts'
import type { DiffRequest } from '../../../src/contract/resource.ts'
import { asChange, converge, fixtureState, P, useTempDir } from './file-family.support.ts'

const T = (name: string) => new URL(`../../fixtures/templates/${name}`, import.meta.url)
const site = { port: 80, serverName: 'example.org', appPort: 3000, headers: [{ name: 'X-Served-By', value: 'web-01' }] }

function thrown(fn: () => unknown): TemplateError {
  try {
    fn()
  } catch (err) {
    expect(err).to.be.instanceOf(TemplateError)
    return err as TemplateError
  }
  throw new Error('expected a TemplateError')
}

describe('template', () => {
  it('renders on the controller; <%= %> does not HTML-escape config text', () => {
    const out = renderTemplate(T('site.conf.ejs'), { ...site, serverName: 'a.example & b.example' })
    expect(out).to.include('server_name a.example & b.example;')
    expect(out).to.include('add_header X-Served-By "web-01";')
    expect(out).to.include('proxy_pass http://127.0.0.1:3000;')
  })

  it('an undefined variable names the template file and line', () => {
    const { port, appPort, headers } = site
    const err = thrown(() => template('/etc/nginx/site.conf', { source: T('site.conf.ejs'), vars: { port, appPort, headers } }))
    expect(err.message).to.match(/site\.conf\.ejs:7: serverName is not defined$/)
    expect(err.line).to.equal(7)
    expect(err.file).to.match(/test\/fixtures\/templates\/site\.conf\.ejs$/)
  })

  it('a syntax error names the line too', () => {
    const err = thrown(() => renderTemplate(T('syntax-error.conf.ejs'), { enabled: true }))
    expect(err.message).to.match(/syntax-error\.conf\.ejs:3: Unexpected token/)
  })

  it('an error in an include names the included file and where it was included from', () => {
    const err = thrown(() => renderTemplate(T('with-include.conf.ejs'), { servers: [{ name: 'a', address: '10.0.0.1' }] }))
    expect(err.message).to.match(/partials\/upstream\.ejs:2: port is not defined \(included from .*with-include\.conf\.ejs:2\)$/)
  })

  it('a syntax error in an include names the include, its line, and where it was included from', () => {
    const err = thrown(() => renderTemplate(T('include-broken.conf.ejs'), {}))
    expect(err.message).to.match(/partials\/broken\.ejs:2: Unexpected token '\{' \(included from .*include-broken\.conf\.ejs:2\)$/)
  })

  it('a missing template file is a TemplateError naming it', () => {
    const err = thrown(() => renderTemplate(T('nope.ejs'), {}))
    expect(err.message).to.match(/nope\.ejs: cannot read template/)
  })

  it('secrets in vars render as their text (and stay maskable)', () => {
    const out = renderTemplate(T('secret.env.ejs'), { user: 'app', password: secret('pa55-w0rd&x') })
    expect(out).to.equal('DB_USER=app\nDB_PASSWORD=pa55-w0rd&x\n')
    expect(maskSecrets(out)).to.equal('DB_USER=app\nDB_PASSWORD=***\n')
  })

  it('then plans exactly as file() with the rendered content', async () => {
    const state = await fixtureState('file-0644', 'app.conf')
    const viaTemplate = template(P('app.conf'), { source: T('site.conf.ejs'), vars: site })
    const viaFile = file(P('app.conf'), { content: renderTemplate(T('site.conf.ejs'), site) })
    expect(viaTemplate).to.include({ id: `template:${P('app.conf')}`, type: 'template' })
    const a = asChange(viaTemplate.plan({ state }))
    const b = asChange(viaFile.plan({ state }))
    expect(a.summary).to.equal(b.summary).and.equal('content')
    expect((a.diff as DiffRequest).render('listen 80;\n')).to.equal((b.diff as DiffRequest).render('listen 80;\n'))
    expect(a.predicts).to.deep.equal(b.predicts)
  })

  describe('a template holding secrets, diffed against a host with an older secret', () => {
    const oldHostText = 'DB_USER=app\nDB_PASSWORD=old-pass-4d2e9f\n'
    const plan = (vars: Record<string, unknown>) =>
      fixtureState('file-0644', 'app.conf').then((state) => asChange(template(P('app.conf'), { source: T('secret.env.ejs'), vars }).plan({ state })))

    it('shows the line changed but neither value: the old one as ***, the new one masked by reporters', async () => {
      const c = await plan({ user: 'app', password: secret('new-pass-7c1a0b') })
      expect(c.summary).to.equal('content')
      const diff = (c.diff as DiffRequest).render(oldHostText)
      expect(diff).to.not.include('old-pass-4d2e9f')
      expect(diff).to.include('-DB_PASSWORD=***')
      expect(maskSecrets(diff)).to.include('+DB_PASSWORD=***').and.not.include('new-pass-7c1a0b')
    })

    it('an unchanged secret is not a changed line; another changed line shows what it becomes, its old text hidden', async () => {
      const c = await plan({ user: 'web', password: secret('old-pass-4d2e9f') })
      const diff = maskSecrets((c.diff as DiffRequest).render(oldHostText))
      expect(diff).to.include('-***').and.include('+DB_USER=web')
      expect(diff).to.not.match(/^[-+]DB_PASSWORD/m)
    })

    it('a multi-line secret (a key) is never diffed: its old lines cannot be told apart', async () => {
      const c = await plan({ user: 'app', password: secret('line one of a key\nline two of a key') })
      expect(c.summary).to.equal('content (a secret: no diff)')
      expect(c.diff).to.equal(undefined)
    })
  })

  describe('apply', () => {
    const tmp = useTempDir('template')
    it('writes the rendered file, then is ok', async () => {
      const path = join(tmp.path, 'site.conf')
      const r = template(path, { source: T('site.conf.ejs'), vars: site, mode: '0640' })
      expect((await converge(r)).kind).to.equal('change')
      expect(await readFile(path, 'utf8')).to.equal(renderTemplate(T('site.conf.ejs'), site))
      expect((await converge(r)).kind).to.equal('ok')
    })
  })
})
