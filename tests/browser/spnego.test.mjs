// SPNEGO configured (README "Enterprise sign-in: Kerberos / SPNEGO"), and a browser that does not
// do Kerberos: Debian's Chromium answers a Negotiate challenge with ERR_UNSUPPORTED_AUTH_SCHEME,
// as any browser outside the domain gives up on it. The sign-in page arrives as the body of the
// 401, renders, and the password sign-in goes on to the client with a code. The service keytab
// comes from a real MIT KDC (tests/integration/kdc.py, started and stopped by this test).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { after, before, test } from 'node:test';

import { launchChromium, startCallback, startPortcullis } from './harness.mjs';

const USER = 'alice';
const PASSWORD = 'correct horse battery staple';
const INTEGRATION = new URL('../integration/', import.meta.url).pathname;
// Starts the KDC, prints the keytab and the Kerberos environment as one JSON line, and stops
// the KDC (by its PID) when stdin closes.
const KDC_SCRIPT = `
import json, sys, tempfile
import kdc
k = kdc.Kdc(tempfile.mkdtemp(prefix="portcullis-kdc-"))
try:
    env = {n: v for n, v in k.env().items() if n.startswith("KRB5")}
    print(json.dumps({"keytab": k.keytab, "principal": kdc.SERVICE, "env": env}), flush=True)
    sys.stdin.read()
finally:
    k.stop()
`;

let kdc;
let server;
let app;
let browser;
let trusted;

async function startKdc() {
  const child = spawn('/usr/bin/python3', ['-c', KDC_SCRIPT],
    { cwd: INTEGRATION, stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  const first = await new Promise((resolve, reject) => {
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error('the KDC helper exited: ' + code)));
  });
  return { child, ...JSON.parse(first) };
}

before(async () => {
  kdc = await startKdc();
  server = await startPortcullis({ PORTCULLIS_SPNEGO_KEYTAB: kdc.keytab,
    PORTCULLIS_SPNEGO_SERVICE_PRINCIPAL: kdc.principal, ...kdc.env });
  app = await startCallback();
  browser = await launchChromium();
  await server.createUser(USER, PASSWORD);
  trusted = await server.createClient({ clientType: 'trusted', clientName: 'Portal',
    redirectUris: [app.redirectUri] });
});

after(async () => {
  await browser?.close();
  await app?.close();
  const code = await server?.stop();
  if (kdc) {
    kdc.child.stdin.end();
    if (kdc.child.exitCode === null) await new Promise((r) => kdc.child.once('exit', r));
  }
  assert.equal(code, 0, 'portcullis exit code');
});

test('a browser without Kerberos gets the sign-in form from the 401 and signs in', async () => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  const q = new URLSearchParams({ response_type: 'code', client_id: trusted.clientId,
    redirect_uri: app.redirectUri, state: 'krb-browser', scope: 'petstore.r' });
  const response = await page.goto(`${server.url}/oauth2/code?${q}`);
  assert.equal(response.status(), 401);
  assert.equal(response.headers()['www-authenticate'], 'Negotiate');
  assert.equal(await page.title(), 'Sign in - Portcullis');
  await page.getByLabel('User name').fill(USER);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((u) => u.href.startsWith(app.redirectUri));
  const back = new URL(page.url());
  assert.equal(back.searchParams.get('state'), 'krb-browser');
  const token = await server.redeem(back.searchParams.get('code'), trusted, app.redirectUri);
  assert.equal(token.status, 200, JSON.stringify(token.body));
  await context.close();
});
