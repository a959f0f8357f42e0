// Self-service second factor (README "Second factor (TOTP)", account page) in a real headless
// Chromium without JavaScript: a signed-in user enrols at /oauth2/account/security (password
// again, QR code scanned by zbarimg, first code), then signs in with a code computed by the test
// (Debian python3-pyotp), a wrong code, a replayed code, and a recovery code that works once;
// then makes new recovery codes and removes the factor (password and a current code).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { launchChromium, startCallback, startPortcullis, submit } from './harness.mjs';

const USER = 'carol';
const PASSWORD = 'correct horse battery staple';

let server;
let app;
let browser;
let portal;  // requires no second factor: only an enrolled user needs one

// The TOTP code `steps` 30-second steps from now, by pyotp (RFC 6238, SHA-1, 6 digits).
function totp(secret, steps = 0) {
  const script = 'import sys, time, pyotp; ' +
    'print(pyotp.TOTP(sys.argv[1]).at(time.time() + 30 * int(sys.argv[2])))';
  return execFileSync('/usr/bin/python3', ['-c', script, secret, String(steps)],
    { encoding: 'utf8' }).trim();
}

function wrongCode(code) { return code === '000000' ? '111111' : '000000'; }

// The text of the QR code in a PNG, by zbarimg (Debian zbar-tools).
function zbar(png) {
  const file = join(tmpdir(), `totp-qr-${process.pid}-${randomUUID()}.png`);
  writeFileSync(file, png);
  try {
    return execFileSync('zbarimg', ['--quiet', '--raw', '-Sdisable', '-Sqrcode.enable', file],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).replace(/\r?\n$/, '');
  } finally {
    rmSync(file, { force: true });
  }
}

function authorizeUrl(state) {
  const q = new URLSearchParams({ response_type: 'code', client_id: portal.clientId,
    redirect_uri: app.redirectUri, state, scope: 'openid' });
  return `${server.url}/oauth2/code?${q}`;
}

function amrOf(idToken) {
  return JSON.parse(Buffer.from(idToken.split('.')[1], 'base64url').toString()).amr;
}

