// The floor of a converged check: a minimal Node + ssh2 client that connects to
// each host (known_hosts checked, Nagle off, hosts in parallel) and sends the
// very probe scripts and reads muster's own check sent, in the same order, then
// exits. Plain JavaScript (no loader), as muster's CLI runs compiled. What muster
// costs beyond this is its own overhead: loading, planning, reporting.
//
//   node bench/floor/client.mjs PLAN.json
import net from 'node:net'
import { readFileSync } from 'node:fs'
import ssh2 from 'ssh2'

const plan = JSON.parse(readFileSync(process.argv[2], 'utf8'))

function knownKey(file, address, port) {
  const token = port === 22 ? address : `[${address}]:${port}`
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const [names, , blob] = line.trim().split(/\s+/)
    if (names && blob && names.split(',').includes(token)) return blob
  }
  throw new Error(`${token} is not in ${file}`)
}

function exec(conn, command, script) {
  return new Promise((resolve, reject) => {
    conn.exec(command, (err, ch) => {
      if (err) return reject(err)
      let out = 0
      ch.on('data', (d) => (out += d.length))
      ch.stderr.on('data', () => undefined)
      ch.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${command} exited ${code}`))))
      ch.end(script)
    })
  })
}

async function run(host) {
  const expected = knownKey(host.knownHosts, host.address, host.port)
  const sock = net.connect({ host: host.address, port: host.port })
  sock.setNoDelay(true)
  const conn = new ssh2.Client()
  await new Promise((resolve, reject) => {
    conn.once('ready', resolve).once('error', reject)
    sock.once('connect', () =>
      conn.connect({ sock, username: host.user, privateKey: readFileSync(host.keyFile), hostVerifier: (key) => key.toString('base64') === expected }),
    )
    sock.once('error', reject)
  })
  let sftp
  for (const op of plan.ops[host.name] ?? []) {
    if (op.kind === 'exec') await exec(conn, op.command, op.script)
    else {
      sftp ??= await new Promise((resolve, reject) => conn.sftp((err, s) => (err ? reject(err) : resolve(s))))
      await new Promise((resolve, reject) => sftp.readFile(op.path, (err, data) => (err ? reject(err) : resolve(data))))
    }
  }
  conn.end()
}

await Promise.all(plan.hosts.map(run))
process.exit(0)
