// The sign-in journey in a real headless Chromium: sign in, consent, back to the client with a
// code, a token for it; single sign-on on the second round; a wrong password; a missing CSRF
// token; sign-out. The main journey runs with JavaScript disabled: the pages need none.
//
//   PORTCULLIS_BIN=build/release/portcullis node --test tests/browser/
//   PORTCULLIS_SCREENSHOT=docs/login.png ...   also saves the sign-in page
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { launchChromium, startCallback, startPortcullis, submit } from './harness.mjs';

const USER = 'alice';
const PASSWORD = 'correct horse battery staple';

let server;
let app;  // the client application's redirect endpoint
let browser;
let client;  // confidential: asks for consent
let trusted;  // first-party: no consent

function authorizeUrl(c, state, extra = {}) {
  const q = new URLSearchParams({ response_type: 'code', client_id: c.clientId,
    redirect_uri: app.redirectUri, state, scope: 'petstore.r', ...extra });
  return `${server.url}/oauth2/code?${q}`;
}

// Collects CSP violations and failed page loads, which would mean a page does not render as
// designed (e.g. the stylesheet blocked, or a redirect refused by form-action).
function watch(page) {
  const problems = [];
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) problems.push(m.text());
  });
  return problems;
}

before(async () => {
  server = await startPortcullis();
  app = await startCallback();
  browser = await launchChromium();
  await server.createUser(USER, PASSWORD);
  client = await server.createClient({ clientType: 'confidential', clientName: 'PetStore Web',
    redirectUris: [app.redirectUri] });
  trusted = await server.createClient({ clientType: 'trusted', clientName: 'Portal',
    redirectUris: [app.redirectUri] });
});

after(async () => {
  await browser?.close();
  await app?.close();
  const code = await server?.stop();
  assert.equal(code, 0, 'portcullis exit code');
});

describe('sign-in journey (no JavaScript)', () => {
  let context;
  before(async () => { context = await browser.newContext({ javaScriptEnabled: false }); });
  after(async () => { await context.close(); });

  test('login, then consent, then a redirect with a code, then a token', async () => {
    const page = await context.newPage();
    const problems = watch(page);
    const response = await page.goto(authorizeUrl(client, 'round-1'));
    assert.equal(response.status(), 200);
    assert.equal(await page.title(), 'Sign in - Portcullis');
    assert.match(await page.locator('main').innerText(), /to continue to\s+PetStore Web/);
    // Labelled fields, as a screen reader finds them.
    const username = page.getByLabel('User name');
    const password = page.getByLabel('Password');
    assert.equal(await username.getAttribute('autocomplete'), 'username');
    assert.equal(await username.getAttribute('autofocus'), '');
    assert.equal(await password.getAttribute('type'), 'password');
    assert.equal(await page.getByRole('checkbox', { name: 'Keep me signed in on this device' })
      .count(), 1);
    if (process.env.PORTCULLIS_SCREENSHOT) {
      await page.setViewportSize({ width: 720, height: 620 });
      await page.screenshot({ path: process.env.PORTCULLIS_SCREENSHOT });
    }

    await username.fill(USER);
    await password.fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();

    await page.waitForURL(/\/oauth2\/code$/);
    assert.match(await page.locator('h1').innerText(), /PetStore Web wants access/);
    assert.match(await page.locator('main li').first().innerText(), /Read your petstore data/);
    assert.match(await page.locator('main').innerText(), /Signed in as alice/);

    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL((u) => u.href.startsWith(app.redirectUri));
    const back = new URL(page.url());
    assert.equal(back.searchParams.get('state'), 'round-1');
    assert.equal(back.searchParams.get('iss'), server.url);
    const code = back.searchParams.get('code');
    assert.ok(code && code.length >= 43, 'a 256-bit code');

    const token = await server.redeem(code, client, app.redirectUri);
    assert.equal(token.status, 200, JSON.stringify(token.body));
    assert.ok(token.body.access_token);
    assert.equal(token.body.scope, 'petstore.r');
    assert.deepEqual(problems, []);
    await page.close();
  });

  test('a second round in the same browser skips sign-in and consent', async () => {
    const page = await context.newPage();
    const hitsBefore = app.hits.length;
    await page.goto(authorizeUrl(client, 'round-2'));
    assert.ok(page.url().startsWith(app.redirectUri), page.url());
    const back = new URL(page.url());
    assert.equal(back.searchParams.get('state'), 'round-2');
    // Exactly one callback for this round (a slow earlier round may still land in between).
    const round2 = app.hits.slice(hitsBefore).filter((u) => u.searchParams.get('state') === 'round-2');
    assert.equal(round2.length, 1);
    const token = await server.redeem(back.searchParams.get('code'), client, app.redirectUri);
    assert.equal(token.status, 200);
    // The session cookie is HttpOnly and SameSite=Lax.
    const sso = (await context.cookies()).find((c) => c.name === 'portcullis_sso');
    assert.ok(sso && sso.httpOnly && sso.sameSite === 'Lax');
    await page.close();
  });

  test('sign out asks, then the next authorization asks for the password again', async () => {
    const page = await context.newPage();
    await page.goto(`${server.url}/oauth2/logout`);
    assert.match(await page.locator('h1').innerText(), /Sign out\?/);
    await submit(page, page.getByRole('button', { name: 'Sign out' }), '/oauth2/logout');
    assert.match(page.url(), /\/oauth2\/logout$/);
    assert.match(await page.locator('h1').innerText(), /You are signed out/);
    await page.goto(authorizeUrl(trusted, 'round-3'));
    assert.equal(await page.getByLabel('Password').count(), 1);
    await page.close();
  });
});

