// The admin console in a real headless Chromium, as a new installation meets it: the first-run
// password read from its file, sign-in, the forced password change, a service with two
// endpoints, a client and its secret, a link with its previewed scope, a client_credentials
// token with that secret, secret rotation, key rotation, and the audit page (with the first
// run's user and its password change). Then the refusals:
// a user without the admin role, a state change without the CSRF token, a client whose name is
// markup.
//
//   PORTCULLIS_BIN=build/release/portcullis node --test tests/browser/console.test.mjs
//   CONSOLE_SCREENSHOTS=docs/console ...   also saves a screenshot of each page
//   (scripts/console-screenshots.sh)
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { launchChromium, startCallback, startPortcullis } from './harness.mjs';

const NEW_PASSWORD = 'a much better admin password';
const SHOTS = process.env.CONSOLE_SCREENSHOTS;

let server;
let browser;
let context;
let page;
const problems = [];  // CSP violations and uncaught page errors
const dialogs = [];   // every alert/confirm the pages opened
let consentPagesSeen = 0;

async function shot(name, width = 1280) {
  if (!SHOTS) return;
  mkdirSync(SHOTS, { recursive: true });
  await page.evaluate(() => { document.getElementById('status')?.replaceChildren(); });
  await page.setViewportSize({ width, height: 900 });
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  await page.setViewportSize({ width: 1280, height: 900 });
}

// Waits until the console rendered a page with this heading.
async function heading(text) {
  await page.getByRole('heading', { level: 1, name: text, exact: true }).waitFor();
}

async function goto(hash, title) {
  // The current heading goes first, so that the wait below sees the new page, not the old one
  // (whose form would be replaced under the test's hands).
  await page.evaluate((h) => {
    document.querySelector('main h1')?.remove();
    if (location.hash === h) window.dispatchEvent(new HashChangeEvent('hashchange'));
    else location.hash = h;
  }, hash);
  await heading(title);
}

