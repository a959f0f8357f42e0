// Pushed Authorization Requests (RFC 9126) with oauth4webapi's own PAR functions: the client
// pushes, gets a request_uri, and runs the code flow with it; the user signs in and consents on
// the HTML pages, which this test drives over plain HTTP (cookies and form fields by hand, no
// shared code with Portcullis).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as oauth from 'oauth4webapi';
import * as jose from 'jose';
import { startPortcullis } from './portcullis.mjs';

const options = { [oauth.allowInsecureRequests]: true };
const redirectUri = 'http://127.0.0.1:9/callback';

// A browser's cookie jar, reduced to what the sign-in and consent pages use.
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

const unescape = (s) => s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<')
  .replace(/&gt;/g, '>').replace(/&amp;/g, '&');

// The first form of a page: its action and hidden inputs.
function form(html) {
  const f = html.match(/<form[^>]*action="([^"]*)"[^>]*>([\s\S]*?)<\/form>/);
  assert.ok(f, `no form in ${html}`);
  const fields = {};
  for (const m of f[2].matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)) {
    fields[unescape(m[1])] = unescape(m[2]);
  }
  return { action: unescape(f[1]), fields };
}

// The user: opens the authorization URL, signs in, allows. Returns the redirect to the client.
async function userSignsInAndAllows(authorizationUrl, user, password) {
  const jar = new Jar();
  const get = await fetch(authorizationUrl, { headers: { accept: 'text/html' } });
  assert.equal(get.status, 200);
  jar.take(get);
  const post = async (pageUrl, html, extra) => {
    const f = form(html);
    const r = await fetch(new URL(f.action, pageUrl), {
      method: 'POST', redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: jar.header(),
        accept: 'text/html' },
      body: new URLSearchParams({ ...f.fields, ...extra }),
    });
    jar.take(r);
    return r;
  };
  const loginHtml = await get.text();
  const login = form(loginHtml);
  // The page carries the pushed request's reference, not its parameters.
  assert.ok(login.fields.request_uri.startsWith('urn:ietf:params:oauth:request_uri:'));
  assert.equal(login.fields.scope, undefined);
  const consent = await post(authorizationUrl, loginHtml, { j_username: user, j_password: password });
  assert.equal(consent.status, 200);
  const consentHtml = await consent.text();
  assert.match(consentHtml, /wants access to your account/);
  const done = await post(new URL(form(loginHtml).action, authorizationUrl), consentHtml,
    { decision: 'allow' });
  assert.equal(done.status, 303, await done.text());
  return new URL(done.headers.get('location'));
}

test('PAR then the code flow with the request_uri (oauth4webapi)', async () => {
  const server = await startPortcullis();
  try {
    const issuer = new URL(server.url);
    const as = await oauth.processDiscoveryResponse(issuer,
      await oauth.discoveryRequest(issuer, { ...options, algorithm: 'oauth2' }));
    assert.equal(as.pushed_authorization_request_endpoint, server.url + '/oauth2/par');
    const created = await server.createClient({ clientType: 'confidential', clientProfile: 'webserver',
      scope: 'openid orders.read orders.write', redirectUris: [redirectUri] });
    await server.createUser('paula', 'paula-password-1234');
    const client = { client_id: created.clientId };
    const auth = oauth.ClientSecretBasic(created.clientSecret);

    const verifier = oauth.generateRandomCodeVerifier();
    const challenge = await oauth.calculatePKCECodeChallenge(verifier);
    const state = oauth.generateRandomState();
    const pushed = await oauth.processPushedAuthorizationResponse(as, client,
      await oauth.pushedAuthorizationRequest(as, client, auth, new URLSearchParams({
        response_type: 'code', redirect_uri: redirectUri, scope: 'orders.read', state,
        code_challenge: challenge, code_challenge_method: 'S256' }), options));
    assert.ok(pushed.request_uri.startsWith('urn:ietf:params:oauth:request_uri:'));
    assert.equal(pushed.expires_in, 60);

    const url = new URL(as.authorization_endpoint);
    url.search = new URLSearchParams({ client_id: created.clientId,
      request_uri: pushed.request_uri }).toString();
    const callback = await userSignsInAndAllows(url, 'paula', 'paula-password-1234');
    const params = oauth.validateAuthResponse(as, client, callback, state);  // checks iss too
    const token = await oauth.processAuthorizationCodeResponse(as, client,
      await oauth.authorizationCodeGrantRequest(as, client, auth, params, redirectUri, verifier,
        options));
    assert.equal(token.scope, 'orders.read');
    const jwks = jose.createRemoteJWKSet(new URL(as.jwks_uri));
    const { payload } = await jose.jwtVerify(token.access_token, jwks, { issuer: server.url });
    assert.equal(payload.sub, 'paula');

    // The request_uri was used: a second run is refused before any sign-in.
    const again = await fetch(url, { headers: { accept: 'text/html' } });
    assert.equal(again.status, 400);
    assert.doesNotMatch(await again.text(), /j_password/);

    // A push that the authorization endpoint would refuse is refused at /oauth2/par.
    await assert.rejects(async () => oauth.processPushedAuthorizationResponse(as, client,
      await oauth.pushedAuthorizationRequest(as, client, auth, new URLSearchParams({
        response_type: 'code', redirect_uri: 'https://evil.example/cb', scope: 'orders.read',
        code_challenge: challenge, code_challenge_method: 'S256' }), options)),
    (e) => e.error === 'invalid_request' || e.cause?.error === 'invalid_request');
  } finally {
    assert.equal(await server.stop(), 0, server.log());
  }
});