describe('failures', () => {
  test('a wrong password shows an error and does not redirect', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const hitsBefore = app.hits.length;
    await page.goto(authorizeUrl(trusted, 'wrong'));
    await page.getByLabel('User name').fill(USER);
    await page.getByLabel('Password').fill('not the password');
    await submit(page, page.getByRole('button', { name: 'Sign in' }), '/oauth2/code');
    assert.ok(page.url().startsWith(server.url + '/oauth2/code'), page.url());
    const alert = page.getByRole('alert');
    assert.equal(await alert.innerText(), 'The user name or password is incorrect.');
    // The user name stays filled in; the password field has the focus and points at the message.
    assert.equal(await page.getByLabel('User name').inputValue(), USER);
    assert.equal(await page.evaluate(() => document.activeElement.id), 'j_password');
    assert.equal(await page.getByLabel('Password').getAttribute('aria-describedby'),
      'login-error');
    assert.equal(app.hits.length, hitsBefore, 'the client was not contacted');
    assert.equal((await context.cookies()).some((c) => c.name === 'portcullis_sso'), false);
    await context.close();
  });

  test('a missing CSRF token is refused', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const hitsBefore = app.hits.length;
    await page.goto(authorizeUrl(trusted, 'csrf'));
    await page.locator('input[name=csrf]').evaluate((e) => e.remove());
    await page.getByLabel('User name').fill(USER);
    await page.getByLabel('Password').fill(PASSWORD);
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST'),
      page.getByRole('button', { name: 'Sign in' }).click(),
    ]);
    assert.equal(response.status(), 403);
    await page.waitForLoadState();
    assert.match(await page.locator('h1').innerText(), /Please start again/);
    assert.equal(app.hits.length, hitsBefore);
    assert.equal((await context.cookies()).some((c) => c.name === 'portcullis_sso'), false);
    // "Start again" leads back to a working sign-in page.
    await Promise.all([
      page.waitForEvent('framenavigated', (f) => f === page.mainFrame()),
      page.getByRole('link', { name: 'Start again' }).click(),
    ]);
    await page.waitForLoadState('load');
    assert.equal(await page.getByLabel('Password').count(), 1);
    await context.close();
  });

  test('an unregistered redirect URI shows a page and never leaves', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const hitsBefore = app.hits.length;
    const response = await page.goto(authorizeUrl(trusted, 'evil',
      { redirect_uri: app.redirectUri + '/../evil' }));
    assert.equal(response.status(), 400);
    assert.ok(page.url().startsWith(server.url), page.url());
    assert.match(await page.locator('h1').innerText(), /cannot be used/);
    assert.equal(app.hits.length, hitsBefore);
    await context.close();
  });
});
