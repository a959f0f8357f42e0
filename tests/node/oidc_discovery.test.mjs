// Discovery completeness (OpenID Connect Discovery 1.0): the REQUIRED members are there, every
// advertised endpoint answers, and — on Portcullis — every advertised member and value is
// exercised by a real request here, so that discovery lists nothing that is not implemented.
// A member this file has no check for fails the test: add the check or stop advertising it.
//
// The first two parts also run against the peer (node-oidc-provider, OpenID-certified), which
// shows the checks themselves hold for a known-good provider.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import * as jose from 'jose';
import { DEVICE_GRANT, PROVIDERS, withProvider } from './providers.mjs';

const REDIRECT = 'http://127.0.0.1:9/cb';

async function metadataOf(p) {
  const r = await fetch(p.issuer + '/.well-known/openid-configuration');
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /^application\/json/);
  return r.json();
}

// Discovery §3 REQUIRED, plus what issue 15 asks Portcullis to publish.
const REQUIRED = ['issuer', 'authorization_endpoint', 'token_endpoint', 'jwks_uri',
  'response_types_supported', 'subject_types_supported', 'id_token_signing_alg_values_supported'];
const PORTCULLIS_PUBLISHES = ['userinfo_endpoint', 'end_session_endpoint', 'scopes_supported',
  'claims_supported', 'response_modes_supported', 'prompt_values_supported',
  'claims_parameter_supported', 'backchannel_logout_supported',
  'backchannel_logout_session_supported', 'device_authorization_endpoint'];

// How each endpoint is called by the specs that define it.
const POST_ENDPOINTS = new Set(['token_endpoint', 'introspection_endpoint', 'revocation_endpoint',
  'device_authorization_endpoint', 'registration_endpoint', 'pushed_authorization_request_endpoint']);
const endpointMembers = (meta) => Object.keys(meta).filter((k) => k.endsWith('_endpoint') || k === 'jwks_uri');

for (const name of PROVIDERS) {
  test(`discovery: REQUIRED members and every endpoint answers (${name})`, async () => {
    await withProvider(name, async (p) => {
      const meta = await metadataOf(p);
      const wanted = name === 'portcullis' ? [...REQUIRED, ...PORTCULLIS_PUBLISHES] : REQUIRED;
      assert.deepEqual(wanted.filter((k) => !(k in meta)), [], 'members discovery lacks');
      assert.equal(meta.issuer, p.issuer, 'issuer is the URL discovery was fetched from (§4.3)');
      assert.ok(meta.response_types_supported.includes('code'));
      assert.ok(meta.id_token_signing_alg_values_supported.includes('RS256'), 'RS256 (§3)');
      if (meta.scopes_supported) assert.ok(meta.scopes_supported.includes('openid'), 'openid (§3)');
      for (const k of endpointMembers(meta)) {
        const url = new URL(meta[k]);
        assert.equal(url.origin, new URL(p.issuer).origin, `${k} is on the issuer's origin`);
        const r = await fetch(url, { method: POST_ENDPOINTS.has(k) ? 'POST' : 'GET', redirect: 'manual',
          headers: POST_ENDPOINTS.has(k) ? { 'content-type': 'application/x-www-form-urlencoded' } : {},
          body: POST_ENDPOINTS.has(k) ? '' : undefined });
        await r.arrayBuffer();
        assert.ok(r.status !== 404 && r.status !== 405 && r.status < 500, `${k} ${url} answers ${r.status}`);
      }
    });
  });
}

// --- Portcullis: every advertised member and value exercised ---------------------------------

const b64url = (buf) => Buffer.from(buf).toString('base64url');
const jwtPayload = (jwt) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url'));
const jwtHeader = (jwt) => JSON.parse(Buffer.from(jwt.split('.')[0], 'base64url'));

class Rp {
  constructor(p, meta, registered) {
    this.p = p;
    this.meta = meta;
    this.client = registered;
  }

  authorizationUrl(params = {}) {
    this.verifier = b64url(randomBytes(32));
    this.state = b64url(randomBytes(12));
    this.nonce = b64url(randomBytes(12));
    const url = new URL(this.meta.authorization_endpoint);
    url.search = new URLSearchParams({ response_type: 'code', client_id: this.client.clientId,
      redirect_uri: REDIRECT, scope: 'openid', state: this.state, nonce: this.nonce,
      code_challenge: b64url(createHash('sha256').update(this.verifier).digest()),
      code_challenge_method: 'S256', ...params }).toString();
    return url;
  }

