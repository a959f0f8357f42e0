// A second factor required by role (README "Second factor (TOTP)", code.second_factor_roles) in
// a real headless Chromium: at a client that requires nothing, a user with the role enrols on
// the way (code computed by the test with Debian python3-pyotp) before any code reaches the
// client, and a user without it signs in with the password alone.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, test } from 'node:test';

import { launchChromium, startCallback, startPortcullis, submit } from './harness.mjs';

const PASSWORD = 'correct horse battery staple';

let server;
let app;
let browser;
let portal;

function totp(secret) {
  const script = 'import sys, pyotp; print(pyotp.TOTP(sys.argv[1]).now())';
  return execFileSync('/usr/bin/python3', ['-c', script, secret], { encoding: 'utf8' }).trim();
}

function amrOf(idToken) {
  return JSON.parse(Buffer.from(idToken.split('.')[1], 'base64url').toString()).amr;
}

async function signIn(page, user, state) {
  const q = new URLSearchParams({ response_type: 'code', client_id: portal.clientId,
    redirect_uri: app.redirectUri, state, scope: 'openid' });
  await page.goto(`${server.url}/oauth2/code?${q}`);
  await page.getByLabel('User name').fill(user);
  await page.getByLabel('Password').fill(PASSWORD);
  await submit(page, page.getByRole('button', { name: 'Sign in' }), '/oauth2/code');
}

async function backAtClient(page, state) {
  await page.waitForURL((u) => u.href.startsWith(app.redirectUri));
  const back = new URL(page.url());
  assert.equal(back.searchParams.get('state'), state);
  const token = await server.redeem(back.searchParams.get('code'), portal, app.redirectUri);
  assert.equal(token.status, 200, JSON.stringify(token.body));
  return token.body;
}

function createUser(userId, roles) {
  return server.admin('POST', '/oauth2/user', {
    userId, userType: 'employee', firstName: 'A', lastName: 'B', email: `${userId}@example.com`,
    password: PASSWORD, passwordConfirm: PASSWORD, roles,
  });
}

before(async () => {
  server = await startPortcullis({ PORTCULLIS_CODE_SECOND_FACTOR_ROLES: 'admin' });
  app = await startCallback();
  browser = await launchChromium();
  await createUser('ada', 'user admin');
  await createUser('bea', 'user');
  portal = await server.createClient({ clientType: 'trusted', clientName: 'Portal',
    scope: 'openid petstore.r', redirectUris: [app.redirectUri] });
});

after(async () => {
  await browser?.close();
  await app?.close();
  const code = await server?.stop();
  assert.equal(code, 0, 'portcullis exit code');
});

test('a user with a required role enrols before the client gets a code', async () => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await signIn(page, 'ada', 'enrol');
  await page.waitForURL(/\/oauth2\/code$/);
  assert.equal(await page.title(), 'Set up a second factor - Portcullis');
  assert.equal((await context.cookies()).some((c) => c.name === 'portcullis_sso'), false);
  const secret = (await page.locator('#totp-secret').innerText()).trim();
  await page.getByLabel('Code').fill(totp(secret));
  await submit(page, page.getByRole('button', { name: 'Confirm' }), '/oauth2/code');
  const tokens = await backAtClient(page, 'enrol');
  assert.deepEqual(amrOf(tokens.id_token), ['pwd', 'otp']);
  assert.equal((await server.admin('GET', '/oauth2/user/ada/totp')).state, 'active');
  await context.close();
});

test('a user without the role signs in with the password alone', async () => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await signIn(page, 'bea', 'plain');
  const tokens = await backAtClient(page, 'plain');
  assert.deepEqual(amrOf(tokens.id_token), ['pwd']);
  assert.equal((await server.admin('GET', '/oauth2/user/bea/totp')).state, 'none');
  await context.close();
});
