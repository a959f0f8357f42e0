// npm openid-client (v6, panva) as an independent OpenID relying party, run the same way against
// Portcullis and against node-oidc-provider (tests/node/providers.mjs): discovery, the code flow
// with PKCE and a nonce and the ID token validated by the library, userinfo, refresh with a new
// ID token for the same subject, and the RP-initiated logout URL followed to its end.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as client from 'openid-client';
import { PROVIDERS, withProvider } from './providers.mjs';

const REDIRECT = 'http://127.0.0.1:9/cb';
const AFTER_LOGOUT = 'http://127.0.0.1:9/signed-out';

async function configure(p, registered) {
  return client.discovery(new URL(p.issuer), registered.clientId, registered.clientSecret,
    client.ClientSecretBasic(registered.clientSecret), { execute: [client.allowInsecureRequests] });
}

// Runs the code flow as the library's documentation does; returns the validated tokens.
async function codeFlow(p, config, { ua = p.browser(), scope = 'openid profile email' } = {}) {
  const verifier = client.randomPKCECodeVerifier();
  const nonce = client.randomNonce();
  const state = client.randomState();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT, scope, nonce, state,
    code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  });
  const callback = await p.signIn(url, ua);
  const tokens = await client.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: verifier, expectedNonce: nonce, expectedState: state, idTokenExpected: true,
  });
  return { tokens, nonce };
}

for (const name of PROVIDERS) {
  test(`openid-client: discovery, code + PKCE + nonce, ID token, userinfo, refresh (${name})`, async () => {
    await withProvider(name, async (p) => {
      const registered = await p.registerClient({ redirectUris: [REDIRECT] });
      const config = await configure(p, registered);
      const meta = config.serverMetadata();
      assert.equal(meta.issuer, p.issuer);
      assert.ok(meta.userinfo_endpoint, 'discovery names a userinfo_endpoint');
      assert.ok(meta.id_token_signing_alg_values_supported.includes('RS256'));

      const { tokens, nonce } = await codeFlow(p, config);
      const claims = tokens.claims();
      assert.ok(claims, 'the token response carries an ID token');
      assert.equal(claims.iss, p.issuer);
      assert.equal(claims.nonce, nonce);
      assert.deepEqual([claims.aud].flat(), [registered.clientId]);
      assert.equal(typeof claims.sub, 'string');
      assert.ok(claims.sub.length > 0);
      assert.ok(claims.exp > claims.iat);
      if (claims.auth_time !== undefined) assert.equal(typeof claims.auth_time, 'number');
      assert.ok(tokens.refresh_token, 'a refresh token');

      const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
      assert.equal(info.sub, claims.sub);
      assert.equal(info.email, p.user.email);
      assert.equal(info.given_name, p.user.givenName);
      assert.equal(info.family_name, p.user.familyName);
      // A userinfo answer for another subject is refused by the library (OIDC Core §5.3.2).
      await assert.rejects(client.fetchUserInfo(config, tokens.access_token, claims.sub + 'x'));

      const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
      assert.ok(refreshed.id_token, 'refresh returns a new ID token (OIDC Core §12.2)');
      const again = refreshed.claims();
      assert.equal(again.sub, claims.sub);
      assert.equal(again.iss, claims.iss);
      assert.deepEqual([again.aud].flat(), [registered.clientId]);
      assert.ok(again.iat >= claims.iat);
      if (claims.auth_time !== undefined) assert.equal(again.auth_time, claims.auth_time);
      // The new access token works at userinfo too.
      const info2 = await client.fetchUserInfo(config, refreshed.access_token, claims.sub);
      assert.equal(info2.sub, claims.sub);
    });
  });

  test(`openid-client: a different expected nonce is refused (${name})`, async () => {
    await withProvider(name, async (p) => {
      const registered = await p.registerClient({ redirectUris: [REDIRECT] });
      const config = await configure(p, registered);
      const verifier = client.randomPKCECodeVerifier();
      const state = client.randomState();
      const sent = client.randomNonce();
      const url = client.buildAuthorizationUrl(config, {
        redirect_uri: REDIRECT, scope: 'openid', nonce: sent, state,
        code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
      });
      const callback = await p.signIn(url);
      await assert.rejects(client.authorizationCodeGrant(config, callback, {
        pkceCodeVerifier: verifier, expectedNonce: client.randomNonce(), expectedState: state,
        idTokenExpected: true,
      }), (e) => {
        // The library names the nonce, and the token it refused carried exactly the sent one.
        const cause = e.cause ?? e;
        assert.match(cause.message, /nonce/, String(e));
        assert.equal(cause.claims?.nonce ?? cause.cause?.claims?.nonce, sent);
        return true;
      });
    });
  });

  test(`openid-client: RP-initiated logout URL, followed to the registered redirect (${name})`, async () => {
    await withProvider(name, async (p) => {
      const registered = await p.registerClient({ redirectUris: [REDIRECT],
        postLogoutRedirectUris: [AFTER_LOGOUT] });
      const config = await configure(p, registered);
      assert.ok(config.serverMetadata().end_session_endpoint, 'discovery names an end_session_endpoint');
      const ua = p.browser();
      const { tokens } = await codeFlow(p, config, { ua, scope: 'openid' });

      const state = client.randomState();
      const logout = client.buildEndSessionUrl(config, {
        id_token_hint: tokens.id_token, post_logout_redirect_uri: AFTER_LOGOUT, state,
      });
      assert.equal(logout.origin + logout.pathname, config.serverMetadata().end_session_endpoint);
      // The user confirms on the provider's page; the provider then sends them to the
      // registered post_logout_redirect_uri with the state (RP-Initiated Logout 1.0 §3).
      const out = await ua.drive(logout, { stop: (u) => u.href.startsWith(AFTER_LOGOUT) });
      assert.ok(out.landed, 'logout lands at the post_logout_redirect_uri:\n' + ua.trace.join('\n'));
      assert.equal(out.landed.origin + out.landed.pathname, AFTER_LOGOUT);
      assert.equal(out.landed.searchParams.get('state'), state);

      // The session is over: a new authorization request asks the user to sign in again.
      const verifier = client.randomPKCECodeVerifier();
      const again = client.buildAuthorizationUrl(config, {
        redirect_uri: REDIRECT, scope: 'openid', nonce: client.randomNonce(), state: client.randomState(),
        prompt: 'none', code_challenge: await client.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
      });
      const none = await ua.drive(again, { stop: (u) => u.href.startsWith(REDIRECT) });
      assert.ok(none.landed, 'prompt=none answers at the redirect URI:\n' + ua.trace.join('\n'));
      assert.equal(none.landed.searchParams.get('error'), 'login_required');
    });
  });
}
