// "Sign in with ..." (README "Upstream OpenID Connect providers") in headless Chromium, with the
// peer OpenID provider (node-oidc-provider, tests/peer) as the upstream: the sign-in page's link,
// the provider's own login and consent pages, back to Portcullis, its consent page, and the code
// at the client application, redeemed for a token that names the mapped local user. A tampered
// `state` on the way back is refused: an error page, no session, nothing reaches the client.
//
//   (cd tests/peer && npm ci); PORTCULLIS_BIN=build/release/portcullis node --test tests/browser/
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';

import { launchChromium, startCallback, startPortcullis } from './harness.mjs';

const PEER_DIR = fileURLToPath(new URL('../peer/', import.meta.url));
const RP_ID = 'portcullis-rp';
// Characters that client_secret_basic must form-encode (RFC 6749 §2.3.1).
const RP_SECRET = 'peer secret/with:special&chars+' + randomBytes(8).toString('hex');

let server;
let peer;
let peerLog = '';
let app;
let browser;
let client;

// The peer on a port of its own choosing (port 0), started before Portcullis, whose
// configuration names the peer's issuer. Our relying party's redirect URI names Portcullis's
// port, so it is registered afterwards by `register(redirectUri)`, on the peer's stdin.
async function startPeer() {
  if (!existsSync(PEER_DIR + 'node_modules/oidc-provider')) {
    throw new Error('the peer is not installed: run `npm ci` in tests/peer (scripts/test.sh does)');
  }
  const child = spawn(process.execPath, [PEER_DIR + 'provider.mjs'], {
    env: { ...process.env, PORT: '0', PEER_CLIENTS: '-',
      PEER_REGISTRATION_TOKEN: randomBytes(24).toString('base64url') },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child.stderr.on('data', (d) => { peerLog += d; });
  const started = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve(JSON.parse(out.slice(0, nl)));
    });
    child.once('exit', (code) => reject(new Error(`peer exited (${code}): ${peerLog}`)));
  });
  const register = (redirectUri) => child.stdin.end(JSON.stringify([{ client_id: RP_ID,
    client_secret: RP_SECRET, redirect_uris: [redirectUri], grant_types: ['authorization_code'],
    response_types: ['code'], token_endpoint_auth_method: 'client_secret_basic' }]) + '\n');
  return { ...started, child, register };
}

function claims(jwt) {
  return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString());
}

function authorizeUrl(state) {
  const q = new URLSearchParams({ response_type: 'code', client_id: client.clientId,
    redirect_uri: app.redirectUri, state, scope: 'petstore.r' });
  return `${server.url}/oauth2/code?${q}`;
}

// At the peer: its login page (any password for a known user), then its consent page, unless
// it remembers both.
async function throughPeer(page, issuer) {
  const atPeer = (u) => u.href.startsWith(issuer + '/');
  const back = (u) => u.href.startsWith(server.url + '/');
  await page.waitForURL((u) => (atPeer(u) && u.pathname.startsWith('/interaction/')) || back(u));
  if (atPeer(new URL(page.url())) && await page.locator('input[name="login"]').count()) {
    const loginUrl = page.url();
    await page.locator('input[name="login"]').fill('alice');
    await page.locator('input[name="password"]').fill('any password');
    await page.locator('button[type="submit"]').click();
    await page.waitForURL((u) => back(u) ||
      (atPeer(u) && u.pathname.startsWith('/interaction/') && u.href !== loginUrl));
  }
  if (atPeer(new URL(page.url())) &&
      await page.getByRole('button', { name: 'Continue' }).count()) {
    await page.getByRole('button', { name: 'Continue' }).click();
  }
}

before(async () => {
  peer = await startPeer();
  server = await startPortcullis({
    config: `
authenticators:
  peer:
    type: oidc
    issuer: "${peer.issuer}"
    allow_http_loopback: true
    client_id: ${RP_ID}
    display_name: Peer IdP
`,
    PORTCULLIS_AUTHENTICATORS_PEER_CLIENT_SECRET: RP_SECRET,
  });
  peer.register(server.url + '/oauth2/upstream/callback');
  app = await startCallback();
  browser = await launchChromium();
  client = await server.createClient({ clientType: 'confidential', clientName: 'PetStore Web',
    redirectUris: [app.redirectUri], authenticateClass: 'peer' });
});