async function signIn(page, state) {
  await page.goto(authorizeUrl(state));
  await page.getByLabel('User name').fill(USER);
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

// Signs in at the portal with `code` on the code page. True when the client got a code with
// amr pwd otp; false when the code page refused it.
async function signInWithCode(code, state) {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await signIn(page, state);
  await page.waitForURL(/\/oauth2\/code$/);
  assert.equal(await page.title(), 'Enter your code - Portcullis');
  await page.getByLabel('Code or recovery code').fill(code);
  // The page after the post is either the client's (a code) or the code page again (refused).
  await submit(page, page.getByRole('button', { name: 'Continue' }), '/oauth2/code');
  let ok = false;
  if (page.url().startsWith(app.redirectUri)) {
    assert.deepEqual(amrOf((await backAtClient(page, state)).id_token), ['pwd', 'otp']);
    ok = true;
  } else {
    assert.equal(new URL(page.url()).pathname, '/oauth2/code');
    assert.equal(await page.getByRole('alert').innerText(), 'The code is not valid.');
    assert.equal((await context.cookies()).some((c) => c.name === 'portcullis_sso'), false);
  }
  await context.close();
  return ok;
}

before(async () => {
  server = await startPortcullis();
  app = await startCallback();
  browser = await launchChromium();
  await server.createUser(USER, PASSWORD);
  portal = await server.createClient({ clientType: 'trusted', clientName: 'Portal',
    scope: 'openid petstore.r', redirectUris: [app.redirectUri] });
});

after(async () => {
  await browser?.close();
  await app?.close();
  const code = await server?.stop();
  assert.equal(code, 0, 'portcullis exit code');
});

describe('account page: the user sets up their own second factor', () => {
  // Submits a form of the account page and waits for the page that answers it.
  const post = (button) => submit(account, button, '/oauth2/account/security');
  let secret;
  let recovery;
  let account;  // a signed-in browser (password only) on the account page
  let accountContext;

  test('without a session the page says so',
    async () => {
      const context = await browser.newContext({ javaScriptEnabled: false });
      const page = await context.newPage();
      const r = await page.goto(`${server.url}/oauth2/account/security`);
      assert.equal(r.status(), 401);
      assert.equal(await page.title(), 'You are not signed in - Portcullis');
      await context.close();
    });

  test('enrolment: password again, QR code, first code', async () => {
    accountContext = await browser.newContext({ javaScriptEnabled: false });
    account = await accountContext.newPage();
    await signIn(account, 'password-only');
    assert.deepEqual(amrOf((await backAtClient(account, 'password-only')).id_token), ['pwd']);

    const r = await account.goto(`${server.url}/oauth2/account/security`);
    assert.equal(r.status(), 200);
    const headers = r.headers();
    assert.equal(headers['cache-control'], 'no-store');
    assert.match(headers['content-security-policy'], /default-src 'none'/);
    assert.doesNotMatch(headers['content-security-policy'], /script-src/);
    assert.equal(await account.locator('#totp-state').innerText(),
      'No second factor is set up. Enter your password to set one up.');

    // A forged post (no token; the browser sends the session cookie) changes nothing.
    const forged = await account.request.post(`${server.url}/oauth2/account/security`,
      { form: { action: 'enrol', password: PASSWORD } });
    assert.equal(forged.status(), 403);
    assert.equal((await server.admin('GET', `/oauth2/user/${USER}/totp`)).state, 'none');

    await account.getByLabel('Password').fill('not the password');
    await post(account.getByRole('button', { name: 'Set up an authenticator app' }));
    assert.equal(await account.getByRole('alert').innerText(), 'The password is incorrect.');
    await account.getByLabel('Password').fill(PASSWORD);
    await post(account.getByRole('button', { name: 'Set up an authenticator app' }));
    assert.equal(await account.title(), 'Set up an authenticator app - Portcullis');
    secret = (await account.locator('#totp-secret').innerText()).trim();
    assert.match(secret, /^[A-Z2-7]{32}$/);
    const uri = await account.locator('#totp-uri').getAttribute('href');
    assert.ok(uri.startsWith(`otpauth://totp/Portcullis:${USER}?secret=${secret}&`), uri);
    const qr = account.getByRole('img', { name: 'QR image of the authenticator key' });
    assert.equal(zbar(await qr.screenshot()), uri);
    recovery = (await account.locator('#recovery-codes code').allInnerTexts())
      .map((t) => t.trim());
    assert.equal(recovery.length, 10);
    assert.equal((await server.admin('GET', `/oauth2/user/${USER}/totp`)).state, 'pending');

    await account.getByLabel('Code').fill(wrongCode(totp(secret)));
    await post(account.getByRole('button', { name: 'Confirm' }));
    assert.equal(await account.getByRole('alert').innerText(), 'The code is not valid.');
    assert.equal(await account.locator('#totp-secret').count(), 0);  // shown once
    await account.getByLabel('Code').fill(totp(secret));
    await post(account.getByRole('button', { name: 'Confirm' }));
    assert.equal(await account.getByRole('status').innerText(), 'The second factor is on.');
    assert.equal(await account.locator('#recovery-left').innerText(), '10');
    assert.equal((await server.admin('GET', `/oauth2/user/${USER}/totp`)).state, 'active');
  });

  test('sign-in with a code; a wrong code; a replayed code', async () => {
    const code = totp(secret, 1);  // the next step: the confirmation used this one
    assert.equal(await signInWithCode(wrongCode(code), 'wrong'), false);
    assert.equal(await signInWithCode(code, 'code'), true);
    assert.equal(await signInWithCode(code, 'replay'), false);
  });

  test('a recovery code signs in once', async () => {
    assert.equal(await signInWithCode(recovery[0], 'recovery-1'), true);
    assert.equal(await signInWithCode(recovery[0], 'recovery-2'), false);
  });

  test('new recovery codes need the password and a current code', async () => {
    await account.goto(`${server.url}/oauth2/account/security`);
    assert.equal(await account.locator('#recovery-left').innerText(), '9');
    await account.locator('#recovery_password').fill(PASSWORD);
    await account.locator('#recovery_code').fill(recovery[0]);  // used already
    await post(account.getByRole('button', { name: 'Make new recovery codes' }));
    assert.equal(await account.getByRole('alert').innerText(), 'The code is not valid.');
    await account.locator('#recovery_password').fill(PASSWORD);
    await account.locator('#recovery_code').fill(recovery[1]);
    await post(account.getByRole('button', { name: 'Make new recovery codes' }));
    assert.equal(await account.title(), 'New recovery codes - Portcullis');
    const fresh = (await account.locator('#recovery-codes code').allInnerTexts())
      .map((t) => t.trim());
    assert.equal(fresh.length, 10);
    assert.equal((await server.admin('GET', `/oauth2/user/${USER}/totp`)).recoveryCodesLeft, 10);
    assert.equal(await signInWithCode(recovery[2], 'old-recovery'), false);
    recovery = fresh;
  });

  test('removal needs the password and a current code', async () => {
    await account.goto(`${server.url}/oauth2/account/security`);
    await account.locator('#remove_password').fill('not the password');
    await account.locator('#remove_code').fill(recovery[0]);
    await post(account.getByRole('button', { name: 'Remove' }));
    assert.equal(await account.getByRole('alert').innerText(), 'The password is incorrect.');
    await account.locator('#remove_password').fill(PASSWORD);
    await account.locator('#remove_code').fill(wrongCode(totp(secret, 1)));
    await post(account.getByRole('button', { name: 'Remove' }));
    assert.equal(await account.getByRole('alert').innerText(), 'The code is not valid.');
    assert.equal((await server.admin('GET', `/oauth2/user/${USER}/totp`)).state, 'active');
    await account.locator('#remove_password').fill(PASSWORD);
    await account.locator('#remove_code').fill(recovery[0]);
    await post(account.getByRole('button', { name: 'Remove' }));
    assert.equal(await account.getByRole('status').innerText(), 'The second factor was removed.');
    assert.equal((await server.admin('GET', `/oauth2/user/${USER}/totp`)).state, 'none');
    await accountContext.close();

    // The password alone signs in again.
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    await signIn(page, 'after-removal');
    assert.deepEqual(amrOf((await backAtClient(page, 'after-removal')).id_token), ['pwd']);
    await context.close();
  });
});
