import { planTable, recorded, literal } from '../../../support/plan-table.ts'
import { gitCheckout } from '../../../../src/resources/server/index.ts'
import { fileContent } from '../../../../src/facts/file-content.ts'
import { secret } from '../../../../src/core/secret.ts'

// Recorded on trixie lab host web-02 (test/fixtures/probes/{path,file-content}/git-web-02-*): a bare repository
// with two commits at /srv/repo.git and nothing checked out (bare), test/fixtures/lab/catalogue.ts applied
// (converged, at C2), then `git checkout --detach C1` by hand (drifted).
const C1 = 'ebc636c0e456cd3f050ebb4740d1158291c37b70'
const C2 = '95a694ab3e4c4bd92a6d5fe65ad750f63ba36a67'
const facts = (rec: string) => ({ dir: recorded(`path/git-web-02-${rec}`), head: recorded(`file-content/git-web-02-${rec}`) })
const code = () => gitCheckout('/srv/code', { repo: '/srv/repo.git', commit: C2 })
const KEY = '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n-----END OPENSSH PRIVATE KEY-----'

planTable('gitCheckout: plan over recorded probes', [
  { name: 'bare', resource: code, facts: facts('bare'), expect: `clone at ${C2.slice(0, 12)}`, commands: /new=\$\(mktemp -d \/srv\/code\.muster-XXXXXX\)[\s\S]*git clone -q --no-checkout -- \/srv\/repo\.git "\$new" && git -C "\$new" -c advice\.detachedHead=false checkout -q --detach 95a694ab[\s\S]*\|\| \{ rc=\$\?; rm -rf -- "\$new"; exit \$rc; \}\nmv -T -- "\$new" \/srv\/code/, predicts: [{ query: fileContent('/srv/code/.git/HEAD'), value: `${C2}\n` }] },
  { name: 'converged', resource: code, facts: facts('converged'), expect: 'ok' },
  { name: 'checked out elsewhere by hand: fetch, verify, then check out', resource: code, facts: facts('drifted'), expect: `${C1.slice(0, 12)} -> ${C2.slice(0, 12)}`, commands: /git -C \/srv\/code fetch -q origin\ngit -C \/srv\/code rev-parse -q --verify '?95a694ab3e4c4bd92a6d5fe65ad750f63ba36a67\^\{commit\}'? >\/dev\/null \|\| \{ echo "no commit[\s\S]*checkout -q -f --detach 95a694ab/ },
  { name: 'a deploy key: on stdin into a 0600 file, never in the commands', resource: () => gitCheckout('/srv/code', { repo: 'git@git.lab:app.git', commit: C2, deployKey: secret(KEY) }), facts: facts('bare'), expect: `clone at ${C2.slice(0, 12)}`, commands: /umask 077; k=\$\(mktemp\)[\s\S]*cat > "\$k"; export GIT_SSH_COMMAND="ssh -i \$k -o IdentitiesOnly=yes/, secrets: [KEY, 'b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW'] },
  { name: 'a directory that is not a checkout', resource: code, facts: { dir: literal({ type: 'directory', mode: '0755', owner: 'root', group: 'root', mtime: 0 }), head: literal(null) }, expect: { throws: /exists and is not a git checkout/ } },
  { name: 'a branch name instead of a commit', resource: () => gitCheckout('/srv/code', { repo: '/srv/repo.git', commit: 'main' }), facts: {}, expect: { throws: /commit must be a full commit id \(40 lowercase hex digits\), not "main": pin what you deploy/ } },
  { name: 'a repo that looks like an option', resource: () => gitCheckout('/srv/code', { repo: '--upload-pack=x', commit: C2 }), facts: {}, expect: { throws: /is not a repository address/ } },
])
