// The nginx gateway example (examples/nginx/portcullis-gateway.conf, auth_request to
// GET /oauth2/verify) run for a test: the file itself, with its ports swapped for free ones and
// its static root for a temp dir, as tests/integration/test_verify_nginx.py runs it. nginx is
// required: a missing binary fails the test.
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const EXAMPLE = new URL('../../examples/nginx/portcullis-gateway.conf', import.meta.url).pathname;
const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => existsSync(p));

async function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function accepts(port) {
  return new Promise((resolve) => {
    const c = connect(port, '127.0.0.1');
    c.once('connect', () => { c.destroy(); resolve(true); });
    c.once('error', () => resolve(false));
  });
}

// The service the example's X-Service-Id names, with one endpoint: GET /v1/pets needs pets.r.
export async function registerPetstore(server) {
  const token = await server.adminToken('portal.w portal.r');
  const call = async (path, body) => {
    const r = await fetch(server.url + path, {
      method: 'POST', body: JSON.stringify(body),
      headers: { 'content-type': 'application/json', authorization: 'Bearer ' + token },
    });
    if (r.status !== 200) throw new Error(`${path}: ${r.status} ${await r.text()}`);
  };
  await call('/oauth2/service', { serviceId: 'petstore', serviceType: 'openapi',
    serviceName: 'Pet Store', serviceDesc: 'pets', scope: 'pets.r', ownerId: 'admin',
    host: 'lightapi.net' });
  await call('/oauth2/service/petstore/endpoint',
    [{ endpoint: '/v1/pets@get', operation: 'listPets', scope: 'pets.r' }]);
}

// nginx binds ports that were free a moment before: another process can take one in between
// (as the local port of an outgoing connection). nginx then exits with "Address already in
// use", and the gateway is started again on fresh ports, a few times at most.
export async function startGateway(portcullisPort) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startGatewayOnce(portcullisPort);
    } catch (e) {
      if (attempt >= 5 || !/Address already in use/.test(e.message)) throw e;
    }
  }
}

async function startGatewayOnce(portcullisPort) {
  if (!NGINX) throw new Error('nginx is not installed (scripts/deps.sh test installs nginx-light)');
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-node-nginx-'));
  chmodSync(dir, 0o755);  // workers run as www-data when we are root
  const root = join(dir, 'static');
  mkdirSync(join(root, 'v1'), { recursive: true, mode: 0o755 });
  chmodSync(root, 0o755);
  chmodSync(join(root, 'v1'), 0o755);
  writeFileSync(join(root, 'v1', 'pets.json'), '[{"id":42,"name":"Rex"}]', { mode: 0o644 });
  const port = await freePort();
  const upstream = await freePort();
  const site = readFileSync(EXAMPLE, 'utf8')
    .replaceAll('127.0.0.1:6882', `127.0.0.1:${portcullisPort}`)
    .replaceAll('127.0.0.1:8080', `127.0.0.1:${port}`)
    .replaceAll('127.0.0.1:8081', `127.0.0.1:${upstream}`)
    .replaceAll('/srv/petstore', root);
  writeFileSync(join(dir, 'gateway.conf'), site);
  const user = process.getuid() === 0 ? 'user www-data;\n' : '';
  writeFileSync(join(dir, 'nginx.conf'), `${user}worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log info;
events { worker_connections 128; }
http {
    access_log ${dir}/access.log;
    client_body_temp_path ${dir}/body;
    proxy_temp_path ${dir}/proxy;
    include ${dir}/gateway.conf;
}
`);
  const child = spawn(NGINX, ['-e', join(dir, 'error.log'), '-p', dir, '-c', join(dir, 'nginx.conf'),
    '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const logs = () => {
    let out = stderr;
    try { out += readFileSync(join(dir, 'error.log'), 'utf8'); } catch { /* not there yet */ }
    return out;
  };
  const stop = async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    }
    rmSync(dir, { recursive: true, force: true });
  };
  // Up to 30 s: nginx starts in milliseconds, but the machine may be busy.
  for (let i = 0; i < 1200 && !(await accepts(port)); i++) {
    if (child.exitCode !== null) {
      const why = logs();
      await stop();
      throw new Error('nginx exited: ' + why);
    }
    await sleep(25);
  }
  if (!(await accepts(port))) {
    const why = logs();
    await stop();
    throw new Error('nginx did not start: ' + why);
  }
  return { url: `http://127.0.0.1:${port}`, logs, stop };
}