async function clientCredentials(clientId, secret) {
  const r = await fetch(`${server.url}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded',
      authorization: 'Basic ' + Buffer.from(`${clientId}:${secret}`).toString('base64') },
    body: new URLSearchParams({ grant_type: 'client_credentials' }),
  });
  return { status: r.status, body: await r.json() };
}

// The dashboard's cards, label -> number shown.
async function dashboardCounts() {
  await goto('#/', 'Dashboard');
  return Object.fromEntries(await page.locator('main .card').evaluateAll((cards) =>
    cards.map((c) => [c.lastChild.textContent.trim(), c.querySelector('.num').textContent.trim()])));
}

// The same counts from the full lists, fetched by the test itself (small stores only).
async function listedCounts() {
  return page.evaluate(async () => {
    const get = async (p) => (await fetch(`api/${p}`, { headers: { Accept: 'application/json' } })).json();
    return {
      users: String((await get('user?page=1&pageSize=1000')).length),
      clients: String((await get('client?page=0&pageSize=1000')).clients.length),
      services: String((await get('service?page=0&pageSize=1000')).services.length),
      'active refresh tokens': String((await get('refresh_token?page=1&pageSize=1000')).length),
    };
  });
}

// Signs in at the authorization server's pages (and allows the console, once).
async function signIn(p, user, password) {
  await p.locator('#j_username').fill(user);
  await p.locator('#j_password').fill(password);
  await p.getByRole('button', { name: 'Sign in' }).click();
}

before(async () => {
  server = await startPortcullis({ bootstrap: false });
  browser = await launchChromium();
  context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
  page = await context.newPage();
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(String(e)));
  page.on('dialog', async (d) => { dialogs.push(`${d.type()}: ${d.message()}`); await d.accept(); });
  // The consent page's form posts to /oauth2/consent: count every one the console's tab loads.
  page.on('response', async (r) => {
    if (r.request().resourceType() !== 'document') return;
    const body = await r.text().catch(() => '');
    if (/action="[^"]*consent"/.test(body)) consentPagesSeen += 1;
  });
});

after(async () => {
  await browser?.close();
  const code = await server?.stop();
  assert.equal(code, 0, 'portcullis exit code');
});

describe('console journey', () => {
  let clientId;
  let secret;

  test('1-3: first-run password from the file, sign-in, forced password change', async () => {
    const file = join(server.dir, 'admin-password');
    assert.equal(statSync(file).mode & 0o777, 0o600, 'the password file is private');
    const password = readFileSync(file, 'utf8').trim();
    assert.ok(password.length >= 24);
    assert.ok(!server.log().includes(password), 'the password is never logged');
    assert.match(server.log(), /first_run\.admin_created .*password_file=\S*admin-password/);

    // Without a session the console sends the browser to the sign-in page.
    await page.goto(`${server.url}/console/`);
    await page.locator('#j_username').waitFor();
    assert.match(page.url(), /\/oauth2\/code\?/);
    await shot('sign-in');
    await signIn(page, 'admin', password);

    // The password was set for the user: nothing else happens before it is changed.
    await page.getByRole('heading', { name: 'Choose a new password' }).waitFor();
    await shot('change-password');
    // The password grant refuses it meanwhile too (no way around the change page).
    await page.locator('#j_password').fill(password);
    await page.locator('#new_password').fill(password);
    await page.locator('#new_password_confirm').fill(password);
    await page.getByRole('button', { name: 'Change password and continue' }).click();
    await page.getByText('must differ').waitFor();
    await page.locator('#j_password').fill(password);
    await page.locator('#new_password').fill(NEW_PASSWORD);
    await page.locator('#new_password_confirm').fill(NEW_PASSWORD);
    await page.getByRole('button', { name: 'Change password and continue' }).click();

    // The console is first-party: no consent page, straight to the dashboard.
    await heading('Dashboard');
    assert.equal(consentPagesSeen, 0, 'the console never shows the consent page');
    await page.getByText('Signed in as admin').waitFor();
    // This process recorded itself: the dashboard's instances seen.
    await page.getByRole('heading', { name: 'Instances seen' }).waitFor();
    await page.getByRole('cell', { name: 'running', exact: true }).waitFor();
    await shot('dashboard');

    // The old password no longer signs in; the new one does.
    const other = await browser.newContext();
    const p2 = await other.newPage();
    await p2.goto(`${server.url}/console/`);
    await signIn(p2, 'admin', password);
    await p2.getByText('The user name or password is incorrect.').waitFor();
    await other.close();
  });

  test('4: create a service with two endpoints, validated as you type', async () => {
    await goto('#/services', 'Services');
    const form = page.getByRole('form', { name: 'Create a service' });
    await form.getByLabel('Service id').fill('petstore');
    await form.getByLabel('Name').fill('Pet store');
    await form.getByLabel('Host').fill('lightapi.net');
    await form.getByRole('button', { name: 'Create service' }).click();
    await heading('Service petstore');

    await page.getByLabel('Endpoint 1', { exact: true }).fill('pets');
    await page.getByLabel('Scope 1', { exact: true }).fill('pets.r');
    await page.getByText('Endpoint must look like /path@get').waitFor();
    assert.equal(await page.getByRole('button', { name: 'Save endpoints' }).isDisabled(), true);
    await page.getByLabel('Endpoint 1', { exact: true }).fill('/v1/pets@get');
    await page.getByRole('button', { name: 'Add endpoint' }).click();
    await page.getByLabel('Endpoint 2', { exact: true }).fill('/v1/pets@post');
    await page.getByLabel('Scope 2', { exact: true }).fill('pets.w');
    await page.getByRole('button', { name: 'Save endpoints' }).click();
    await page.getByText('Endpoints saved.').waitFor();
    await shot('service');
    await goto('#/services', 'Services');
    await page.getByRole('link', { name: 'petstore' }).waitFor();
    await shot('services');
  });

  test('5: create a client, its secret shown once and copied', async () => {
    await goto('#/clients', 'Clients');
    const form = page.getByRole('form', { name: 'Create a client' });
    await form.getByLabel('Name').fill('orders');
    await form.getByLabel('Host').fill('lightapi.net');
    await form.getByRole('button', { name: 'Create client' }).click();
    await heading('Client orders created');
    clientId = (await page.locator('#new-client-id').textContent()).trim();
    const shown = (await page.locator('#client-secret').textContent()).trim();
    await page.getByRole('button', { name: 'Copy secret' }).click();
    await page.getByRole('button', { name: 'Copied' }).waitFor();
    secret = await page.evaluate(() => navigator.clipboard.readText());
    assert.equal(secret, shown);
    await shot('client-created');
  });

  test('6: link one endpoint and see the previewed scope', async () => {
    await page.getByRole('link', { name: 'Continue to the client' }).click();
    await heading('Client orders');
    await page.getByLabel('Service').selectOption('petstore');
    await page.getByRole('checkbox', { name: /\/v1\/pets@get/ }).check();
    await page.waitForFunction(() => document.getElementById('scope-preview').textContent === 'pets.r');
    await shot('client');
    await page.getByRole('button', { name: 'Link endpoints' }).click();
    await page.waitForFunction(() => document.getElementById('client-scope')?.textContent === 'pets.r');
  });

  test('7: a client_credentials token with that secret has that scope', async () => {
    const r = await clientCredentials(clientId, secret);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.scope, 'pets.r');
  });

  test('8: rotate the secret; the old one is refused', async () => {
    await page.getByRole('button', { name: 'Rotate secret' }).click();
    await page.getByRole('region', { name: 'New client secret' }).waitFor();
    const fresh = (await page.getByRole('region', { name: 'New client secret' }).locator('.secret').textContent()).trim();
    assert.notEqual(fresh, secret);
    assert.equal((await clientCredentials(clientId, secret)).status, 401);
    const r = await clientCredentials(clientId, fresh);
    assert.equal(r.status, 200);
    assert.equal(r.body.scope, 'pets.r');
  });

  test('a delegation policy is saved and read back', async () => {
    await page.getByRole('button', { name: 'Add policy' }).click();
    await page.getByLabel('Audience 1', { exact: true }).fill('petstore');
    await page.getByLabel('Delegated scope 1', { exact: true }).fill('pets.r');
    await page.getByRole('button', { name: 'Save policies' }).click();
    await page.getByText('Delegation policies saved.').waitFor();
    await goto(`#/client?id=${encodeURIComponent(clientId)}`, 'Client orders');
    assert.equal(await page.getByLabel('Audience 1', { exact: true }).inputValue(), 'petstore');
  });

  test('9: rotate the signing key', async () => {
    await goto('#/keys', 'Signing keys');
    const before = await page.locator('main tbody tr').count();
    await page.getByRole('button', { name: 'Rotate now' }).click();
    await page.getByText(/New key \S+ published/).waitFor();
    await page.waitForFunction((n) => document.querySelectorAll('main tbody tr').length > n, before);
    await shot('keys');
    // Emergency revoke needs the key id typed.
    const kid = (await page.locator('main tbody tr').last().locator('code').textContent()).trim();
    await page.getByRole('button', { name: 'Emergency revoke' }).last().click();
    const go = page.getByRole('button', { name: 'Revoke key' });
    assert.equal(await go.isDisabled(), true);
    await page.locator('#revoke-confirm').fill(kid.slice(0, -1));
    assert.equal(await go.isDisabled(), true);
    await shot('keys-revoke');
    await page.getByRole('button', { name: 'Cancel' }).click();
  });

  test('10: each action is in the audit log, with filters', async () => {
    await goto('#/audit', 'Audit log');
    for (const action of ['service.create', 'service.set_endpoints', 'client.create', 'client.link',
      'client.rotate_secret', 'key.rotate']) {
      await page.locator('main tbody code', { hasText: action }).first().waitFor();
    }
    await shot('audit');
    await page.getByLabel('Action').fill('client.link');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.getByText('1 entries').waitFor();
    const actions = await page.locator('main tbody code').allTextContents();
    assert.deepEqual(actions, ['client.link']);
    // The key rotation, found by entity; the secret rotation, by action and entity id.
    await goto('#/audit?entityKind=key', 'Audit log');
    assert.ok((await page.locator('main tbody code').allTextContents()).includes('key.rotate'));
    await goto(`#/audit?action=client.rotate_secret&entityId=${encodeURIComponent(clientId)}`, 'Audit log');
    await page.getByText('1 entries').waitFor();
    assert.deepEqual(await page.locator('main tbody code').allTextContents(), ['client.rotate_secret']);
    // The first run's admin and its forced password change, each with who made it.
    await goto('#/audit?entityKind=user&entityId=admin', 'Audit log');
    await page.locator('main tbody code', { hasText: 'user.password' }).first().waitFor();
    const rows = await page.locator('main tbody tr').evaluateAll((trs) =>
      trs.map((tr) => [tr.cells[1].textContent.trim(), tr.cells[2].textContent.trim()]));
    assert.deepEqual(rows.reverse(), [['first-run', 'user.create'], ['user:admin', 'user.password']]);
    assert.ok(!(await page.locator('main').textContent()).includes(NEW_PASSWORD));
  });

  test('refresh tokens by user and by client; revoking one ends its family', async () => {
    // A web application signs the admin in (code flow) and gets a refresh token.
    const app = await startCallback();
    await goto('#/clients', 'Clients');
    const form = page.getByRole('form', { name: 'Create a client' });
    await form.getByLabel('Name').fill('webapp');
    await form.getByLabel('Host').fill('lightapi.net');
    await form.getByLabel('Redirect URIs').fill(app.redirectUri);
    await form.getByLabel('Grant types').fill('authorization_code refresh_token');
    await form.getByRole('button', { name: 'Create client' }).click();
    await heading('Client webapp created');
    const id = (await page.locator('#new-client-id').textContent()).trim();
    const pw = (await page.locator('#client-secret').textContent()).trim();
    const tab = await context.newPage();
    await tab.goto(`${server.url}/oauth2/code?${new URLSearchParams({ response_type: 'code',
      client_id: id, redirect_uri: app.redirectUri, state: 's1' })}`);
    await tab.getByRole('button', { name: 'Allow' }).click();
    await tab.waitForURL(`${app.redirectUri}?**`);
    const code = app.hits.at(-1).searchParams.get('code');
    await tab.close();
    await app.close();
    const auth = 'Basic ' + Buffer.from(`${id}:${pw}`).toString('base64');
    const r = await fetch(`${server.url}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: auth },
      body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: app.redirectUri }),
    });
    const issued = await r.json();
    assert.equal(r.status, 200, JSON.stringify(issued));
    assert.ok(issued.refresh_token);

    // The client filter runs in the server (one page of 20, and the count of every match).
    const listed = page.waitForResponse((resp) => resp.url().includes('/console/api/refresh_token?')
      && new URL(resp.url()).searchParams.get('clientId') === id);
    await goto(`#/tokens?clientId=${encodeURIComponent(id)}`, 'Refresh tokens');
    const listing = await listed;
    assert.equal(new URL(listing.url()).searchParams.get('pageSize'), '20');
    assert.equal(listing.headers()['x-total-count'], '1');
    await page.getByRole('cell', { name: id, exact: true }).waitFor();
    await page.getByText('1 active tokens').waitFor();
    await goto('#/tokens?userId=adm', 'Refresh tokens');
    await page.getByRole('cell', { name: id, exact: true }).waitFor();
    // The console's own sign-ins leave no refresh token behind.
    assert.equal(await page.getByRole('cell', { name: 'portcullis-console', exact: true }).count(), 0);
    await shot('refresh-tokens');
    // The dashboard counts what is there (count queries), the webapp's token included.
    let counts = await dashboardCounts();
    const listedBefore = await listedCounts();
    for (const [label, n] of Object.entries(listedBefore)) assert.equal(counts[label], n, label);
    assert.equal(counts['active refresh tokens'], '1');
    assert.ok(Number(counts.users) >= 1 && Number(counts.clients) >= 3 && Number(counts.services) >= 1, JSON.stringify(counts));
    await goto('#/tokens?userId=adm', 'Refresh tokens');
    await page.getByRole('button', { name: 'Revoke the token family of admin' }).click();
    await page.getByText('Revoked.').waitFor();
    counts = await dashboardCounts();
    assert.equal(counts['active refresh tokens'], '0');
    assert.equal(counts.clients, listedBefore.clients);
    const again = await fetch(`${server.url}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: auth },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: issued.refresh_token }),
    });
    assert.equal(again.status, 400);
  });

  test('client settings: redirect URIs, token profile and lifetime are saved', async () => {
    await goto(`#/client?id=${encodeURIComponent(clientId)}`, 'Client orders');
    const form = page.getByRole('form', { name: 'Edit client' });
    await form.getByLabel('Redirect URIs').fill('https://orders.example.com/cb\nhttps://orders.example.com/other');
    await form.getByLabel('Token profile').selectOption('light-4j');
    await form.getByLabel('Access token lifetime (seconds)').fill('600');
    await form.getByRole('button', { name: 'Save client' }).click();
    await page.getByText('Client saved.').waitFor();
    await goto(`#/client?id=${encodeURIComponent(clientId)}`, 'Client orders');
    const again = page.getByRole('form', { name: 'Edit client' });
    assert.equal(await again.getByLabel('Redirect URIs').inputValue(), 'https://orders.example.com/cb\nhttps://orders.example.com/other');
    assert.equal(await again.getByLabel('Token profile').inputValue(), 'light-4j');
    assert.equal(await again.getByLabel('Access token lifetime (seconds)').inputValue(), '600');
  });

  test('providers: add one, then delete it after a confirmation', async () => {
    await goto('#/providers', 'Providers');
    const form = page.getByRole('form', { name: 'Add a provider' });
    await form.getByLabel('Provider id (two digits)').fill('07');
    await form.getByLabel('Server URL').fill('https://peer.example.com');
    await form.getByLabel('Name').fill('Peer cluster');
    await form.getByRole('button', { name: 'Add provider' }).click();
    await page.getByRole('cell', { name: 'Peer cluster', exact: true }).waitFor();
    const asked = dialogs.length;
    await page.getByRole('row', { name: /Peer cluster/ }).getByRole('button', { name: 'Delete' }).click();
    await page.waitForFunction(() => ![...document.querySelectorAll('main td')].some((td) => td.textContent === 'Peer cluster'));
    assert.match(dialogs[asked], /^confirm: Delete the provider 07/);
  });

  test('audit filters: actor, entity, action and time', async () => {
    const actor = 'user:admin client:portcullis-console';
    await goto('#/audit', 'Audit log');
    await page.getByLabel('Actor').fill(actor);
    await page.getByLabel('Entity', { exact: true }).selectOption('provider');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.getByText('2 entries').waitFor();  // the provider added and deleted above
    const rows = page.locator('main tbody tr');
    for (let i = 0; i < 2; i++) {
      assert.equal(await rows.nth(i).locator('td').nth(1).textContent(), actor);
    }
    assert.deepEqual(await page.locator('main tbody code').allTextContents(), ['provider.delete', 'provider.create']);
    // A time window in the future holds nothing; one from the past holds them.
    await goto('#/audit?entityKind=provider&since=2099-01-01T00%3A00', 'Audit log');
    await page.getByText('0 entries').waitFor();
    await goto('#/audit?entityKind=provider&since=2000-01-01T00%3A00&until=2099-01-01T00%3A00', 'Audit log');
    await page.getByText('2 entries').waitFor();
  });

  test("a user's sessions and consents, each revoked with confirmation", async () => {
    await goto('#/users', 'Users');
    await page.getByRole('link', { name: 'admin', exact: true }).click();
    await heading('User admin');
    // The webapp client of the test above was allowed by the admin: its consent is listed.
    const revokeConsent = page.getByRole('button', { name: /^Revoke consent for / });
    await revokeConsent.first().waitFor();
    const sessions = page.getByRole('button', { name: /^Revoke session / });
    const before = await sessions.count();
    assert.ok(before >= 1, 'the sign-in of this browser is a session');
    await shot('user');
    const asked = dialogs.length;
    await revokeConsent.first().click();
    await page.getByText('Consent revoked.').waitFor();
    assert.match(dialogs[asked], /^confirm: Revoke the consent of admin/);
    await heading('User admin');
    await page.waitForFunction(() => ![...document.querySelectorAll('main button')].some((b) => /^Revoke consent/.test(b.getAttribute('aria-label') || '')));
    await sessions.first().click();
    await page.getByText('Session ended.').waitFor();
    await page.waitForFunction((n) => [...document.querySelectorAll('main button')].filter((b) => /^Revoke session/.test(b.getAttribute('aria-label') || '')).length === n - 1, before);
    // Both are in the audit log.
    await goto('#/audit?entityKind=user&entityId=admin', 'Audit log');
    const actions = await page.locator('main tbody code').allTextContents();
    assert.ok(actions.includes('user.consent_revoke') && actions.includes('user.session_revoke'), actions.join());
  });

  test('the other pages render, at 1280 and at 390 px', async () => {
    for (const [hash, title, name] of [['#/users', 'Users', 'users'],
      ['#/providers', 'Providers', 'providers'],
      ['#/', 'Dashboard', 'dashboard']]) {
      await goto(hash, title);
      await shot(name);
    }
    await page.setViewportSize({ width: 390, height: 800 });
    await goto('#/clients', 'Clients');
    // The navigation folds into a menu button, reachable by keyboard.
    const menu = page.getByRole('button', { name: 'Menu' });
    await menu.focus();
    await page.keyboard.press('Enter');
    await page.getByRole('link', { name: 'Audit log' }).waitFor();
    if (SHOTS) await page.screenshot({ path: join(SHOTS, 'clients-390.png'), fullPage: true });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1);
    assert.equal(overflow, false, 'no horizontal scrolling at 390 px');
    await page.setViewportSize({ width: 1280, height: 900 });
  });
});

