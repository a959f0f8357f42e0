// Test harness for the browser tests: the real portcullis binary on port 0 with a bootstrap
// admin client, the admin calls that make clients and users, a stand-in client application
// (an HTTP server on port 0 that receives the redirect), and headless Debian Chromium.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const BOOT_ID = 'browser-bootstrap-client';
const BOOT_SECRET = 'browser-bootstrap-secret-0123456789abcdef';

export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

export async function launchChromium() {
  let chromium;
  try {
    ({ chromium } = await import('playwright-core'));
  } catch (e) {
    throw new Error('playwright-core is missing: run `npm ci` in tests/browser (scripts/test.sh does)');
  }
  return chromium.launch({
    executablePath: process.env.CHROMIUM_BIN ?? '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
  });
}

// Clicks `button`, which submits a form, and returns once the page that answers the post is
// loaded. click() alone waits for a navigation only when Chromium reports it before the click
// settles; without JavaScript the submission is scheduled natively and may be reported later,
// and a read right after click() would then see the old page (its title, its stale alert).
// So both waits are registered before the click: the POST (to `path` when given) and the next
// document of the main frame, then its load.
export async function submit(page, button, path) {
  await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST' &&
      r.request().isNavigationRequest() && r.request().frame() === page.mainFrame() &&
      (path === undefined || new URL(r.url()).pathname === path)),
    page.waitForEvent('framenavigated', (f) => f === page.mainFrame()),
    button.click(),
  ]);
  await page.waitForLoadState('load');
}

function basic(id, secret) {
  return 'Basic ' + Buffer.from(`${id}:${secret}`).toString('base64');
}

// `bootstrap: false` starts without a bootstrap client, as a new installation does: the first
// run then creates the `admin` user and writes its password to `dir`/admin-password. Other
// members are more environment for the server (settings, KRB5_CONFIG, ...). `config`: the text
// of a YAML configuration file to start with.
export async function startPortcullis({ bootstrap = true, config, ...extraEnv } = {}) {
  const bin = process.env.PORTCULLIS_BIN ??
    new URL('../../build/release/portcullis', import.meta.url).pathname;
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-browser-'));
  const portFile = join(dir, 'port');
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('PORTCULLIS_')));
  Object.assign(env, {
    PORTCULLIS_KEYS_MASTER_KEY: '2'.repeat(64),
    PORTCULLIS_LOG_ACCESS: 'false',
  }, extraEnv);
  if (bootstrap) {
    Object.assign(env, {
      PORTCULLIS_BOOTSTRAP_CLIENT_ID: BOOT_ID,
      PORTCULLIS_BOOTSTRAP_CLIENT_SECRET: BOOT_SECRET,
    });
  }
  const args = ['serve', '--listen', '127.0.0.1:0', '--port-file', portFile,
    '--store', `sqlite:${join(dir, 'db')}`];
  if (config !== undefined) {
    writeFileSync(join(dir, 'portcullis.yaml'), config);
    args.push('--config', join(dir, 'portcullis.yaml'));
  }
  const child = spawn(bin, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr.on('data', (d) => { log += d; });
  for (let i = 0; i < 800; i++) {
    if (existsSync(portFile) && readFileSync(portFile, 'utf8').trim()) break;
    if (child.exitCode !== null) throw new Error('portcullis exited: ' + log);
    await sleep(25);
  }
  const url = `http://127.0.0.1:${Number(readFileSync(portFile, 'utf8').trim())}`;
  let adminToken;

  async function admin(method, path, body) {
    if (!adminToken) {
      const r = await fetch(url + '/oauth2/token', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded',
          authorization: basic(BOOT_ID, BOOT_SECRET) },
        body: new URLSearchParams({ grant_type: 'client_credentials',
          scope: 'portal.r portal.w oauth.user.r oauth.user.w' }),
      });
      if (r.status !== 200) throw new Error('admin token: ' + r.status + ' ' + await r.text());
      adminToken = (await r.json()).access_token;
    }
    const r = await fetch(url + path, {
      method,
      headers: { 'content-type': 'application/json', authorization: 'Bearer ' + adminToken },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await r.text();
    if (r.status < 200 || r.status > 299) throw new Error(`${method} ${path}: ${r.status} ${text}`);
    return text ? JSON.parse(text) : {};
  }

  return {
    url,
    dir,
    log: () => log,
    admin,
    async stop() {
      child.kill('SIGTERM');
      if (child.exitCode === null) await new Promise((resolve) => child.once('exit', resolve));
      rmSync(dir, { recursive: true, force: true });
      return child.exitCode;
    },
    createClient: (fields) => admin('POST', '/oauth2/client', {
      clientProfile: 'webserver', clientDesc: 'browser test', host: 'lightapi.net',
      ownerId: 'admin', scope: 'petstore.r petstore.w', ...fields,
    }),
    createUser: (userId, password) => admin('POST', '/oauth2/user', {
      userId, userType: 'employee', firstName: 'Alice', lastName: 'Liddell',
      email: `${userId}@example.com`, password, passwordConfirm: password, roles: 'user',
    }),
    async redeem(code, client, redirectUri) {
      const r = await fetch(url + '/oauth2/token', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded',
          authorization: basic(client.clientId, client.clientSecret) },
        body: new URLSearchParams({ grant_type: 'authorization_code', code,
          redirect_uri: redirectUri }),
      });
      return { status: r.status, body: await r.json() };
    },
  };
}

// The client application's redirect endpoint: records the requests that reach /cb.
export async function startCallback() {
  const hits = [];
  const server = http.createServer((req, res) => {
    const u = new URL(req.url, 'http://127.0.0.1');
    if (u.pathname === '/cb') hits.push(u);  // not the browser's own /favicon.ico
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><title>Client app</title><h1>Back at the client</h1>');
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${server.address().port}`;
  return {
    origin,
    redirectUri: origin + '/cb',
    hits,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

// authorize: a client application that also takes form_post answers (OAuth 2.0 Form Post
// Response Mode): records every request to /cb with its method and decoded form body.
export async function startFormPostCallback() {
  const hits = [];
  const server = http.createServer((req, res) => {
    const u = new URL(req.url, 'http://127.0.0.1');
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      if (u.pathname === '/cb') {
        hits.push({ method: req.method, url: u, contentType: req.headers['content-type'] ?? '',
          form: new URLSearchParams(req.method === 'POST' ? body : u.search) });
      }
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end('<!doctype html><title>Client app</title><h1>Back at the client</h1>');
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${server.address().port}`;
  return {
    origin,
    redirectUri: origin + '/cb',
    hits,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}