  async token(form) {
    const r = await fetch(this.meta.token_endpoint, { method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded',
        authorization: 'Basic ' + Buffer.from(`${encodeURIComponent(this.client.clientId)}:${encodeURIComponent(this.client.clientSecret)}`).toString('base64') },
      body: new URLSearchParams(form) });
    return { status: r.status, body: await r.json() };
  }

  async redeem(callback) {
    const code = new URL(callback).searchParams.get('code');
    assert.ok(code, 'a code: ' + callback);
    const r = await this.token({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT,
      code_verifier: this.verifier });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body;
  }

  // Signs in with `ua` (a fresh one by default) and returns the token response.
  async codeFlow(params = {}, ua = this.p.browser()) {
    return this.redeem(await this.p.signIn(this.authorizationUrl(params), ua));
  }

  async userinfo(accessToken) {
    const r = await fetch(this.meta.userinfo_endpoint, { headers: { authorization: 'Bearer ' + accessToken } });
    assert.equal(r.status, 200, await r.clone().text());
    return r.json();
  }
}

// A login page: a form with a password field.
const isLoginPage = (r) => r.status === 200 && /<input[^>]+type="password"/i.test(r.text);

// Follows GET redirects only: { landed } at the client, or the first { page } shown.
async function firstPage(ua, url) {
  let next = url;
  for (let i = 0; i < 10; i++) {
    const r = await ua.request(next);
    if (!(r.status >= 300 && r.status < 400 && r.location)) return { page: r };
    if (r.location.href.startsWith(REDIRECT)) return { landed: r.location };
    next = r.location;
  }
  throw new Error('redirect loop:\n' + ua.trace.join('\n'));
}

