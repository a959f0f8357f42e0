// RP-initiated logout in a real headless Chromium (OpenID Connect RP-Initiated Logout 1.0):
// with a registered post_logout_redirect_uri the browser lands there with state after the
// user confirms; an unregistered one (or a plain redirect URI) is never followed. JavaScript is
// disabled: the pages need none.
//
//   PORTCULLIS_BIN=build/release/portcullis node --test tests/browser/logout.test.mjs
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { launchChromium, startCallback, startPortcullis, submit } from './harness.mjs';

const USER = 'alice';
const PASSWORD = 'correct horse battery staple';

let server;
let app;  // the relying party: redirect URI /cb, post-logout URI /bye
let browser;
let rp;

function authorizeUrl(state) {
  const q = new URLSearchParams({ response_type: 'code', client_id: rp.clientId,
    redirect_uri: app.redirectUri, state, scope: 'petstore.r' });
  return `${server.url}/oauth2/code?${q}`;
}

function logoutUrl(params) {
  return `${server.url}/oauth2/logout?${new URLSearchParams(params)}`;
}

async function signIn(page, state) {
  await page.goto(authorizeUrl(state));
  await page.getByLabel('User name').fill(USER);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((u) => u.href.startsWith(app.redirectUri));
}

before(async () => {
  server = await startPortcullis();
  app = await startCallback();
  browser = await launchChromium();
  await server.createUser(USER, PASSWORD);
  rp = await server.createClient({ clientType: 'trusted', clientName: 'Portal',
    redirectUris: [app.redirectUri], postLogoutRedirectUris: [app.origin + '/bye'] });
});

after(async () => {
  await browser?.close();
  await app?.close();
  const code = await server?.stop();
  assert.equal(code, 0, 'portcullis exit code');
});

describe('RP-initiated logout', () => {
  test('a registered post_logout_redirect_uri is where the browser lands, with state', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    await signIn(page, 'in-1');
    await page.goto(logoutUrl({ client_id: rp.clientId,
      post_logout_redirect_uri: app.origin + '/bye', state: 'bye-1' }));
    assert.match(await page.locator('h1').innerText(), /Sign out\?/);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL((u) => u.href.startsWith(app.origin + '/bye'));
    const back = new URL(page.url());
    assert.equal(back.pathname, '/bye');
    assert.equal(back.searchParams.get('state'), 'bye-1');
    // The session is over: the next authorization asks for the password.
    await page.goto(authorizeUrl('in-2'));
    assert.equal(await page.getByLabel('Password').count(), 1);
    await context.close();
  });

  for (const [name, uri] of [['an unregistered URI', () => app.origin + '/elsewhere'],
    ['a redirect URI that is not a post-logout one', () => app.redirectUri],
    ['another origin', () => 'https://evil.example/bye']]) {
    test(`${name} is not followed`, async () => {
      const context = await browser.newContext({ javaScriptEnabled: false });
      const page = await context.newPage();
      await signIn(page, 'in-3');
      await page.goto(logoutUrl({ client_id: rp.clientId, post_logout_redirect_uri: uri(),
        state: 'bye-2' }));
      assert.match(await page.locator('h1').innerText(), /Sign out\?/);
      await submit(page, page.getByRole('button', { name: 'Sign out' }), '/oauth2/logout');
      assert.match(page.url(), /\/oauth2\/logout$/);
    assert.match(page.url(), /\/oauth2\/logout$/);
      assert.match(await page.locator('h1').innerText(), /You are signed out/);
      assert.ok(page.url().startsWith(server.url), page.url());
      await context.close();
    });
  }
});