after(async () => {
  await browser?.close();
  await app?.close();
  peer?.child.kill('SIGTERM');
  const log = server?.log() ?? '';
  const code = await server?.stop();
  assert.equal(code, 0, 'portcullis exit code');
  assert.ok(!log.includes(RP_SECRET), 'the client secret is not logged');
});

describe('sign in with an upstream OpenID provider', () => {
  test('Sign in with, the provider, consent, then a code and a token for the mapped user',
    async () => {
      const context = await browser.newContext();
      const page = await context.newPage();
      const response = await page.goto(authorizeUrl('up-1'));
      assert.equal(response.status(), 200);
      // The client's authenticator is the provider alone: no password form.
      assert.equal(await page.locator('input[name="j_password"]').count(), 0);
      await page.getByRole('link', { name: 'Sign in with Peer IdP' }).click();
      await throughPeer(page, peer.issuer);
      // Back at Portcullis: its consent page for the client.
      await page.waitForURL((u) => u.href.startsWith(server.url));
      assert.match(await page.locator('h1').innerText(), /PetStore Web wants access/);
      assert.match(await page.locator('main').innerText(), /Signed in as\s+peer\.alice/);
      await page.getByRole('button', { name: 'Allow' }).click();
      await page.waitForURL((u) => u.href.startsWith(app.redirectUri));
      const hit = app.hits.at(-1);
      assert.equal(hit.searchParams.get('state'), 'up-1');
      assert.equal(hit.searchParams.get('iss'), server.url);
      const t = await server.redeem(hit.searchParams.get('code'), client, app.redirectUri);
      assert.equal(t.status, 200, JSON.stringify(t.body));
      const c = claims(t.body.access_token);
      assert.equal(c.user_id, 'peer.alice');
      assert.equal(c.user_type, 'customer');
      assert.equal(c.roles, undefined);  // no role without a table that gives one
      // SSO: the next authorization request needs no sign-in (the consent is remembered).
      const hits = app.hits.length;
      await page.goto(authorizeUrl('up-2'));
      await page.waitForURL((u) => u.href.startsWith(app.redirectUri));
      assert.equal(app.hits.length, hits + 1);
      assert.equal(app.hits.at(-1).searchParams.get('state'), 'up-2');
      await context.close();
    });

  test('a tampered state is refused: error page, no session, nothing at the client', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const hits = app.hits.length;
    // Change the state in transit: Portcullis's redirect to the provider is rewritten, so the
    // provider sends back a state Portcullis never issued. (Playwright does not route requests
    // that follow a redirect, so the provider's redirect back cannot be rewritten instead.)
    let tampered = false;
    await page.route((u) => u.pathname === '/oauth2/upstream/start', async (route) => {
      const response = await route.fetch({ maxRedirects: 0 });
      const headers = response.headers();
      const to = new URL(headers.location);
      const state = to.searchParams.get('state');
      to.searchParams.set('state', (state.startsWith('x') ? 'y' : 'x') + state.slice(1));
      tampered = true;
      return route.fulfill({ response, headers: { ...headers, location: to.href } });
    });
    await page.goto(authorizeUrl('up-3'));
    await page.getByRole('link', { name: 'Sign in with Peer IdP' }).click();
    await throughPeer(page, peer.issuer);
    await page.waitForURL((u) => u.pathname === '/oauth2/upstream/callback');
    assert.ok(tampered);
    assert.match(await page.locator('main').innerText(),
      /unknown, expired or was already used/);
    const cookies = await context.cookies(server.url);
    assert.equal(cookies.filter((c) => c.name === 'portcullis_sso').length, 0);
    assert.equal(app.hits.length, hits);
    // Still signed out at Portcullis: the sign-in page again.
    await page.unrouteAll();
    const again = await page.goto(authorizeUrl('up-4'));
    assert.equal(again.status(), 200);
    assert.equal(await page.getByRole('link', { name: 'Sign in with Peer IdP' }).count(), 1);
    await context.close();
  });
});
