// The device flow (RFC 8628) in a real headless Chromium: a polling client (a plain loop that
// honours `interval` and slow_down, as a device would) shows a code; a user types it on the
// verification page, signs in and allows; the client then gets tokens. Then a code from
// verification_uri_complete, prefilled but still confirmed by the user, and denied. The pages
// run with JavaScript disabled: they need none.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import { launchChromium, startPortcullis, submit } from './harness.mjs';

const USER = 'dora';
const PASSWORD = 'device flow in a browser';
const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

let server;
let browser;
let client;

function basic(id, secret) {
  return 'Basic ' + Buffer.from(`${id}:${secret}`).toString('base64');
}

async function deviceAuthorization(scope) {
  const r = await fetch(server.url + '/oauth2/device_authorization', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded',
      authorization: basic(client.clientId, client.clientSecret) },
    body: new URLSearchParams({ scope }),
  });
  assert.equal(r.status, 200, await r.clone().text());
  return r.json();
}

// The device: polls every `interval` seconds (5 s more after each slow_down) until it gets an
// answer other than authorization_pending, or the code expires. Returns the last answer and the
// errors seen on the way.
async function pollUntilDecided(started) {
  let interval = started.interval;
  const seen = [];
  const deadline = Date.now() + started.expires_in * 1000;
  while (Date.now() < deadline) {
    const r = await fetch(server.url + '/oauth2/token', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded',
        authorization: basic(client.clientId, client.clientSecret) },
      body: new URLSearchParams({ grant_type: DEVICE_GRANT, device_code: started.device_code }),
    });
    const body = await r.json();
    if (r.status === 200) return { status: 200, body, seen };
    seen.push(body.error);
    if (body.error === 'slow_down') interval += 5;
    else if (body.error !== 'authorization_pending') return { status: r.status, body, seen };
    await sleep(interval * 1000);
  }
  throw new Error('the device code expired while polling: ' + seen.join(','));
}

function watch(page) {
  const problems = [];
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) problems.push(m.text());
  });
  return problems;
}

before(async () => {
  server = await startPortcullis();
  browser = await launchChromium();
  await server.createUser(USER, PASSWORD);
  client = await server.createClient({ clientType: 'confidential', clientName: 'Kitchen Display',
    grantTypes: [DEVICE_GRANT, 'refresh_token'] });
});

after(async () => {
  await browser?.close();
  const code = await server?.stop();
  assert.equal(code, 0, 'portcullis exit code');
});

describe('device flow (no JavaScript)', () => {
  let context;
  before(async () => { context = await browser.newContext({ javaScriptEnabled: false }); });
  after(async () => { await context.close(); });

  test('a user enters the code shown to a polling client, which then gets tokens', async () => {
    const started = await deviceAuthorization('petstore.r');
    const device = pollUntilDecided(started);

    const page = await context.newPage();
    const problems = watch(page);
    const response = await page.goto(started.verification_uri);
    assert.equal(response.status(), 200);
    assert.equal(await page.title(), 'Connect a device - Portcullis');
    // As a person types it off a screen: lower case, a space for the dash.
    await page.getByLabel('Code').fill(started.user_code.toLowerCase().replace('-', ' '));
    await submit(page, page.getByRole('button', { name: 'Continue' }));

    assert.equal(await page.title(), 'Sign in - Portcullis');
    assert.match(await page.locator('main').innerText(), /to continue to\s+Kitchen Display/);
    await page.getByLabel('User name').fill(USER);
    await page.getByLabel('Password').fill(PASSWORD);
    await submit(page, page.getByRole('button', { name: 'Sign in' }));

    const consent = await page.locator('main').innerText();
    assert.match(consent, /Connect Kitchen Display\?/);
    assert.ok(consent.includes(started.user_code), consent);
    assert.match(consent, /petstore\.r/);
    assert.doesNotMatch(consent, /petstore\.w/);
    await submit(page, page.getByRole('button', { name: 'Allow' }));
    assert.match(await page.locator('main').innerText(), /Device connected/);

    const result = await device;
    assert.equal(result.status, 200, JSON.stringify(result.body));
    assert.equal(result.body.scope, 'petstore.r');
    assert.ok(result.body.access_token && result.body.refresh_token);
    assert.ok(result.seen.includes('authorization_pending'), result.seen.join(','));
    assert.deepEqual(problems, []);
    await page.close();
  });

  test('a prefilled code is confirmed by the user, and a denial reaches the client', async () => {
    const started = await deviceAuthorization('petstore.r');
    const device = pollUntilDecided(started);

    const page = await context.newPage();
    const problems = watch(page);
    await page.goto(started.verification_uri_complete);
    // The link only fills the field; nothing happens until the user continues.
    assert.equal(await page.getByLabel('Code').inputValue(), started.user_code);
    assert.match(await page.locator('main').innerText(), /Check that this code is the one shown/);
    await submit(page, page.getByRole('button', { name: 'Continue' }));
    // Signed in already (the SSO cookie from the first test): straight to the decision.
    const consent = await page.locator('main').innerText();
    assert.ok(consent.includes(started.user_code), consent);
    await submit(page, page.getByRole('button', { name: 'Deny' }));
    assert.match(await page.locator('main').innerText(), /denied/);

    const result = await device;
    assert.equal(result.status, 400);
    assert.equal(result.body.error, 'access_denied');
    assert.deepEqual(problems, []);
    await page.close();
  });
});
