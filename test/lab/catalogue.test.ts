import { expect } from 'chai'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ensureLab, onHost, resetHosts } from '../support/lab.ts'
import { muster as cli } from '../support/cli.ts'
import { agreement, agreementTable, explain, results } from '../support/drift.ts'

/**
 * The catalogue's live-state resources on one lab host (web-02): `mount` with
 * a bind mount and a tmpfs, `archive` with a tarball made on the host. A lab host has its own mount namespace, so its
 * mounts are its own; it has no loop devices (no /dev/loop-control), so a
 * loop-mounted image is proven by plan tests only. From bare, check says
 * exactly what apply changes; a second run is changed=0 in one probe batch;
 * drift made by hand (a mount gone, an fstab line edited) is found by check
 * and fixed by one apply; a mount of a missing device fails naming host and
 * resource and leaves fstab, the mounts and the directories as they were;
 * so does a file that is not an archive (the unpacked directory untouched)
 * and a commit the repository lacks (the checkout untouched). gitCheckout
 * clones a bare repository the test ships to the host; its deploy key over
 * SSH is proven by plan tests only (never in the commands, stdin only).
 * kernelModule and swapFile run against stand-ins for modprobe, swapon and
 * swapoff (test/fixtures/lab/kernel-stand-ins) that record their calls and keep
 * tables shaped like /proc/modules and /proc/swaps: the host shares this
 * machine's kernel. The files (modules-load.d, the swap file made by dd and a
 * real mkswap, its fstab line) are real; a real module load or swapon is not.
 */
const PB = ['test/fixtures/lab/catalogue.ts', '-i', 'test/fixtures/lab/inventory.ts', '--json']
const HOST = 'web-02'
const MINUTE = 60_000
const env: Record<string, string> = {}
let gitFirst = ''
const muster = (args: string[]) => cli(args, env, 5 * MINUTE)
const FAKE = '/var/lib/muster-fake'
const calls = () => onHost(HOST, `cat ${FAKE}/calls 2>/dev/null; true`)
const mounts = () => onHost(HOST, "awk '$2 ~ /^\\/srv\\// {print $1, $2, $3}' /proc/self/mounts")

