import { planTable, recorded, literal } from '../../../support/plan-table.ts'
import { locale } from '../../../../src/resources/server/locale.ts'
import { localeGenerated } from '../../../../src/facts/locale.ts'
import { fileContent } from '../../../../src/facts/file-content.ts'

// Recorded on lab web-01 (test/fixtures/probes/{locale,file-content,apt-package}/*web-01-*): without the
// locales package, after test/fixtures/lab/server.ts, and with the locale disabled and LANG changed by hand.
const facts = (state: string, pkg = state) => ({
  gen: recorded(`file-content/locale-web-01-${state}`),
  generated: recorded(`locale/web-01-${state}`),
  current: recorded(`file-content/locale-web-01-${state}`),
  pkg: recorded(`apt-package/locales-web-01-${pkg}`),
})
const us = () => locale('en_US.UTF-8', { default: true })

planTable('locale: plan over recorded probes', [
  { name: 'no locales package', resource: us, facts: facts('bare'), expect: { throws: /install the locales package first/ } },
  { name: 'locales installed earlier in the run (check mode)', resource: us, facts: facts('bare', 'converged'), expect: { unknown: /comes with the locales package/ } },
  { name: 'converged', resource: us, facts: facts('converged'), expect: 'ok' },
  { name: 'converged, not asked to be the default', resource: () => locale('en_US.UTF-8'), facts: facts('converged'), expect: 'ok' },
  {
    name: 'disabled, gone and LANG changed by hand',
    resource: us,
    facts: facts('drifted', 'converged'),
    expect: 'enable in /etc/locale.gen, locale-gen, default C.UTF-8 -> en_US.UTF-8',
    diff: /-LANG=C.UTF-8\n\+LANG=en_US.UTF-8/,
    // locale.gen first, then locale-gen, and LANG only once the locale exists
    commands: /t=\/etc\/locale.gen[\s\S]*\nlocale-gen\n[\s\S]*t=\/etc\/default\/locale/,
    predicts: [{ query: localeGenerated('en_US.UTF-8'), value: true }, { query: fileContent('/etc/default/locale'), value: 'LANG=en_US.UTF-8\n' }],
  },
  { name: 'another offered locale', resource: () => locale('de_DE.UTF-8'), facts: facts('converged'), expect: 'enable in /etc/locale.gen, locale-gen', diff: /-# de_DE.UTF-8 UTF-8\n\+de_DE.UTF-8 UTF-8/ },
  { name: 'compiled but the file edited back (generated stays true)', resource: () => locale('en_US.UTF-8'), facts: { ...facts('drifted', 'converged'), generated: literal(true) }, expect: 'enable in /etc/locale.gen, locale-gen' },
  { name: 'a locale the host does not offer', resource: () => locale('xx_YY.UTF-8'), facts: { ...facts('converged'), generated: literal(false) }, expect: { throws: /does not offer it/ } },
  { name: 'not a locale name', resource: () => locale('english'), facts: {}, expect: { throws: /a name such as en_US.UTF-8/ } },
])
