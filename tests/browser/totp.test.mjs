// The second factor (README "Second factor (TOTP)") in a real headless Chromium: a client that
// requires one makes the user enrol on the way (key and recovery codes shown once, confirmed
// by a first code); then sign-in with a code computed by the test (Debian python3-pyotp), a
// wrong code, a replayed code, and a recovery code that works once.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { launchChromium, startCallback, startPortcullis, submit } from './harness.mjs';

const USER = 'alice';
const PASSWORD = 'correct horse battery staple';
const BANK_ID = randomUUID();

let server;
let app;
let browser;
let bank;  // requires a second factor
let portal;  // does not, but an enrolled user needs one everywhere

// The TOTP code `steps` 30-second steps from now, by pyotp (RFC 6238, SHA-1, 6 digits).
function totp(secret, steps = 0) {
  const script = 'import sys, time, pyotp; ' +
    'print(pyotp.TOTP(sys.argv[1]).at(time.time() + 30 * int(sys.argv[2])))';
  return execFileSync('/usr/bin/python3', ['-c', script, secret, String(steps)],
    { encoding: 'utf8' }).trim();
}

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

function authorizeUrl(c, state, scope = 'openid') {
  const q = new URLSearchParams({ response_type: 'code', client_id: c.clientId,
    redirect_uri: app.redirectUri, state, scope });
  return `${server.url}/oauth2/code?${q}`;
}

function amrOf(idToken) {
  return JSON.parse(Buffer.from(idToken.split('.')[1], 'base64url').toString()).amr;
}

async function signIn(page, c, state) {
  await page.goto(authorizeUrl(c, state));
  await page.getByLabel('User name').fill(USER);
  await page.getByLabel('Password').fill(PASSWORD);
  await submit(page, page.getByRole('button', { name: 'Sign in' }), '/oauth2/code');
  await page.waitForURL(/\/oauth2\/code$/);
}

async function backAtClient(page, c, state) {
  await page.waitForURL((u) => u.href.startsWith(app.redirectUri));
  const back = new URL(page.url());
  assert.equal(back.searchParams.get('state'), state);
  const token = await server.redeem(back.searchParams.get('code'), c, app.redirectUri);
  assert.equal(token.status, 200, JSON.stringify(token.body));
  return token.body;
}

before(async () => {
  server = await startPortcullis({ PORTCULLIS_CODE_SECOND_FACTOR_CLIENTS: BANK_ID });
  app = await startCallback();
  browser = await launchChromium();
  await server.createUser(USER, PASSWORD);
  bank = await server.createClient({ clientId: BANK_ID, clientType: 'trusted',
    clientName: 'Example Bank', scope: 'openid petstore.r', redirectUris: [app.redirectUri] });
  portal = await server.createClient({ clientType: 'trusted', clientName: 'Portal',
    scope: 'openid petstore.r', redirectUris: [app.redirectUri] });
});

after(async () => {
  await browser?.close();
  await app?.close();
  const code = await server?.stop();
  assert.equal(code, 0, 'portcullis exit code');
});

describe('second factor (no JavaScript)', () => {
  let secret;
  let recovery;

  test('enrolment on the way to a client that requires it', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    await signIn(page, bank, 'enrol');
    assert.equal(await page.title(), 'Set up a second factor - Portcullis');
    secret = (await page.locator('#totp-secret').innerText()).trim();
    assert.match(secret, /^[A-Z2-7]{32}$/);
    const uri = await page.locator('#totp-uri').getAttribute('href');
    assert.ok(uri.startsWith(`otpauth://totp/Portcullis:${USER}?secret=${secret}&`), uri);
    recovery = (await page.locator('#recovery-codes code').allInnerTexts()).map((t) => t.trim());
    assert.equal(recovery.length, 10);
    // The QR code as Chromium paints it (inline SVG under the page's CSP) scans to the link.
    const qr = page.getByRole('img', { name: 'QR image of the authenticator key' });
    assert.equal(await qr.isVisible(), true);
    assert.equal(zbar(await qr.screenshot()), uri);
    // No session before the factor is confirmed.
    assert.equal((await context.cookies()).some((c) => c.name === 'portcullis_sso'), false);
    await page.getByLabel('Code').fill(totp(secret));
    await submit(page, page.getByRole('button', { name: 'Confirm' }), '/oauth2/code');
    const tokens = await backAtClient(page, bank, 'enrol');
    assert.deepEqual(amrOf(tokens.id_token), ['pwd', 'otp']);
    const state = await server.admin('GET', `/oauth2/user/${USER}/totp`);
    assert.equal(state.state, 'active');
    await context.close();
  });

  test('sign-in with a code; a wrong code; a replayed code', async () => {
    const code = totp(secret, 1);  // the next step: the enrolment used this one
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    await signIn(page, portal, 'code');
    assert.equal(await page.title(), 'Enter your code - Portcullis');
    const wrong = code === '000000' ? '111111' : '000000';
    await page.getByLabel('Code or recovery code').fill(wrong);
    await submit(page, page.getByRole('button', { name: 'Continue' }), '/oauth2/code');
    await page.waitForURL(/\/oauth2\/code$/);
    assert.equal(await page.getByRole('alert').innerText(), 'The code is not valid.');
    assert.equal(await page.getByLabel('Code or recovery code').getAttribute('aria-invalid'),
      'true');
    await page.getByLabel('Code or recovery code').fill(code);
    await submit(page, page.getByRole('button', { name: 'Continue' }), '/oauth2/code');
    const tokens = await backAtClient(page, portal, 'code');
    assert.deepEqual(amrOf(tokens.id_token), ['pwd', 'otp']);
    await context.close();

    // The same code in another browser: used already.
    const other = await browser.newContext({ javaScriptEnabled: false });
    const again = await other.newPage();
    await signIn(again, portal, 'replay');
    await again.getByLabel('Code or recovery code').fill(code);
    await submit(again, again.getByRole('button', { name: 'Continue' }), '/oauth2/code');
    await again.waitForURL(/\/oauth2\/code$/);
    assert.equal(await again.getByRole('alert').innerText(), 'The code is not valid.');
    assert.equal((await other.cookies()).some((c) => c.name === 'portcullis_sso'), false);
    await other.close();
  });

  test('a recovery code signs in once', async () => {
    for (const [state, ok] of [['recovery-1', true], ['recovery-2', false]]) {
      const context = await browser.newContext({ javaScriptEnabled: false });
      const page = await context.newPage();
      await signIn(page, bank, state);
      await page.getByLabel('Code or recovery code').fill(recovery[0]);
      await submit(page, page.getByRole('button', { name: 'Continue' }), '/oauth2/code');
      if (ok) {
        const tokens = await backAtClient(page, bank, state);
        assert.deepEqual(amrOf(tokens.id_token), ['pwd', 'otp']);
      } else {
        await page.waitForURL(/\/oauth2\/code$/);
        assert.equal(await page.getByRole('alert').innerText(), 'The code is not valid.');
      }
      await context.close();
    }
    const state = await server.admin('GET', `/oauth2/user/${USER}/totp`);
    assert.equal(state.recoveryCodesLeft, 9);
  });
});
