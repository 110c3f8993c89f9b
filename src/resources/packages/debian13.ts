import { dir, file, link, type PackageEdition } from './table.ts'

/**
 * Debian 13's packages, as check mode predicts their install. Verified as
 * Debian 12's were (see debian12.ts), against a trixie lab host's candidates
 * on 2026-12-05:
 * - `paths` from each .deb (`verify-package-provides.ts --lab HOST`: 104 entries, 0 wrong): the
 *   unit files now ship under /usr/lib/systemd/system (merged /usr; /lib is a
 *   link there, so both names reach the same file), nginx.conf, mime.types,
 *   debian-start, 50-server.cnf, 60-galera.cnf and keepalived.conf.sample
 *   have other bytes, and mariadb-client no longer ships 50-mysql-clients.cnf.
 * - `created`, `users`, `groups` and `units` compared read-only with a host
 *   where the packages were installed (`--host`): Debian 13's adduser writes
 *   the GECOS it is given with no ",,," after it, and the mysql user is
 *   "MariaDB Server" there.
 * - `with`: the same companions as on Debian 12 (`apt-get -s install`).
 */
export const DEBIAN_13: PackageEdition = {
  name: 'Debian 13 (trixie)',
  baseFiles: '13',
  table: {
    nginx: {
      verified: '1.26.3-3+deb13u10',
      with: ['nginx-common'],
      paths: {
        '/usr/sbin/nginx': file('0755', 1491464, '3f804ae7dda33a8368993d5d6087bfbc5fbf8c8ed1760af12fc9e8a74966d8a7'),
      },
      units: { 'nginx.service': { running: true, enabled: true } },
    },
    'nginx-common': {
      verified: '1.26.3-3+deb13u10',
      paths: {
        '/etc/nginx': dir('0755'),
        '/etc/nginx/conf.d': dir('0755'),
        '/etc/nginx/fastcgi.conf': file('0644', 1125, 'dc4a3e6f16eb08000fb4a4ba6aaf9faeb50d55a3eaf152907938632f5b85b3aa'),
        '/etc/nginx/fastcgi_params': file('0644', 2460, '1f0fa817fef4b3e90407d6893d9ba5c0f605502d6916e765641ce95bdf77278f'),
        '/etc/nginx/koi-utf': file('0644', 2837, 'b5f8a6d411db5e5d11d151d50cd1e962444732593adec0e1ef0a8c6eebec63ee'),
        '/etc/nginx/koi-win': file('0644', 2223, 'de518a9eafe86c8bc705e296d0ef26135835b46bdc0de01d1d50a630fa5d341e'),
        '/etc/nginx/mime.types': file('0644', 5527, 'b12cd90b120d4b97e76a7b857eb4a2bf0b6df37c4b246d471f37e6493dc191ac'),
        '/etc/nginx/modules-available': dir('0755'),
        '/etc/nginx/modules-enabled': dir('0755'),
        '/etc/nginx/nginx.conf': file('0644', 1545, 'c66fbe205bf46b5d125502e35605938ed37feef6e2b24325b1c088665caaf477'),
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
        '/usr/lib/systemd/system/nginx.service': file('0644', 1125, '6c759c229d4dacf65c1f98c1733646f8b979d3e75e13a98bfbcfe26f8a2f793c'),
        '/var/lib/nginx': dir('0755'),
      },
      created: {
        '/etc/nginx/sites-enabled/default': link('/etc/nginx/sites-available/default'),
        '/var/log/nginx': dir('0755', 'root', 'adm'),
        '/var/www': dir('0755'),
        '/var/www/html': dir('0755'),
        '/var/www/html/index.nginx-debian.html': file('0644', 615, 'fb47468a2cd3953c7131431991afcc6a2703f14640520102eea0a685a7e8d6de'),
      },
      firstInstallOnly: ['/etc/nginx/sites-enabled/default'],
    },
    haproxy: {
      verified: '3.0.11-1+deb13u4',
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
        '/usr/lib/systemd/system/haproxy.service': file('0644', 1503, '7af71f137d471cc02e8343ee573c828022594028183f68a38eba7b7d027405f5'),
        '/usr/sbin/haproxy': file('0755', 4484576, 'bbb0bf106e1238729e45f1f2465e8ed990e6aec4ce7251169674f1c5a88e346f'),
        '/var/lib/haproxy': dir('0755'),
        '/var/lib/haproxy/dev': dir('0755'),
      },
      users: { haproxy: { home: '/var/lib/haproxy', shell: '/usr/sbin/nologin', group: 'haproxy', gecos: '' } },
      groups: ['haproxy'],
      units: { 'haproxy.service': { running: true, enabled: true } },
    },
    'mariadb-server': {
      verified: '1:11.8.9+ds-0+deb13u1',
      with: ['mariadb-server-core', 'mariadb-client', 'mariadb-common', 'mysql-common'],
      paths: {
        '/etc/mysql/debian-start': file('0755', 1512, 'c2c1eef0ab6d08a905d2a5fe37cae7e9f73d88e3aa1fc5f4391252f7e4c9454d'),
        '/etc/mysql/mariadb.conf.d': dir('0755'),
        '/etc/mysql/mariadb.conf.d/50-mysqld_safe.cnf': file('0644', 927, 'bfc648f510483468aeefdd9256089a89e278d06b19945c368e4e846fe53797e1'),
        '/etc/mysql/mariadb.conf.d/50-server.cnf': file('0644', 3642, '77bfecc6202ad2d72d9e881a259d6dea2e73a330ee32bb616e016447f64380e2'),
        '/usr/lib/systemd/system/mariadb.service': file('0644', 5619, 'e536c1b8748bd87806c0bcb393dbbd2f8ac8e9e97ae420441648c43d8a2ba3a3'),
      },
      created: {
        '/var/lib/mysql': dir('0755', 'mysql', 'mysql'),
        '/etc/mysql/debian.cnf': file('0600', 544, '18b2e9f179dabe8762a77b297f803c958a3ed9642aaa5ba184e8d56bc1cfda9a'),
      },
      users: { mysql: { home: '/nonexistent', shell: '/bin/false', group: 'mysql', gecos: 'MariaDB Server' } },
      groups: ['mysql'],
      units: { 'mariadb.service': { running: true, enabled: true } },
    },
    'mariadb-server-core': {
      verified: '1:11.8.9+ds-0+deb13u1',
      paths: {
        '/usr/sbin/mariadbd': file('0755', 27150784, '23d1d333be984acd6991140c77dddb47b0cca4ab0bdc5f802612b992d15101b5'),
        '/usr/sbin/mysqld': link('mariadbd'),
      },
    },
    'mariadb-client': {
      verified: '1:11.8.9+ds-0+deb13u1',
      with: ['mariadb-client-core'],
      paths: {
        '/etc/mysql/mariadb.conf.d/50-client.cnf': file('0644', 575, '69c1fdec9f09efd072bdcd65f8f0061a687166ef3738fd2bf4296a0399bfba08'),
        // not in mariadb-client 1:11.8.9+ds-0+deb13u1: /etc/mysql/mariadb.conf.d/50-mysql-clients.cnf
        '/etc/mysql/mariadb.conf.d/60-galera.cnf': file('0644', 572, '5947436003b8eb0a65f1212817e55ca024954ac49cbfa429bc477a8af70f851a'),
        '/usr/bin/mariadb-admin': file('0755', 5072960, '8291b5f997f11dc7b8375b745a1680ad7a6c44322cc8af95d1a4b858cec9f34d'),
        '/usr/bin/mariadb-dump': file('0755', 5174896, '9916a200e0d84ffdb4bd9489af5f320bf7d725a9300b29a24850aebb016de6e4'),
        '/usr/bin/mysqladmin': link('mariadb-admin'),
        '/usr/bin/mysqldump': link('mariadb-dump'),
      },
    },
    'mariadb-client-core': {
      verified: '1:11.8.9+ds-0+deb13u1',
      paths: {
        '/usr/bin/mariadb': file('0755', 5312440, 'a01d56ebadac12f57672c6f0543571ca07632851d98e47552c4dd919e3e780c7'),
        '/usr/bin/mysql': link('mariadb'),
      },
    },
    'mariadb-common': {
      verified: '1:11.8.9+ds-0+deb13u1',
      paths: {
        '/etc/mysql': dir('0755'),
        '/etc/mysql/mariadb.cnf': file('0644', 1126, '65084b5344fcbae09425c648a9bfb1ff99c1fd0d83f1eff5bc08bf8032de8981'),
        '/etc/mysql/mariadb.conf.d': dir('0755'),
      },
      created: {
        '/etc/mysql/my.cnf': link('/etc/alternatives/my.cnf'),
      },
    },
    'mysql-common': {
      verified: '5.8+1.1.1',
      paths: {
        '/etc/mysql': dir('0755'),
        '/etc/mysql/conf.d': dir('0755'),
        '/etc/mysql/conf.d/mysql.cnf': file('0644', 8, '076d9d7a0d0f53a28f76a768bcfee25a6dd48691b64174dafe989043fc36c60e'),
        '/etc/mysql/conf.d/mysqldump.cnf': file('0644', 55, '21f542392fa0bf68326a7936bc0c24c02fe21ae6a1c5f4c37114ffa05c740578'),
        '/etc/mysql/my.cnf.fallback': file('0644', 839, 'b562ddb4d6f452725287c4842d9ad36052bf1a1cc1f4abef51ba55edbf3ed5d6'),
      },
    },
    nodejs: {
      verified: '20.19.2+dfsg-1+deb13u3',
      paths: {
        '/usr/bin/node': file('0755', 26704, 'ca0728526aa1cc4e3056decec848ecc6d2c5391cecdd4e21a0ebd221d665c84e'),
        '/usr/bin/nodejs': link('node'),
      },
    },
    tinyproxy: {
      verified: '1.11.2-1',
      with: ['tinyproxy-bin'],
      paths: {
        '/etc/tinyproxy': dir('0755'),
        '/etc/tinyproxy/tinyproxy.conf': file('0644', 10197, 'ec2768782e6f64456c2f1c5958f5e7ff3dcef9534c3ae5d382efb9d1f680cd18'),
        '/usr/lib/systemd/system/tinyproxy.service': file('0644', 363, '367b3917d969c237ba7dd75455a6451c75be8c62c40b79e9863351c55a3d318a'),
        '/var/log/tinyproxy': dir('0755'),
      },
      created: {
        // shipped 0755 root:root; postinst: chmod 750, chown tinyproxy:adm (seen so on an installed host)
        '/var/log/tinyproxy': dir('0750', 'tinyproxy', 'adm'),
      },
      users: { tinyproxy: { home: '/run/tinyproxy', shell: '/bin/false', group: 'tinyproxy', gecos: 'Tinyproxy daemon' } },
      groups: ['tinyproxy'],
      units: { 'tinyproxy.service': { running: true, enabled: true } },
    },
    'tinyproxy-bin': {
      verified: '1.11.2-1',
      paths: {
        '/usr/bin/tinyproxy': file('0755', 93344, '85278a0e2db8d66fa6ec44c6d13730b1ef8b18cb4232b7111a88c67ce97b3187'),
      },
    },
    keepalived: {
      verified: '1:2.3.3-1',
      paths: {
        '/etc/keepalived': dir('0755'),
        '/etc/keepalived/keepalived.conf.sample': file('0644', 3625, '51028770eebba899bb916f4bc88d710e0623ac36725b0b2ef25596e9fe220e23'),
        '/usr/lib/systemd/system/keepalived.service': file('0644', 489, 'd8f7b5a4278ab2f4e7c49fe06e710ebf8245b992768daa1e44ddcfd76b5bdb4b'),
        '/usr/sbin/keepalived': file('0755', 914552, '886b580b0b45d1db3129a147f9184f152b5fe2e56aea1dc9f56cce2ddfe230d3'),
      },
      units: { 'keepalived.service': { running: false, enabled: true } },
    },
    'prometheus-node-exporter': {
      verified: '1.9.0-1+b4',
      paths: {
        '/etc/default/prometheus-node-exporter': file('0644', 265, '667762bc8ea1e872ce55d54dd6c349679adca09801e5974a3e561126ee0a4421'),
        '/usr/lib/systemd/system/prometheus-node-exporter.service': file('0644', 374, 'fd7e8523baadcb56d4fd4fc95fc0cad5324c42dd23d128e0362a4166886a2cc0'),
        '/usr/bin/prometheus-node-exporter': file('0755', 15958736, '578cc2c1a7d8470c510d7d229cb4c2aa9f25242a0b722bebc11a2a0e9311b0a0'),
        '/var/lib/prometheus/node-exporter': dir('0755'),
        '/var/log/prometheus': dir('0755'),
      },
      created: {
        '/var/lib/prometheus': dir('0755', 'prometheus', 'prometheus'),
      },
      users: { prometheus: { home: '/var/lib/prometheus', shell: '/usr/sbin/nologin', group: 'prometheus', gecos: 'Prometheus daemon' } },
      groups: ['prometheus'],
      units: { 'prometheus-node-exporter.service': { running: true, enabled: true } },
    },
    nftables: {
      verified: '1.1.3-1',
      paths: {
        '/etc/nftables.conf': file('0755', 243, '60dac93ffe0ea440fc4a8941a080b6fb8d2c8655d47baf856e97182a0d1ca29a'),
        '/usr/lib/systemd/system/nftables.service': file('0644', 458, 'e040269f9010bb805d21a7c7b61af5b06530857967cdb2e2fbcf9a470fdf1810'),
        '/usr/sbin/nft': file('0755', 26776, '57bdb96c8a48844ddd6dd469c267cda951b9a466be93d254c928891ed8c3b7f0'),
      },
      units: { 'nftables.service': { running: false, enabled: false } },
    },
    // not a service of the reference stack: roles/baseline writes the file its postinst makes, so check must know it is there
    'unattended-upgrades': {
      verified: '2.12',
      paths: {
        '/usr/bin/unattended-upgrade': file('0755', 108830, '8fbeeb51ca4a9c357519245f2e70497445aa34e6e95e6cf3a9db02639224d2db'),
        '/usr/bin/unattended-upgrades': link('unattended-upgrade'),
      },
      created: {
        // postinst: debconf's enable_auto_updates (default true) -> ucf copies /usr/share/unattended-upgrades/20auto-upgrades here
        '/etc/apt/apt.conf.d/20auto-upgrades': file('0644', 80, 'b81a3a01864d5ed7f8d023f3fa86d65087ad6b85706d399dc229a60b1c784807'),
        // postinst: ucf copies /usr/share/unattended-upgrades/50unattended-upgrades here (the .deb's copy, hashed)
        '/etc/apt/apt.conf.d/50unattended-upgrades': file('0644', 7407, '1bbe2f8e7f113585b1142a5e8e9c347363241053131b843bde54575d7a40dfb3'),
      },
    },
  },
}
