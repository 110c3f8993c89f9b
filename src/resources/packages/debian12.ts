import { dir, file, link, type PackageEdition } from './table.ts'

/**
 * Debian 12's packages, as check mode predicts their install. How this table was verified (the versions named in `verified`):
 * - `paths`: read from the .deb itself. test/support/verify-package-provides.ts
 *   downloads each package at that version (`apt-get download`), lists it with
 *   `dpkg-deb -c` and hashes the extracted files; every entry must match in
 *   type, mode, owner, group, size, sha256 and link target. Run it again when
 *   Debian updates a package: `npx tsx test/support/verify-package-provides.ts`.
 *   With `--suite bookworm/main` it checks the versions a host without the
 *   security and updates suites installs (the lab's): every conffile, mode,
 *   owner and link is the same there; only binaries and mariadb.service
 *   differ in content, which nothing in a playbook compares.
 * - `created`, `users`, `groups`, `units`: made by maintainer scripts, read
 *   from the packages' preinst/postinst (`dpkg-deb -e`): the verifier checks
 *   that the scripts name each path, run adduser for each user and
 *   `deb-systemd-helper enable` for each enabled unit. The system users'
 *   home, shell and GECOS were checked by running the same adduser command on
 *   a Debian 12 machine (adduser 3.134) and, for tinyproxy, on an installed one.
 * - On lab hosts where a provisioning run had installed nginx, mariadb-server
 *   and nodejs, every prediction was compared read-only with the real state
 *   (`verify-package-provides.ts --host`): all agree but the version-specific
 *   binaries and sites-enabled/default, which the nginx role removes.
 * - `with`: companion packages of the same source that `apt-get -s install`
 *   installs along with it on Debian 12.
 * - `running`: nginx, haproxy, mariadb and tinyproxy are started by their
 *   postinst (deb-systemd-invoke start); keepalived's start is skipped by its
 *   unit's ConditionFileNotEmpty=/etc/keepalived/keepalived.conf until a config
 *   exists; nftables is neither enabled nor started (its postinst enables
 *   only a unit that was enabled before).
 *
 * Not predicted: mtimes (0 in every entry), log files (they grow once the
 * daemon runs), uids and gids (the system picks them: null).
 */