describe('lab: catalogue resources (mount, archive, gitCheckout, kernelModule and swapFile through stand-ins)', function () {
  this.timeout(10 * MINUTE)
  before(async function () {
    await ensureLab(this)
    await resetHosts([HOST])
    // a tarball and a file that is not one, on the host, pinned by the sha256 the playbook is given
    const out = await onHost(HOST, 'mkdir -p /srv/pkg /tmp/t/bin && echo v1 > /tmp/t/VERSION && printf "#!/bin/sh\\necho hi\\n" > /tmp/t/bin/hi && tar -czf /srv/pkg/app.tar.gz -C /tmp/t . && rm -rf /tmp/t && echo "not a tarball" > /srv/pkg/not-an-archive.tar.gz && sha256sum /srv/pkg/app.tar.gz /srv/pkg/not-an-archive.tar.gz')
    const [app, junk] = out.split('\n').map((l) => l.split(' ')[0]!)
    env.MUSTER_TEST_APP_SHA256 = app!
    env.MUSTER_TEST_JUNK_SHA256 = junk!
    // a repository with two commits made on the controller, its bare clone shipped to the host as a tarball
    const dir = mkdtempSync(join(tmpdir(), 'muster-catalogue-git-'))
    const git = (...a: string[]) => execFileSync('git', ['-C', join(dir, 'work'), '-c', 'user.name=t', '-c', 'user.email=t@x', ...a], { encoding: 'utf8' }).trim()
    execFileSync('git', ['init', '-q', join(dir, 'work')])
    writeFileSync(join(dir, 'work', 'README'), 'one\n')
    git('add', '.'); git('commit', '-qm', 'one')
    gitFirst = git('rev-parse', 'HEAD')
    writeFileSync(join(dir, 'work', 'README'), 'two\n')
    git('commit', '-qam', 'two')
    env.MUSTER_TEST_GIT_COMMIT = git('rev-parse', 'HEAD')
    execFileSync('git', ['clone', '-q', '--bare', join(dir, 'work'), join(dir, 'repo.git')])
    const tar = execFileSync('tar', ['-c', '-C', join(dir, 'repo.git'), '.']).toString('base64')
    rmSync(dir, { recursive: true, force: true })
    const { labExec } = await import('../../src/lab/exec.ts')
    const r = await labExec(HOST, 'mkdir -p /srv/repo.git && base64 -d | tar -x -C /srv/repo.git', { stdin: tar })
    expect(r.code, r.stderr).to.equal(0)
    // stand-ins for the kernel-facing commands (never the real ones: the host's kernel is this machine's), and a file that is not a swap area
    for (const name of ['modprobe', 'swapon', 'swapoff']) {
      const body = readFileSync(new URL(`../fixtures/lab/kernel-stand-ins/${name}`, import.meta.url))
      const w = await labExec(HOST, `cat > /usr/local/sbin/muster-fake-${name} && chmod 0755 /usr/local/sbin/muster-fake-${name}`, { stdin: body.toString() })
      expect(w.code, w.stderr).to.equal(0)
    }
    await onHost(HOST, `mkdir -p ${FAKE} && echo dummy > ${FAKE}/available && : > ${FAKE}/modules && printf 'Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n' > ${FAKE}/swaps && head -c 8192 /dev/urandom > /srv/not-swap`)
  })
  after(async function () {
    this.timeout(5 * MINUTE)
    await resetHosts([HOST]) // its mounts and fstab lines are not the next suite's business
  })

  it('from bare: check says exactly what apply then changes', async () => {
    const c = await muster(['check', ...PB])
    expect(c.code, explain(c)).to.equal(2)
    const a = await muster(['apply', ...PB])
    expect(a.code, explain(a)).to.equal(0)
    const row = agreement('bare', c, a)
    expect(row.agree, agreementTable([row])).to.equal(true)
    expect(row.changed).to.deep.equal([`${HOST} apt:git`, `${HOST} archive:/srv/app`, `${HOST} directory:/srv/data`, `${HOST} git-checkout:/srv/code`, `${HOST} kernel-module:dummy`, `${HOST} mount:/srv/bind`, `${HOST} mount:/srv/scratch`, `${HOST} swap-file:/srv/swapfile`])
    // the module loaded (by the stand-in) and listed for boot; the swap file made 0600 at its size, mkswap'd, in fstab and switched on
    expect(await calls()).to.equal('modprobe -- dummy\nswapon -- /srv/swapfile')
    expect(await onHost(HOST, `cut -d' ' -f1 ${FAKE}/modules; cat /etc/modules-load.d/dummy.conf`)).to.equal('dummy\n# managed by muster\ndummy')
    expect(await onHost(HOST, `stat -c '%a %U %s' /srv/swapfile; dd if=/srv/swapfile bs=1 skip=4086 count=10 2>/dev/null; echo; grep swap /etc/fstab; tail -n +2 ${FAKE}/swaps | cut -d' ' -f1; ls /srv | grep -c muster-new; true`)).to.equal('600 root 16777216\nSWAPSPACE2\n/srv/swapfile none swap sw 0 0\n/srv/swapfile\n0')
    // the bind mount really shows the source directory's files
    await onHost(HOST, 'echo hello > /srv/data/probe')
    expect(await onHost(HOST, 'cat /srv/bind/probe')).to.equal('hello')
    expect(await mounts()).to.match(/^\S+ \/srv\/bind \S+\ntmpfs \/srv\/scratch tmpfs$/)
    expect(await onHost(HOST, 'cat /srv/app/VERSION /srv/app/.muster-archive; sh /srv/app/bin/hi')).to.equal(`v1\n${env.MUSTER_TEST_APP_SHA256}\nhi`)
    expect(await onHost(HOST, 'cat /srv/code/README; git -C /srv/code rev-parse HEAD')).to.equal(`two\n${env.MUSTER_TEST_GIT_COMMIT}`)
    expect(await onHost(HOST, "grep '^[^#]' /etc/fstab")).to.equal('/srv/data /srv/bind none bind 0 0\ntmpfs /srv/scratch tmpfs size=8m,mode=0755 0 0\n/srv/swapfile none swap sw 0 0')
  })

  it('a second run changes nothing, in one probe batch', async () => {
    const r = await muster(['apply', ...PB])
    expect(r.code, explain(r)).to.equal(0)
    expect(r.recap!.hosts[HOST]!.changed).to.equal(0)
    expect(r.recap!.hosts[HOST]!.probeBatches).to.equal(1)
    expect(await calls(), 'no kernel-facing command on a converged host').to.equal('modprobe -- dummy\nswapon -- /srv/swapfile')
  })

  it('drift made by hand is found by check (exit 2, host, resource, diff) and fixed by one apply', async () => {
    await onHost(HOST, `git -C /srv/code checkout -q --detach ${gitFirst} && rm -rf /srv/app && umount /srv/scratch && sed -i "s#^/srv/data /srv/bind none bind 0 0#/srv/data /srv/bind none bind,ro 0 0#" /etc/fstab`)
    // unloaded and switched off by hand (through the stand-ins), and the swap file made readable by all
    await onHost(HOST, `/usr/local/sbin/muster-fake-modprobe -r dummy && /usr/local/sbin/muster-fake-swapoff /srv/swapfile && chmod 0644 /srv/swapfile && : > ${FAKE}/calls`)
    const c = await muster(['check', ...PB])
    expect(c.code, explain(c)).to.equal(2)
    const drifted = results(c).filter((e) => e.status === 'would-change')
    expect(drifted.map((e) => `${e.host} ${e.resource} ${e.summary}`).sort()).to.deep.equal([
      `${HOST} archive:/srv/app unpack /srv/pkg/app.tar.gz`,
      `${HOST} git-checkout:/srv/code ${gitFirst.slice(0, 12)} -> ${env.MUSTER_TEST_GIT_COMMIT!.slice(0, 12)}`,
      `${HOST} kernel-module:dummy load`,
      `${HOST} mount:/srv/bind /etc/fstab: replace "/srv/data /srv/bind none bind,ro 0 0"`,
      `${HOST} mount:/srv/scratch mount tmpfs`,
      `${HOST} swap-file:/srv/swapfile mode 0644 -> 0600, swapon`,
    ])
    expect(drifted.find((e) => e.resource === 'mount:/srv/bind')!.diff).to.match(/-\/srv\/data \/srv\/bind none bind,ro 0 0\n\+\/srv\/data \/srv\/bind none bind 0 0/)
    const a = await muster(['apply', ...PB])
    expect(a.code, explain(a)).to.equal(0)
    expect(results(a).filter((e) => e.status === 'changed').map((e) => e.resource).sort()).to.deep.equal(['archive:/srv/app', 'git-checkout:/srv/code', 'kernel-module:dummy', 'mount:/srv/bind', 'mount:/srv/scratch', 'swap-file:/srv/swapfile'])
    expect(await calls()).to.equal('modprobe -- dummy\nswapon -- /srv/swapfile')
    expect(await onHost(HOST, 'stat -c %a /srv/swapfile')).to.equal('600')
    expect(await onHost(HOST, 'cat /srv/code/README')).to.equal('two')
    expect(await mounts()).to.match(/\ntmpfs \/srv\/scratch tmpfs$/)
    const again = await muster(['check', ...PB])
    expect(again.code, explain(again)).to.equal(0)
  })

  for (const [bad, resource, error] of [
    ['mount', 'mount:/srv/missing', /\/dev\/muster-no-such-disk/],
    ['git', 'git-checkout:/srv/code', /no commit f{40} in \/srv\/repo.git/],
    ['archive', 'archive:/srv/app', /tar -xf \/srv\/pkg\/not-an-archive.tar.gz[\s\S]*(not in gzip format|exited 2)/],
    ['module', 'kernel-module:muster_no_such_module', /Module muster_no_such_module not found/],
    ['swap', 'swap-file:/srv/not-swap', /\/srv\/not-swap exists and is not a swap area/],
  ] as const) {
    it(`bad input (${bad}): a clear error naming host and resource, and the host as it was`, async () => {
      const snapshot = `sha256sum /etc/fstab /srv/not-swap; cat /proc/self/mounts | sha256sum; ls -a /srv /etc/modules-load.d; find /srv/app /srv/code -path /srv/code/.git -prune -o -print | sort; cat /srv/app/.muster-archive /srv/code/.git/HEAD /srv/code/README ${FAKE}/modules ${FAKE}/swaps`
      const was = await onHost(HOST, snapshot)
      const r = await muster(['apply', ...PB, '-e', `bad=${bad}`])
      expect(r.code, explain(r)).to.equal(1)
      const failed = results(r).filter((e) => e.status === 'failed')
      expect(failed.map((e) => `${e.host} ${e.resource}`)).to.deep.equal([`${HOST} ${resource}`])
      expect(failed[0]!.error).to.match(error)
      expect(await onHost(HOST, snapshot)).to.equal(was)
    })
  }
})
