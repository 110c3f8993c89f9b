import { expect } from 'chai'
import { mirrorFromDeb822, mirrorFromSourcesList } from '../../../src/lab/mirror.ts'

describe('lab mirror (from the machine\'s apt configuration)', function () {
  it('takes the URI of the main suite from deb822 sources, not -updates or -security', function () {
    const text = [
      'Types: deb',
      'URIs: http://security.example/debian-security',
      'Suites: bookworm-security',
      'Components: main',
      '',
      'Types: deb',
      '# a comment line',
      'URIs: http://mirror.example/debian',
      'Suites: bookworm bookworm-updates',
      'Components: main',
    ].join('\n')
    expect(mirrorFromDeb822(text)).to.equal('http://mirror.example/debian')
  })

  it('skips deb-src and disabled stanzas', function () {
    const text = 'Types: deb-src\nURIs: http://src.example/debian\nSuites: bookworm\n\nTypes: deb\nEnabled: no\nURIs: http://off.example/debian\nSuites: bookworm\n\nTypes: deb\nURIs: http://on.example/debian\nSuites: bookworm\n'
    expect(mirrorFromDeb822(text)).to.equal('http://on.example/debian')
    expect(mirrorFromDeb822('Types: deb-src\nURIs: http://src.example/debian\nSuites: bookworm\n')).to.equal(undefined)
  })

  it('reads one-line sources.list entries, with options and comments', function () {
    const text = [
      '# deb http://commented.example/debian bookworm main',
      'deb http://security.example/debian-security bookworm-security main',
      'deb [arch=amd64 signed-by=/usr/share/keyrings/k.gpg] http://mirror.example/debian bookworm main contrib',
    ].join('\n')
    expect(mirrorFromSourcesList(text)).to.equal('http://mirror.example/debian')
    expect(mirrorFromSourcesList('deb-src http://x.example/debian bookworm main\n')).to.equal(undefined)
  })
})
