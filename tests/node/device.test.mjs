// The device flow (RFC 8628) with oauth4webapi's device functions: the device asks for codes,
// polls, and gets tokens once the user approved on the verification page, which this test
// drives over plain HTTP (cookies and form fields by hand, no shared code with Portcullis).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as oauth from 'oauth4webapi';
import * as jose from 'jose';
import { startPortcullis } from './portcullis.mjs';

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const options = { [oauth.allowInsecureRequests]: true };

// A browser's cookie jar, reduced to what the verification page uses.
class Jar {
  constructor() { this.cookies = new Map(); }
  take(response) {
    for (const c of response.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const eq = pair.indexOf('=');
      this.cookies.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
    }
  }
  header() { return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '); }
}

function hidden(html, name) {
  const m = html.match(new RegExp(`<input type="hidden" name="${name}" value="([^"]*)">`));
  assert.ok(m, `no ${name} in ${html}`);
  return m[1];
}

// The user: opens verification_uri_complete, confirms the code, signs in, decides.
async function userDecides(uriComplete, userCode, decision, user, password) {
  const jar = new Jar();
  const get = await fetch(uriComplete, { headers: { accept: 'text/html' } });
  assert.equal(get.status, 200);
  jar.take(get);
  let html = await get.text();
  assert.match(html, new RegExp(`value="${userCode}"`));
  const post = async (fields) => {
    const r = await fetch(new URL('/oauth2/device', uriComplete), {
      method: 'POST', redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: jar.header(),
        accept: 'text/html' },
      body: new URLSearchParams(fields),
    });
    jar.take(r);
    return { status: r.status, html: await r.text() };
  };
  let r = await post({ step: 'code', user_code: userCode, csrf: hidden(html, 'csrf') });
  assert.equal(r.status, 200, r.html);
  r = await post({ step: 'login', user_code: userCode, csrf: hidden(r.html, 'csrf'),
    j_username: user, j_password: password });
  assert.equal(r.status, 200, r.html);
  assert.match(r.html, new RegExp(userCode));
  r = await post({ step: 'decide', user_code: userCode, csrf: hidden(r.html, 'csrf'), decision });
  assert.equal(r.status, 200, r.html);
  return r.html;
}

async function errorOf(as, client, auth, deviceCode) {
  const response = await oauth.deviceCodeGrantRequest(as, client, auth, deviceCode, options);
  try {
    await oauth.processDeviceCodeResponse(as, client, response);
  } catch (err) {
    assert.ok(err instanceof oauth.ResponseBodyError, String(err));
    return err.error;
  }
  return 'tokens';
}

test('device flow with oauth4webapi: pending, slow_down, approval, one redemption', async () => {
  const server = await startPortcullis();
  try {
    await server.createUser('dana', 'device flow password 1');
    const issuer = new URL(server.url);
    const as = await oauth.processDiscoveryResponse(issuer,
      await oauth.discoveryRequest(issuer, { ...options, algorithm: 'oauth2' }));
    assert.equal(as.device_authorization_endpoint, server.url + '/oauth2/device_authorization');
    assert.ok(as.grant_types_supported.includes(DEVICE_GRANT));

    const created = await server.createClient({ clientType: 'confidential', scope: 'tv.watch tv.buy',
      grantTypes: [DEVICE_GRANT, 'refresh_token'], clientName: 'Node TV' });
    const client = { client_id: created.clientId };
    const auth = oauth.ClientSecretBasic(created.clientSecret);

    const started = await oauth.processDeviceAuthorizationResponse(as, client,
      await oauth.deviceAuthorizationRequest(as, client, auth,
        new URLSearchParams({ scope: 'tv.watch' }), options));
    assert.match(started.user_code, /^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/);
    assert.equal(started.verification_uri, server.url + '/oauth2/device');
    assert.equal(started.interval, 5);  // two polls in a row: slow_down
    assert.ok(started.expires_in > 0);

    assert.equal(await errorOf(as, client, auth, started.device_code), 'authorization_pending');
    assert.equal(await errorOf(as, client, auth, started.device_code), 'slow_down');

    const page = await userDecides(started.verification_uri_complete, started.user_code, 'allow',
      'dana', 'device flow password 1');
    assert.match(page, /Device connected/);

    const tokens = await oauth.processDeviceCodeResponse(as, client,
      await oauth.deviceCodeGrantRequest(as, client, auth, started.device_code, options));
    assert.equal(tokens.scope, 'tv.watch');
    assert.ok(tokens.refresh_token);
    const jwks = jose.createRemoteJWKSet(new URL(as.jwks_uri));
    const { payload } = await jose.jwtVerify(tokens.access_token, jwks,
      { issuer: server.url, typ: 'at+jwt' });
    assert.equal(payload.sub, 'dana');
    assert.equal(payload.client_id, created.clientId);

    assert.equal(await errorOf(as, client, auth, started.device_code), 'invalid_grant');
  } finally {
    assert.equal(await server.stop(), 0, server.log());
  }
});

test('device flow with oauth4webapi: a public client, and access_denied', async () => {
  const server = await startPortcullis();
  try {
    await server.createUser('erin', 'device flow password 2');
    const issuer = new URL(server.url);
    const as = await oauth.processDiscoveryResponse(issuer,
      await oauth.discoveryRequest(issuer, { ...options, algorithm: 'oauth2' }));
    const created = await server.createClient({ clientType: 'public', authMethod: 'none',
      clientProfile: 'browser', scope: 'cli.use', grantTypes: [DEVICE_GRANT] });
    const client = { client_id: created.clientId };
    const auth = oauth.None();

    const denied = await oauth.processDeviceAuthorizationResponse(as, client,
      await oauth.deviceAuthorizationRequest(as, client, auth, new URLSearchParams(), options));
    const page = await userDecides(denied.verification_uri_complete, denied.user_code, 'deny',
      'erin', 'device flow password 2');
    assert.match(page, /denied/);
    assert.equal(await errorOf(as, client, auth, denied.device_code), 'access_denied');

    const allowed = await oauth.processDeviceAuthorizationResponse(as, client,
      await oauth.deviceAuthorizationRequest(as, client, auth, new URLSearchParams(), options));
    await userDecides(allowed.verification_uri_complete, allowed.user_code, 'allow', 'erin',
      'device flow password 2');
    const tokens = await oauth.processDeviceCodeResponse(as, client,
      await oauth.deviceCodeGrantRequest(as, client, auth, allowed.device_code, options));
    assert.equal(tokens.scope, 'cli.use');
  } finally {
    assert.equal(await server.stop(), 0, server.log());
  }
});