export const DEBIAN_12: PackageEdition = {
  name: 'Debian 12 (bookworm)',
  baseFiles: '12',
  table: {
    nginx: {
      verified: '1.22.1-9+deb12u11',
      with: ['nginx-common'],
      paths: {
        '/usr/sbin/nginx': file('0755', 1264552, 'bc08ffbb8c8dcc4af51a7816a8afedbe2d4526787cfd9f3a49e26c208217d550'),
      },
      units: { 'nginx.service': { running: true, enabled: true } },
    },
    'nginx-common': {
      verified: '1.22.1-9+deb12u11',
      paths: {
        '/etc/nginx': dir('0755'),
        '/etc/nginx/conf.d': dir('0755'),
        '/etc/nginx/fastcgi.conf': file('0644', 1125, 'dc4a3e6f16eb08000fb4a4ba6aaf9faeb50d55a3eaf152907938632f5b85b3aa'),
        '/etc/nginx/fastcgi_params': file('0644', 2460, '1f0fa817fef4b3e90407d6893d9ba5c0f605502d6916e765641ce95bdf77278f'),
        '/etc/nginx/koi-utf': file('0644', 2837, 'b5f8a6d411db5e5d11d151d50cd1e962444732593adec0e1ef0a8c6eebec63ee'),
        '/etc/nginx/koi-win': file('0644', 2223, 'de518a9eafe86c8bc705e296d0ef26135835b46bdc0de01d1d50a630fa5d341e'),
        '/etc/nginx/mime.types': file('0644', 4338, '4a1cdcc2a337e8126760f45aef1a43aca7230eb9725ea7ba226baf1b9ea40ae7'),
        '/etc/nginx/modules-available': dir('0755'),
        '/etc/nginx/modules-enabled': dir('0755'),
        '/etc/nginx/nginx.conf': file('0644', 1446, '48c6a4ec1e1fd28ccf968490f07e34a1d7f755793b2108a3ed8670b1ee2a0aa2'),
        '/etc/nginx/proxy_params': file('0644', 1545, 'b103620bcdeb1b225b425801fd93fb3d4a62dee44916d019eefff15372c983ca'),
        '/etc/nginx/scgi_params': file('0644', 2038, '2c18e8d099346c24f0486b617ae5250c6166405f7f3ad4efc9af2e5272ab0d33'),
        '/etc/nginx/sites-available': dir('0755'),
        '/etc/nginx/sites-available/default': file('0644', 2412, 'ce0901350a021608139b5639cf4ccd7717bef8c3a9e4f79031eb46386b67b03f'),
        '/etc/nginx/sites-enabled': dir('0755'),
        '/etc/nginx/snippets': dir('0755'),
        '/etc/nginx/snippets/fastcgi-php.conf': file('0644', 423, 'a9dd98bf9631d727f0a846a9c7f4fe6193468a714c782df26d5cc9a7756411f2'),
        '/etc/nginx/snippets/snakeoil.conf': file('0644', 217, '69de463039725a6636b5a3ca87a0968dde646279bc8bb4419d200f547448a55a'),
        '/etc/nginx/uwsgi_params': file('0644', 2067, '5bebeb2eb092109c8a1a86b4650451a1f445b5b32fd599d79cb92c3bfc09214f'),
        '/etc/nginx/win-utf': file('0644', 3071, '400bc5c78ad9e194069f8ce65db4284378fc95a89a70b17f4b0150a9af54b05b'),
        '/lib/systemd/system/nginx.service': file('0644', 1083, '88965b52766830e7d94fa5871c43afe8f989df0849e4873abf8de22ee80fc4ac'),
        '/var/lib/nginx': dir('0755'),
      },
      created: {
        // postinst: ln -s /etc/nginx/sites-available/default /etc/nginx/sites-enabled/default (fresh installs)
        '/etc/nginx/sites-enabled/default': link('/etc/nginx/sites-available/default'),
        // postinst: chown root:adm $logdir; chmod 0755 $logdir
        '/var/log/nginx': dir('0755', 'root', 'adm'),
        // postinst: mkdir -p /var/www/html; cp /usr/share/nginx/html/index.html /var/www/html/index.nginx-debian.html
        '/var/www': dir('0755'),
        '/var/www/html': dir('0755'),
        '/var/www/html/index.nginx-debian.html': file('0644', 615, 'fb47468a2cd3953c7131431991afcc6a2703f14640520102eea0a685a7e8d6de'),
      },
      firstInstallOnly: ['/etc/nginx/sites-enabled/default'],
    },
    haproxy: {
      verified: '2.6.12-1+deb12u4',
      paths: {
        '/etc/haproxy': dir('0755'),
        '/etc/haproxy/errors': dir('0755'),
        '/etc/haproxy/errors/400.http': file('0644', 188, '52646d932f52e68df43417ff910f45aa52157702f4d2a4a5b875545e047f434c'),
        '/etc/haproxy/errors/403.http': file('0644', 189, '9fa69cf584383c71c67cfea0349f9c236b4bffac3da6f9bd7b320d35b59dc05b'),
        '/etc/haproxy/errors/408.http': file('0644', 213, 'ac1e1a0791101f4e4db2772fcf852353e921a38ede1d0705d1be9983ad4c7bff'),
        '/etc/haproxy/errors/500.http': file('0644', 205, '1a15755124dd229112203f34fffe1ed8951a4a1fe0832af9aaf02f0bd8b0591e'),
        '/etc/haproxy/errors/502.http': file('0644', 205, '59efe86cf5e2d6767ab90bdb1446d49393862fba2f761dd5a23c43373e17336c'),
        '/etc/haproxy/errors/503.http': file('0644', 213, '799602bc1ef35d2208c0519c1288516147a703f16c2837eb8802deb27f83beaa'),
        '/etc/haproxy/errors/504.http': file('0644', 195, '0ac0c626a1ac4d322f40710ace0faa6a234f7225c8f9704de47de79cdd537eca'),
        '/etc/haproxy/haproxy.cfg': file('0644', 1285, 'cc8b8c00566915d869d7ffc5f21ad4ade27b40e4845394ee00996f8eb83cad73'),
        '/lib/systemd/system/haproxy.service': file('0644', 1506, '551aecbd5987826002836240b207e9310ff252ef8f6c5de954671da7d913427c'),
        '/usr/sbin/haproxy': file('0755', 3140224, '3d987bacb5bf0d9e59f3da1f27b032ab7873060c68cf30fe8f30dc4599408b08'),
        '/var/lib/haproxy': dir('0755'),
        '/var/lib/haproxy/dev': dir('0755'),
      },
      // postinst: adduser --system --disabled-password --disabled-login --home /var/lib/haproxy --no-create-home --group haproxy
      users: { haproxy: { home: '/var/lib/haproxy', shell: '/usr/sbin/nologin', group: 'haproxy', gecos: '' } },
      groups: ['haproxy'],
      units: { 'haproxy.service': { running: true, enabled: true } },
    },
    'mariadb-server': {
      verified: '1:10.11.19-0+deb12u1',
      with: ['mariadb-server-core', 'mariadb-client', 'mariadb-common', 'mysql-common'],
      paths: {
        '/etc/mysql/debian-start': file('0755', 1383, '67fa0bb303c86986e0b0666c4823e711f00246c36c5dee74468da7f4e9854c78'),
        '/etc/mysql/mariadb.conf.d': dir('0755'),
        '/etc/mysql/mariadb.conf.d/50-mysqld_safe.cnf': file('0644', 927, 'bfc648f510483468aeefdd9256089a89e278d06b19945c368e4e846fe53797e1'),
        '/etc/mysql/mariadb.conf.d/50-server.cnf': file('0644', 3769, 'c05b27c6fa13550e78d9d7795442041d7b83aef60b6063b55d510b23e3989add'),
        '/lib/systemd/system/mariadb.service': file('0644', 5621, '4d0ec1d06fee5bf7a40d1615cbb784cc6d329d65a1deefde938c8d272245bcdc'),
      },
      created: {
        // preinst: mkdir -Z $mysql_datadir, then chown mysql / chgrp mysql; mysql_install_db leaves an existing dir's mode
        '/var/lib/mysql': dir('0755', 'mysql', 'mysql'),
        // postinst: writes the fixed 14 lines of $dc=/etc/mysql/debian.cnf, chown 0:0, chmod 0600 (hash of those lines)
        '/etc/mysql/debian.cnf': file('0600', 544, '18b2e9f179dabe8762a77b297f803c958a3ed9642aaa5ba184e8d56bc1cfda9a'),
      },
      // preinst: addgroup --system mysql; adduser --system --disabled-login --ingroup mysql --no-create-home
      //          --home /nonexistent --gecos "MySQL Server" --shell /bin/false mysql
      // (adduser 3.134 writes that GECOS as "MySQL Server,,,": seen on an installed lab host and by running it)
      users: { mysql: { home: '/nonexistent', shell: '/bin/false', group: 'mysql', gecos: 'MySQL Server,,,' } },
      groups: ['mysql'],
      units: { 'mariadb.service': { running: true, enabled: true } },
    },
    'mariadb-server-core': {
      verified: '1:10.11.19-0+deb12u1',
      paths: {
        '/usr/sbin/mariadbd': file('0755', 26077552, '9b44b62ca59523e04fa8c3f8f08850bdbd15f305971241c10a2d92f952fb6efa'),
        '/usr/sbin/mysqld': link('mariadbd'),
      },
    },
    'mariadb-client': {
      verified: '1:10.11.19-0+deb12u1',
      with: ['mariadb-client-core'],
      paths: {
        '/etc/mysql/mariadb.conf.d/50-client.cnf': file('0644', 575, '69c1fdec9f09efd072bdcd65f8f0061a687166ef3738fd2bf4296a0399bfba08'),
        '/etc/mysql/mariadb.conf.d/50-mysql-clients.cnf': file('0644', 231, 'c7b455a204d3792b292ab03ebbe1a6905a4c91aad3ff5a04530177e09f7ff202'),
        '/etc/mysql/mariadb.conf.d/60-galera.cnf': file('0644', 570, 'fd9c188f54cfc21080ee06109869f0c658d8010e6a595a8ac9eee195ac97d44b'),
        '/usr/bin/mariadb-admin': file('0755', 4995848, 'e0118687b6a8a5e2597840b607dd453ebef09377b4fe3e90cf91712196122e73'),
        '/usr/bin/mariadb-dump': file('0755', 5084936, '54c0ec5555fe5dc09a5fd5f784f742c859d67659904acef0452b7dbb11330d36'),
        '/usr/bin/mysqladmin': link('mariadb-admin'),
        '/usr/bin/mysqldump': link('mariadb-dump'),
      },
    },
    'mariadb-client-core': {
      verified: '1:10.11.19-0+deb12u1',
      paths: {
        '/usr/bin/mariadb': file('0755', 5231008, '1fdce5e467dcecee9ffec977aed81d0a1ad68a86eedd469314670983087c1d2d'),
        '/usr/bin/mysql': link('mariadb'),
      },
    },
    'mariadb-common': {
      verified: '1:10.11.19-0+deb12u1',
      paths: {
        '/etc/mysql': dir('0755'),
        '/etc/mysql/mariadb.cnf': file('0644', 1126, '65084b5344fcbae09425c648a9bfb1ff99c1fd0d83f1eff5bc08bf8032de8981'),
        '/etc/mysql/mariadb.conf.d': dir('0755'),
      },
      created: {
        // postinst: update-alternatives --install /etc/mysql/my.cnf my.cnf /etc/mysql/mariadb.cnf 500
        '/etc/mysql/my.cnf': link('/etc/alternatives/my.cnf'),
      },
    },
    'mysql-common': {
      verified: '5.8+1.1.0',
      paths: {
        '/etc/mysql': dir('0755'),
        '/etc/mysql/conf.d': dir('0755'),
        '/etc/mysql/conf.d/mysql.cnf': file('0644', 8, '076d9d7a0d0f53a28f76a768bcfee25a6dd48691b64174dafe989043fc36c60e'),
        '/etc/mysql/conf.d/mysqldump.cnf': file('0644', 55, '21f542392fa0bf68326a7936bc0c24c02fe21ae6a1c5f4c37114ffa05c740578'),
        '/etc/mysql/my.cnf.fallback': file('0644', 839, 'b562ddb4d6f452725287c4842d9ad36052bf1a1cc1f4abef51ba55edbf3ed5d6'),
      },
    },
    nodejs: {
      verified: '18.20.4+dfsg-1~deb12u3',
      paths: {
        '/usr/bin/node': file('0755', 26704, 'b57242cfee20571d2e74ababe9c1febed785cf9395b168237060a1d29f77b581'),
        '/usr/bin/nodejs': link('node'),
      },
    },
    tinyproxy: {
      verified: '1.11.1-2.1+deb12u1',
      with: ['tinyproxy-bin'],
      paths: {
        '/etc/tinyproxy': dir('0755'),
        '/etc/tinyproxy/tinyproxy.conf': file('0644', 10197, 'ec2768782e6f64456c2f1c5958f5e7ff3dcef9534c3ae5d382efb9d1f680cd18'),
        '/lib/systemd/system/tinyproxy.service': file('0644', 363, '367b3917d969c237ba7dd75455a6451c75be8c62c40b79e9863351c55a3d318a'),
        '/var/log/tinyproxy': dir('0755'),
      },
      // postinst: addgroup --system tinyproxy; adduser --system --ingroup tinyproxy --home /run/tinyproxy
      //           --shell /bin/false tinyproxy; usermod -c "Tinyproxy daemon" tinyproxy
      users: { tinyproxy: { home: '/run/tinyproxy', shell: '/bin/false', group: 'tinyproxy', gecos: 'Tinyproxy daemon' } },
      groups: ['tinyproxy'],
      units: { 'tinyproxy.service': { running: true, enabled: true } },
    },
    'tinyproxy-bin': {
      verified: '1.11.1-2.1+deb12u1',
      paths: {
        '/usr/bin/tinyproxy': file('0755', 93344, '4b9e949128d2386d95983db69fe9893a53aa07da713bfe4212499a66f4becae8'),
      },
    },
    keepalived: {
      verified: '1:2.2.7-1+b2',
      paths: {
        '/etc/keepalived': dir('0755'),
        '/etc/keepalived/keepalived.conf.sample': file('0644', 3550, 'df06c5e6ff9bd41dd935a1d4796a72113094d21811eea811cdb0c8cf96644777'),
        '/lib/systemd/system/keepalived.service': file('0644', 489, 'd8f7b5a4278ab2f4e7c49fe06e710ebf8245b992768daa1e44ddcfd76b5bdb4b'),
        '/usr/sbin/keepalived': file('0755', 872840, '1f7f4ff1d4474ee831a63949efdf39b3fbfffc270a2112c7bf8dfabaf5c7da4e'),
      },
      units: { 'keepalived.service': { running: false, enabled: true } },
    },
    'prometheus-node-exporter': {
      verified: '1.5.0-1+b6',
      paths: {
        '/etc/default/prometheus-node-exporter': file('0644', 265, '667762bc8ea1e872ce55d54dd6c349679adca09801e5974a3e561126ee0a4421'),
        '/lib/systemd/system/prometheus-node-exporter.service': file('0644', 374, 'fd7e8523baadcb56d4fd4fc95fc0cad5324c42dd23d128e0362a4166886a2cc0'),
        '/usr/bin/prometheus-node-exporter': file('0755', 13703864, '67155e19b20caafc09c92e4dcddd74ae264c634b49f04791597ff81388bd2e91'),
        // the textfile collector's directory (roles/monitoring writes replication metrics there)
        '/var/lib/prometheus/node-exporter': dir('0755'),
        '/var/log/prometheus': dir('0755'),
      },
      created: {
        // shipped root:root; postinst: chown prometheus:prometheus /var/lib/prometheus (unless dpkg-statoverride says otherwise)
        '/var/lib/prometheus': dir('0755', 'prometheus', 'prometheus'),
      },
      // postinst: adduser --quiet --system --home /var/lib/prometheus --no-create-home --group --gecos "Prometheus daemon" prometheus
      // (adduser 3.134 writes "Prometheus daemon,,,": every prediction seen on a Debian 12 lab host with --host; Debian 13's
      // adduser writes no ",,,", and its 1.9 binary differs: the rest agreed there too)
      users: { prometheus: { home: '/var/lib/prometheus', shell: '/usr/sbin/nologin', group: 'prometheus', gecos: 'Prometheus daemon,,,' } },
      groups: ['prometheus'],
      units: { 'prometheus-node-exporter.service': { running: true, enabled: true } },
    },
    nftables: {
      verified: '1.0.6-2+deb12u2',
      paths: {
        '/etc/nftables.conf': file('0755', 243, '60dac93ffe0ea440fc4a8941a080b6fb8d2c8655d47baf856e97182a0d1ca29a'),
        '/lib/systemd/system/nftables.service': file('0644', 458, 'e040269f9010bb805d21a7c7b61af5b06530857967cdb2e2fbcf9a470fdf1810'),
        '/usr/sbin/nft': file('0755', 26776, 'ad7cda24982c62bcd449fea140d0640da37ff4cd1226e7f4699cba05d93d1f05'),
      },
      units: { 'nftables.service': { running: false, enabled: false } },
    },
    // not a service of the reference stack: roles/baseline writes the file its postinst makes, so check must know it is there
    'unattended-upgrades': {
      verified: '2.9.1+nmu3',
      paths: {
        '/usr/bin/unattended-upgrade': file('0755', 99547, '3b4eadb2667d662380e24ee2561b33a6b0619701bd9ea1425b5f541d86d9c5b8'),
        '/usr/bin/unattended-upgrades': link('unattended-upgrade'),
      },
      created: {
        // postinst: debconf's enable_auto_updates (default true) -> ucf copies /usr/share/unattended-upgrades/20auto-upgrades here
        '/etc/apt/apt.conf.d/20auto-upgrades': file('0644', 80, 'b81a3a01864d5ed7f8d023f3fa86d65087ad6b85706d399dc229a60b1c784807'),
        // postinst: ucf copies /usr/share/unattended-upgrades/50unattended-upgrades here (the .deb's copy, hashed)
        '/etc/apt/apt.conf.d/50unattended-upgrades': file('0644', 7338, '3b520a37734f7cdcf797c2e78e48945e2d634c7c49bdb309d8c0faad9453bd81'),
      },
    },
  },
}
