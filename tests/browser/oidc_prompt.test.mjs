// OpenID Connect authorization request parameters in a real headless Chromium (OIDC Core
// §3.1.2.1, OAuth 2.0 Form Post Response Mode): prompt=login shows the sign-in page again;
// prompt=none without a session goes back to the client with login_required and shows no page;
// max_age=0 asks again; form_post delivers the code to the client by a POST the page's own
// script sends, within its Content-Security-Policy.
//
//   PORTCULLIS_BIN=build/release/portcullis node --test tests/browser/oidc_prompt.test.mjs
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { launchChromium, startFormPostCallback, startPortcullis } from './harness.mjs';

const USER = 'alice';
const PASSWORD = 'correct horse battery staple';

let server;
let app;
let browser;
let client;  // trusted: no consent page, so every page seen is a sign-in page or none

function authorizeUrl(state, extra = {}) {
  const q = new URLSearchParams({ response_type: 'code', client_id: client.clientId,
    redirect_uri: app.redirectUri, state, scope: 'petstore.r', ...extra });
  return `${server.url}/oauth2/code?${q}`;
}

// Every page portcullis served to this tab (status and URL), and CSP complaints.
function watch(page) {
  const served = [];
  const problems = [];
  page.on('response', (r) => {
    if (r.url().startsWith(server.url)) served.push({ status: r.status(), url: r.url() });
  });
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) problems.push(m.text());
  });
  return { served, problems };
}

async function signIn(page) {
  await page.getByLabel('User name').fill(USER);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

function backAtClient(page) {
  return page.waitForURL((u) => u.href.startsWith(app.redirectUri));
}

before(async () => {
  server = await startPortcullis();
  app = await startFormPostCallback();
  browser = await launchChromium();
  await server.createUser(USER, PASSWORD);
  client = await server.createClient({ clientType: 'trusted', clientName: 'Portal',
    redirectUris: [app.redirectUri] });
});

after(async () => {
  await browser?.close();
  await app?.close();
  const code = await server?.stop();
  assert.equal(code, 0, 'portcullis exit code');
});

describe('prompt and max_age', () => {
  let context;
  before(async () => { context = await browser.newContext(); });
  after(async () => { await context.close(); });

  test('prompt=none with no session redirects with login_required and shows no page', async () => {
    const page = await context.newPage();
    const { served } = watch(page);
    await page.goto(authorizeUrl('none-1', { prompt: 'none' }));
    await backAtClient(page);
    const q = new URL(page.url()).searchParams;
    assert.equal(q.get('error'), 'login_required');
    assert.equal(q.get('state'), 'none-1');
    assert.equal(q.get('iss'), server.url);
    assert.equal(q.get('code'), null);
    // Portcullis answered with a redirect only: no page was rendered.
    assert.deepEqual(served.map((s) => s.status), [302]);
    await page.close();
  });

  test('after signing in, prompt=login shows the sign-in page again', async () => {
    const page = await context.newPage();
    await page.goto(authorizeUrl('first'));
    assert.equal(await page.title(), 'Sign in - Portcullis');
    await signIn(page);
    await backAtClient(page);
    assert.ok(new URL(page.url()).searchParams.get('code'));

    // Single sign-on: straight back.
    await page.goto(authorizeUrl('sso'));
    await backAtClient(page);
    assert.ok(new URL(page.url()).searchParams.get('code'));

    await page.goto(authorizeUrl('again', { prompt: 'login' }));
    assert.equal(await page.title(), 'Sign in - Portcullis');
    await signIn(page);
    await backAtClient(page);
    const q = new URL(page.url()).searchParams;
    assert.ok(q.get('code'));
    assert.equal(q.get('state'), 'again');
    await page.close();
  });

  test('max_age=0 asks again; prompt=none with it is login_required', async () => {
    const page = await context.newPage();
    await page.goto(authorizeUrl('age-0', { max_age: '0' }));
    assert.equal(await page.title(), 'Sign in - Portcullis');
    await signIn(page);
    await backAtClient(page);
    assert.ok(new URL(page.url()).searchParams.get('code'));

    const { served } = watch(page);
    await page.goto(authorizeUrl('age-0-none', { max_age: '0', prompt: 'none' }));
    await backAtClient(page);
    assert.equal(new URL(page.url()).searchParams.get('error'), 'login_required');
    assert.deepEqual(served.map((s) => s.status), [302]);
    await page.close();
  });

  test('login_hint prefills the user name', async () => {
    const fresh = await browser.newContext();
    const page = await fresh.newPage();
    await page.goto(authorizeUrl('hint', { login_hint: '<b>alice</b>' }));
    assert.equal(await page.getByLabel('User name').inputValue(), '<b>alice</b>');
    assert.equal(await page.locator('main b').count(), 0);
    await fresh.close();
  });
});

describe('response_mode=form_post', () => {
  test('the code reaches the client by POST, within the CSP', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const { problems } = watch(page);
    const before = app.hits.length;
    await page.goto(authorizeUrl('fp-1', { response_mode: 'form_post' }));
    await signIn(page);
    await backAtClient(page);
    const hit = app.hits.at(-1);
    assert.equal(app.hits.length, before + 1);
    assert.equal(hit.method, 'POST');
    assert.match(hit.contentType, /^application\/x-www-form-urlencoded/);
    assert.equal(hit.url.search, '');  // nothing in the URL, where logs and referrers see it
    assert.equal(hit.form.get('state'), 'fp-1');
    assert.equal(hit.form.get('iss'), server.url);
    const code = hit.form.get('code');
    assert.ok(code);
    const token = await server.redeem(code, client, app.redirectUri);
    assert.equal(token.status, 200, JSON.stringify(token.body));

    // Signed in now: the form post page alone answers, and an error goes back the same way.
    await page.goto(authorizeUrl('fp-2', { response_mode: 'form_post', scope: 'nope' }));
    await backAtClient(page);
    const err = app.hits.at(-1);
    assert.equal(err.method, 'POST');
    assert.equal(err.form.get('error'), 'invalid_scope');
    assert.equal(err.form.get('state'), 'fp-2');
    assert.deepEqual(problems, []);
    await context.close();
  });

  test('without JavaScript, the button delivers it', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(authorizeUrl('fp-nojs', { response_mode: 'form_post' }));
    await signIn(page);
    await page.getByRole('button', { name: 'Continue' }).click();
    await backAtClient(page);
    const hit = app.hits.at(-1);
    assert.equal(hit.method, 'POST');
    assert.equal(hit.form.get('state'), 'fp-nojs');
    assert.ok(hit.form.get('code'));
    await context.close();
  });
});
