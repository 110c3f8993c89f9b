import { planTable, recorded, literal } from '../../../support/plan-table.ts'
import { mount } from '../../../../src/resources/server/index.ts'
import { mountState } from '../../../../src/facts/mount.ts'

// Recorded on lab hosts (trixie, and a bookworm bare host) (test/fixtures/probes/{mount,file-content,path}/catalogue-*): web-01 bare,
// web-02 converged by test/fixtures/lab/catalogue.ts and then drifted by hand (see the meta.json notes).
const facts = (rec: string, point: string) => ({ live: recorded(`mount/${rec}`, point), fstab: recorded(`file-content/${rec}`), file: recorded(`path/${rec}`) })
const bind = () => mount('/srv/bind', { source: '/srv/data', fstype: 'none', options: ['bind'] })
const scratch = () => mount('/srv/scratch', { source: 'tmpfs', fstype: 'tmpfs', options: ['size=8m', 'mode=0755'] })

planTable('mount: plan over recorded probes', [
  { name: 'bare: bind mount', resource: bind, facts: facts('catalogue-web-01-bare', '/srv/bind'), expect: 'mount /srv/data, /etc/fstab: add line', diff: /\+\/srv\/data \/srv\/bind none bind 0 0/, commands: /^made=; if \[ ! -d \/srv\/bind \][\s\S]*mount -o bind -- \/srv\/data \/srv\/bind \|\| \{ rc=\$\?; if \[ -n "\$made" \]; then rmdir -- \/srv\/bind/, predicts: [{ query: mountState('/srv/bind'), value: { source: '/srv/data', fstype: 'none', options: 'bind' } }] },
  { name: 'bookworm bare: bind mount', resource: bind, facts: facts('catalogue-bookworm-web-01-bare', '/srv/bind'), expect: 'mount /srv/data, /etc/fstab: add line' },
  { name: 'bare: tmpfs', resource: scratch, facts: facts('catalogue-web-01-bare', '/srv/scratch'), expect: 'mount tmpfs, /etc/fstab: add line', commands: /mount -t tmpfs -o size=8m,mode=0755 -- tmpfs \/srv\/scratch/ },
  { name: 'converged: bind', resource: bind, facts: facts('catalogue-web-02-converged', '/srv/bind'), expect: 'ok' },
  { name: 'converged: tmpfs', resource: scratch, facts: facts('catalogue-web-02-converged', '/srv/scratch'), expect: 'ok' },
  { name: 'unmounted by hand', resource: scratch, facts: facts('catalogue-web-02-drifted', '/srv/scratch'), expect: 'mount tmpfs' },
  { name: 'fstab line edited by hand', resource: bind, facts: facts('catalogue-web-02-drifted', '/srv/bind'), expect: '/etc/fstab: replace "/srv/data /srv/bind none bind,ro 0 0"', diff: /-\/srv\/data \/srv\/bind none bind,ro 0 0\n\+\/srv\/data \/srv\/bind none bind 0 0/ },
  { name: 'another file system there: swapped, the old one put back if refused', resource: () => mount('/srv/scratch', { source: '/dev/vdb1', fstype: 'ext4' }), facts: facts('catalogue-web-02-converged', '/srv/scratch'), expect: /^live tmpfs \(tmpfs\) -> \/dev\/vdb1 \(ext4\), \/etc\/fstab: replace/, commands: /^umount -- \/srv\/scratch\nmount -t ext4 -o defaults -- \/dev\/vdb1 \/srv\/scratch \|\| \{ rc=\$\?; mount -t tmpfs -o rw -- tmpfs \/srv\/scratch; exit \$rc; \}/ },
  { name: 'absent: unmount and drop the line', resource: () => mount('/srv/scratch', { state: 'absent' }), facts: facts('catalogue-web-02-converged', '/srv/scratch'), expect: 'unmount tmpfs (tmpfs), /etc/fstab: remove 1 line', commands: /^umount -- \/srv\/scratch\n/, predicts: [{ query: mountState('/srv/scratch'), value: null }] },
  { name: 'absent on bare', resource: () => mount('/srv/scratch', { state: 'absent' }), facts: facts('catalogue-web-01-bare', '/srv/scratch'), expect: 'ok' },
  { name: 'the root file system', resource: () => mount('/', { source: '/dev/vda1', fstype: 'ext4' }), facts: {}, expect: { throws: /does not manage the root file system/ } },
  { name: 'a relative mount point', resource: () => mount('srv/x', { source: 'tmpfs', fstype: 'tmpfs' }), facts: {}, expect: { throws: /not a mount point/ } },
  { name: 'a source with a space', resource: () => mount('/srv/x', { source: '/dev/a b', fstype: 'ext4' }), facts: {}, expect: { throws: /source "\/dev\/a b" must be one word/ } },
  { name: 'an option with a comma', resource: () => mount('/srv/x', { source: 'tmpfs', fstype: 'tmpfs', options: ['size=8m,uid=0'] }), facts: {}, expect: { throws: /options must be non-empty words/ } },
  { name: 'fstab missing', resource: scratch, facts: { live: literal(null), fstab: literal(null), file: literal({ type: 'absent' }) }, expect: 'mount tmpfs, /etc/fstab: add line' },
])