test('discovery: every advertised member and value is implemented (portcullis)', async () => {
  await withProvider('portcullis', async (p) => {
    const meta = await metadataOf(p);
    const jwks = jose.createRemoteJWKSet(new URL(meta.jwks_uri));
    const allScopes = (meta.scopes_supported ?? ['openid']).join(' ');
    const rp = new Rp(p, meta, await p.registerClient({ redirectUris: [REDIRECT], scope: allScopes }));
    const checked = new Set();
    // Every check runs, and all failures are reported together: one run lists all that is
    // missing.
    const failures = [];
    const check = async (member, fn) => {
      checked.add(member);
      if (!(member in meta)) return;
      try {
        await fn(meta[member]);
      } catch (e) {
        failures.push(`${member}: ${e.message}`);
      }
    };
    const onlyKnown = (member, values, known) => {
      for (const v of values) assert.ok(known.includes(v), `"${v}" is advertised but not exercised here`);
    };

    // Endpoints: answered above; each is also used below.
    for (const k of endpointMembers(meta)) checked.add(k);
    checked.add('issuer');

    // A full sign-in for the rest.
    const ua = p.browser();
    const full = await rp.codeFlow({ scope: allScopes }, ua);
    assert.ok(full.id_token, 'scope openid: an ID token');
    const idClaims = (await jose.jwtVerify(full.id_token, jwks, { issuer: p.issuer, audience: rp.client.clientId })).payload;
    const info = await rp.userinfo(full.access_token);

    await check('response_types_supported', (v) => onlyKnown('response_types_supported', v, ['code']));
    await check('code_challenge_methods_supported', (v) => onlyKnown('code_challenge_methods_supported', v, ['S256']));

    await check('response_modes_supported', async (modes) => {
      onlyKnown('response_modes_supported', modes, ['query', 'form_post']);
      if (modes.includes('query')) {
        const cb = await p.signIn(rp.authorizationUrl({ response_mode: 'query' }), ua);
        assert.ok(cb.searchParams.get('code'));
      }
      if (modes.includes('form_post')) {
        // OAuth 2.0 Form Post Response Mode §2: an auto-submitting form to the redirect URI.
        const out = await ua.drive(rp.authorizationUrl({ response_mode: 'form_post' }),
          { stop: (u) => u.href.startsWith(REDIRECT) });
        assert.ok(out.posted, 'form_post answers with a form posting to the redirect URI:\n' + ua.trace.join('\n'));
        const fields = Object.fromEntries(out.posted.fields);
        assert.equal(fields.state, rp.state);
        await rp.redeem(REDIRECT + '?code=' + encodeURIComponent(fields.code));
      }
    });

    await check('authorization_response_iss_parameter_supported', async (v) => {
      if (!v) return;
      const cb = await p.signIn(rp.authorizationUrl(), ua);
      assert.equal(cb.searchParams.get('iss'), p.issuer, 'RFC 9207 iss in the response');
    });

    await check('subject_types_supported', async (v) => {
      onlyKnown('subject_types_supported', v, ['public']);
      // public: the same sub for the same user at another client.
      const other = new Rp(p, meta, await p.registerClient({ redirectUris: [REDIRECT] }));
      const t = await other.codeFlow({}, ua);
      assert.equal(jwtPayload(t.id_token).sub, idClaims.sub);
    });

    await check('id_token_signing_alg_values_supported', async (algs) => {
      for (const alg of algs) {
        const c = new Rp(p, meta, await p.registerClient({ redirectUris: [REDIRECT],
          ...(alg === 'RS256' ? {} : { idTokenSignedResponseAlg: alg }) }));
        const t = await c.codeFlow({}, ua);
        assert.equal(jwtHeader(t.id_token).alg, alg, `an ID token signed with ${alg}`);
        await jose.jwtVerify(t.id_token, jwks, { issuer: p.issuer, audience: c.client.clientId, algorithms: [alg] });
      }
    });

    await check('scopes_supported', async (scopes) => {
      const granted = (full.scope ?? allScopes).split(' ');
      for (const s of scopes) assert.ok(granted.includes(s), `scope ${s} is granted when asked for`);
      const expect = { profile: ['given_name', 'family_name'], email: ['email'] };
      for (const [s, claims] of Object.entries(expect)) {
        if (scopes.includes(s)) for (const c of claims) assert.ok(c in info, `scope ${s} gives ${c} at userinfo`);
      }
      if (scopes.includes('offline_access')) assert.ok(full.refresh_token, 'offline_access: a refresh token');
    });

    await check('claims_supported', async (claims) => {
      // Every advertised claim shows up for this user, except those whose user fields the
      // admin API cannot set (then only their scope is checked, above) and azp (only when needed).
      const seen = new Set([...Object.keys(idClaims), ...Object.keys(info)]);
      const unsettable = new Set(['address', 'phone_number', 'phone_number_verified', 'azp']);
      for (const c of claims) {
        if (!unsettable.has(c)) assert.ok(seen.has(c), `claim ${c} is advertised but never returned`);
      }
    });
    await check('claim_types_supported', (v) => onlyKnown('claim_types_supported', v, ['normal']));

    await check('claims_parameter_supported', async (v) => {
      if (!v) return;
      // OIDC Core §5.5: email asked for by name in both members, with scope openid alone.
      const t = await rp.codeFlow({ scope: 'openid',
        claims: JSON.stringify({ id_token: { email: null }, userinfo: { email: null } }) }, ua);
      assert.equal(jwtPayload(t.id_token).email, p.user.email, 'claims.id_token honoured');
      assert.equal((await rp.userinfo(t.access_token)).email, p.user.email, 'claims.userinfo honoured');
    });

    await check('prompt_values_supported', async (values) => {
      onlyKnown('prompt_values_supported', values, ['none', 'login', 'consent']);
      if (values.includes('none')) {
        const fresh = p.browser();
        const out = await firstPage(fresh, rp.authorizationUrl({ prompt: 'none' }));
        assert.ok(out.landed, 'prompt=none shows no page:\n' + fresh.trace.join('\n'));
        assert.equal(out.landed.searchParams.get('error'), 'login_required');
      }
      if (values.includes('login')) {
        const out = await firstPage(ua, rp.authorizationUrl({ prompt: 'login' }));
        assert.ok(out.page && isLoginPage(out.page),
          'prompt=login shows the login page to a signed-in user:\n' + ua.trace.join('\n'));
      }
      if (values.includes('consent')) {
        // Consent was given above; prompt=consent asks again (a page, not the redirect).
        const r = await firstPage(ua, rp.authorizationUrl({ prompt: 'consent' }));
        assert.ok(r.page && r.page.status === 200 && !isLoginPage(r.page) && /<form/i.test(r.page.text),
          'prompt=consent shows the consent page:\n' + ua.trace.join('\n'));
      }
    });

    await check('request_parameter_supported', async (v) => {
      assert.equal(v, false, 'request objects are not implemented');
    });
    await check('request_uri_parameter_supported', async (v) => {
      assert.equal(v, false, 'request_uri is not implemented');
    });

    await check('grant_types_supported', async (grants) => {
      assert.ok(grants.includes('authorization_code'));
      for (const g of grants) {
        const r = await rp.token({ grant_type: g });
        assert.notEqual(r.body.error, 'unsupported_grant_type', `${g} is advertised but unsupported`);
      }
      if (grants.includes('refresh_token')) {
        const r = await rp.token({ grant_type: 'refresh_token', refresh_token: full.refresh_token });
        assert.equal(r.status, 200, JSON.stringify(r.body));
        assert.ok(r.body.id_token, 'refresh with openid: a new ID token');
      }
      if (grants.includes(DEVICE_GRANT)) {
        const dev = await p.registerClient({ public: true, grantTypes: [DEVICE_GRANT] });
        const r = await fetch(meta.device_authorization_endpoint, { method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ client_id: dev.clientId, scope: 'openid' }) });
        const body = await r.json();
        assert.equal(r.status, 200, JSON.stringify(body));
        assert.ok(body.device_code && body.user_code && body.verification_uri);
      }
    });

    await check('backchannel_logout_supported', async (v) => {
      if (!v) return;
      const received = [];
      const server = http.createServer((req, res) => {
        let body = '';
        req.on('data', (d) => { body += d; });
        req.on('end', () => { received.push(new URLSearchParams(body)); res.writeHead(200); res.end(); });
      });
      await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
      try {
        const c = new Rp(p, meta, await p.registerClient({ redirectUris: [REDIRECT],
          backchannelLogoutUri: `http://127.0.0.1:${server.address().port}/bc` }));
        const signedIn = p.browser();
        const t = await c.codeFlow({}, signedIn);
        const sid = jwtPayload(t.id_token).sid;
        const end = new URL(meta.end_session_endpoint);
        end.search = new URLSearchParams({ id_token_hint: t.id_token }).toString();
        await signedIn.drive(end);
        const deadline = Date.now() + 15_000;
        while (!received.length) {
          assert.ok(Date.now() < deadline, 'no logout token reached the backchannel_logout_uri');
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        const token = received[0].get('logout_token');
        const { payload } = await jose.jwtVerify(token, jwks, { issuer: p.issuer, audience: c.client.clientId });
        assert.ok(payload.events?.['http://schemas.openid.net/event/backchannel-logout'], 'the logout event');
        assert.equal(payload.nonce, undefined, 'no nonce in a logout token (§2.4)');
        if (meta.backchannel_logout_session_supported) assert.equal(payload.sid, sid, 'the session id');
      } finally {
        server.close();
      }
    });
    checked.add('backchannel_logout_session_supported');  // with the member above

    // Members from before OpenID Connect, and the sender-constraining ones (issue 16), exercised
    // by the OAuth suites.
    const EXERCISED_ELSEWHERE = {
      dpop_signing_alg_values_supported: 'tests/integration/test_dpop.py, tests/node/dpop.test.mjs',
      require_pushed_authorization_requests: 'tests/integration/test_par.py (per client; false here)',
      tls_client_certificate_bound_access_tokens: 'tests/integration/test_mtls.py',
      token_endpoint_auth_methods_supported: 'tests/integration/test_token.py, test_trust_tokens.py, tests/node/interop.test.mjs',
      token_endpoint_auth_signing_alg_values_supported: 'tests/integration/test_trust_tokens.py (private_key_jwt)',
      introspection_endpoint_auth_methods_supported: 'tests/integration/test_token.py',
      revocation_endpoint_auth_methods_supported: 'tests/integration/test_trust_revoke.py',
    };
    for (const k of Object.keys(EXERCISED_ELSEWHERE)) checked.add(k);

    const unchecked = Object.keys(meta).filter((k) => !checked.has(k));
    if (unchecked.length) failures.push('advertised members nothing here exercises: ' + unchecked.join(', '));
    assert.deepEqual(failures, []);
  });
});
