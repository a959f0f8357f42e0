// Starts the real portcullis binary on port 0 for a test and stops it afterwards.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const BOOT_ID = 'node-bootstrap-client';
export const BOOT_SECRET = 'node-bootstrap-secret-0123456789abcdef';

export async function startPortcullis(extraArgs = []) {
  const bin = process.env.PORTCULLIS_BIN ?? new URL('../../build/release/portcullis', import.meta.url).pathname;
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-node-'));
  const portFile = join(dir, 'port');
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PORTCULLIS_')));
  Object.assign(env, {
    PORTCULLIS_KEYS_MASTER_KEY: '1'.repeat(64),
    PORTCULLIS_BOOTSTRAP_CLIENT_ID: BOOT_ID,
    PORTCULLIS_BOOTSTRAP_CLIENT_SECRET: BOOT_SECRET,
    PORTCULLIS_LOG_ACCESS: 'false',
  });
  const child = spawn(bin, ['serve', '--listen', '127.0.0.1:0', '--port-file', portFile,
    '--store', `sqlite:${join(dir, 'db')}`, ...extraArgs], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr.on('data', (d) => { log += d; });
  // Up to 30 s: start-up (mostly the SQLite migrations) has taken 3.5 s on a busy machine.
  const portText = () => (existsSync(portFile) ? readFileSync(portFile, 'utf8').trim() : '');
  for (let i = 0; i < 1200 && !portText(); i++) {
    if (child.exitCode !== null) throw new Error(`portcullis exited (${child.exitCode}): ${log}`);
    await sleep(25);
  }
  if (!portText()) {
    const state = child.exitCode === null ? 'still running, stopped now'
      : `exit code ${child.exitCode}`;
    child.kill('SIGTERM');
    throw new Error(`portcullis did not write its port in 30 s (${state}): ${log}`);
  }
  const port = Number(portText());
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    log: () => log,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
      return child.exitCode;
    },
    async adminToken(scope = 'portal.w portal.r oauth.user.w') {
      const r = await fetch(url + '/oauth2/token', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded',
          authorization: 'Basic ' + Buffer.from(`${BOOT_ID}:${BOOT_SECRET}`).toString('base64') },
        body: new URLSearchParams({ grant_type: 'client_credentials', scope }),
      });
      if (r.status !== 200) throw new Error('admin token: ' + r.status + ' ' + await r.text());
      return (await r.json()).access_token;
    },
    async createUser(userId, password, fields = {}) {
      const token = await this.adminToken();
      const r = await fetch(url + '/oauth2/user', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer ' + token },
        body: JSON.stringify({ userId, userType: 'customer', firstName: 'F', lastName: 'L',
          email: userId + '@example.com', password, passwordConfirm: password, ...fields }),
      });
      if (r.status !== 200) throw new Error('create user: ' + r.status + ' ' + await r.text());
    },
    async createClient(fields) {
      const token = await this.adminToken();
      const r = await fetch(url + '/oauth2/client', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer ' + token },
        body: JSON.stringify({ clientProfile: 'service', clientName: 'node test', clientDesc: 'x',
          host: 'lightapi.net', ownerId: 'admin', ...fields }),
      });
      if (r.status !== 200) throw new Error('create client: ' + r.status + ' ' + await r.text());
      return r.json();
    },
  };
}