describe('console refusals', () => {
  test('a client named as markup renders as text', async () => {
    const name = '<img src=x onerror=alert(1)>';
    await goto('#/clients', 'Clients');
    const form = page.getByRole('form', { name: 'Create a client' });
    await form.getByLabel('Name').fill(name);
    await form.getByLabel('Host').fill('lightapi.net');
    await form.getByRole('button', { name: 'Create client' }).click();
    await page.getByRole('heading', { level: 1, name: `Client ${name} created` }).waitFor();
    await goto('#/clients', 'Clients');
    await page.getByRole('link', { name }).waitFor();
    assert.equal(await page.locator('main img').count(), 0);
    assert.deepEqual(dialogs.filter((d) => d.startsWith('alert')), []);
  });

  test('a state change without the CSRF token is refused, and changes nothing', async () => {
    const result = await page.evaluate(async () => {
      const body = JSON.stringify({ clientName: 'csrf', clientType: 'confidential',
        clientProfile: 'service', host: 'x', ownerId: 'admin' });
      const none = await fetch('api/client', { method: 'POST', body,
        headers: { 'Content-Type': 'application/json' } });
      const wrong = await fetch('api/client', { method: 'POST', body,
        headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': 'forged' } });
      const list = await (await fetch('api/client?page=0&pageSize=100')).json();
      return { none: none.status, wrong: wrong.status,
        names: list.clients.map((c) => c.clientName) };
    });
    assert.equal(result.none, 403);
    assert.equal(result.wrong, 403);
    assert.ok(!result.names.includes('csrf'));
  });

  test('admin data is never cached or framed; pages carry a CSP without unsafe-inline', async () => {
    const cookies = await context.cookies(`${server.url}/console/`);
    const session = cookies.find((c) => c.name === 'portcullis_console');
    assert.ok(session.httpOnly, 'the session cookie is HttpOnly');
    assert.equal(session.sameSite, 'Strict');
    const headers = { cookie: `portcullis_console=${session.value}` };
    for (const path of ['/console/', '/console/api/client?page=0', '/console/session']) {
      const r = await fetch(server.url + path, { headers });
      assert.equal(r.status, 200, path);
      assert.equal(r.headers.get('cache-control'), 'no-store', path);
      const csp = r.headers.get('content-security-policy');
      assert.match(csp, /frame-ancestors 'none'/);
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
      assert.equal(r.headers.get('x-frame-options'), 'DENY');
    }
    assert.deepEqual(problems, []);
  });

  test('a user without the admin role gets a refusal page and no data', async () => {
    // Made through the console, by the admin.
    await goto('#/users', 'Users');
    const form = page.getByRole('form', { name: 'Create a user' });
    await form.getByLabel('User id').fill('bob');
    await form.getByLabel('E-mail').fill('bob@example.com');
    await form.getByLabel('Password', { exact: true }).fill('bob password 123');
    // Checked by default: an administrator's password is the user's to replace.
    assert.equal(await form.getByLabel('Must choose a new password').isChecked(), true);
    await form.getByLabel('Must choose a new password').uncheck();
    await form.getByRole('button', { name: 'Create user' }).click();
    await page.getByRole('cell', { name: 'bob', exact: true }).waitFor();
    await page.getByRole('cell', { name: 'active', exact: true }).first().waitFor();

    const other = await browser.newContext();
    const p = await other.newPage();
    await p.goto(`${server.url}/console/`);
    await signIn(p, 'bob', 'bob password 123');
    await p.getByRole('heading', { name: 'Not an administrator' }).waitFor();
    assert.equal(await p.locator('table').count(), 0);
    if (SHOTS) await p.screenshot({ path: join(SHOTS, 'refused.png'), fullPage: true });
    // The refusal page allows no script; ask with the browser's cookies from outside.
    const s = await other.request.get(`${server.url}/console/session`);
    const c = await other.request.get(`${server.url}/console/api/client?page=0`);
    const data = { session: s.status(), clients: c.status(), body: await c.text() };
    assert.equal(data.session, 401);
    assert.equal(data.clients, 401);
    assert.doesNotMatch(data.body, /orders|petstore/);
    // The way out: sign in as someone else, past the SSO session.
    await p.getByRole('link', { name: 'Sign in as another user' }).click();
    await p.locator('#j_username').waitFor();
    assert.ok(!(await other.cookies(`${server.url}/console/`)).some((c) => c.name === 'portcullis_console'));
    await other.close();
  });

  test("an admin resets a user's password: the user must choose a new one", async () => {
    await goto('#/user?id=bob', 'User bob');
    await page.getByLabel('New password', { exact: true }).fill('temporary password 1');
    await page.getByLabel('New password again').fill('temporary password 2');
    await page.getByRole('button', { name: 'Reset password' }).click();
    await page.getByText('The two passwords differ.').waitFor();
    await page.getByLabel('New password again').fill('temporary password 1');
    await page.getByRole('button', { name: 'Reset password' }).click();
    await page.getByText('Password reset: the user must change it').waitFor();
    await page.getByRole('cell', { name: 'must change password', exact: true }).waitFor();
    const other = await browser.newContext();
    const p = await other.newPage();
    await p.goto(`${server.url}/console/`);
    await signIn(p, 'bob', 'bob password 123');
    await p.getByText('The user name or password is incorrect.').waitFor();
    await signIn(p, 'bob', 'temporary password 1');
    await p.getByRole('heading', { name: 'Choose a new password' }).waitFor();
    await other.close();
  });
});
