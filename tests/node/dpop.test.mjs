// DPoP (RFC 9449) with oauth4webapi's built-in support: client_credentials and code + PKCE flows
// get DPoP-bound tokens (cnf.jkt of the library's own key), with and without server nonces
// (the library retries once on use_dpop_nonce, as it documents), and dpop_jkt binds the code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as oauth from 'oauth4webapi';
import * as jose from 'jose';
import { startPortcullis } from './portcullis.mjs';

const options = { [oauth.allowInsecureRequests]: true };

async function discover(server) {
  const issuer = new URL(server.url);
  return oauth.processDiscoveryResponse(issuer,
    await oauth.discoveryRequest(issuer, { ...options, algorithm: 'oauth2' }));
}

// oauth4webapi's documented pattern: a use_dpop_nonce error means retry once; the handle has
// already kept the nonce from the DPoP-Nonce header.
async function withNonceRetry(fn) {
  try {
    return await fn();
  } catch (err) {
    if (!oauth.isDPoPNonceError(err)) throw err;
    return fn();
  }
}

for (const requireNonce of [false, true]) {
  test(`client_credentials with DPoP (nonces ${requireNonce ? 'on' : 'off'})`, async () => {
    const server = await startPortcullis(requireNonce ? ['--set', 'dpop.require_nonce=true'] : []);
    try {
      const as = await discover(server);
      assert.ok(as.dpop_signing_alg_values_supported.includes('ES256'));
      const created = await server.createClient({ clientType: 'confidential', scope: 'api.read',
        dpopBoundAccessTokens: true });
      const client = { client_id: created.clientId };
      const auth = oauth.ClientSecretBasic(created.clientSecret);
      const keyPair = await oauth.generateKeyPair('ES256');
      const DPoP = oauth.DPoP(client, keyPair);
      let nonceErrors = 0;
      const token = await withNonceRetry(async () => {
        try {
          const response = await oauth.clientCredentialsGrantRequest(as, client, auth,
            new URLSearchParams({ scope: 'api.read' }), { ...options, DPoP });
          return await oauth.processClientCredentialsResponse(as, client, response);
        } catch (err) {
          if (oauth.isDPoPNonceError(err)) nonceErrors++;
          throw err;
        }
      });
      assert.equal(nonceErrors, requireNonce ? 1 : 0);
      assert.equal(token.token_type, 'dpop');
      const jwks = jose.createRemoteJWKSet(new URL(as.jwks_uri));
      const { payload } = await jose.jwtVerify(token.access_token, jwks, { issuer: server.url });
      assert.equal(payload.cnf.jkt, await DPoP.calculateThumbprint());

      // The same client without a proof is refused: dpopBoundAccessTokens.
      await assert.rejects(async () => oauth.processClientCredentialsResponse(as, client,
        await oauth.clientCredentialsGrantRequest(as, client, auth, new URLSearchParams(), options)),
      (err) => err.error === 'invalid_request');
    } finally {
      assert.equal(await server.stop(), 0, server.log());
    }
  });
}

test('authorization_code with PKCE, dpop_jkt and DPoP, then a DPoP refresh', async () => {
  const server = await startPortcullis(['--set', 'dpop.require_nonce=true']);
  try {
    const as = await discover(server);
    const redirectUri = 'http://127.0.0.1:9/callback';
    // Trusted: HTTP Basic sign-in issues the code without a consent page.
    const created = await server.createClient({ clientType: 'trusted', clientProfile: 'webserver',
      scope: 'orders.read', redirectUris: [redirectUri] });
    await server.createUser('dora', 'dora-password-1234');
    const client = { client_id: created.clientId };
    const auth = oauth.ClientSecretBasic(created.clientSecret);
    const keyPair = await oauth.generateKeyPair('ES256');
    const DPoP = oauth.DPoP(client, keyPair);
    const jkt = await DPoP.calculateThumbprint();

    const verifier = oauth.generateRandomCodeVerifier();
    const challenge = await oauth.calculatePKCECodeChallenge(verifier);
    const state = oauth.generateRandomState();
    const url = new URL(as.authorization_endpoint);
    url.search = new URLSearchParams({ response_type: 'code', client_id: created.clientId,
      redirect_uri: redirectUri, scope: 'orders.read', state, code_challenge: challenge,
      code_challenge_method: 'S256', dpop_jkt: jkt }).toString();
    const res = await fetch(url, { redirect: 'manual',
      headers: { authorization: 'Basic ' + Buffer.from('dora:dora-password-1234').toString('base64') } });
    assert.equal(res.status, 302);
    const params = oauth.validateAuthResponse(as, client, new URL(res.headers.get('location')), state);
    const token = await withNonceRetry(async () => oauth.processAuthorizationCodeResponse(as, client,
      await oauth.authorizationCodeGrantRequest(as, client, auth, params, redirectUri, verifier,
        { ...options, DPoP })));
    assert.equal(token.token_type, 'dpop');
    assert.equal(jose.decodeJwt(token.access_token).cnf.jkt, jkt);

    const refreshed = await withNonceRetry(async () => oauth.processRefreshTokenResponse(as, client,
      await oauth.refreshTokenGrantRequest(as, client, auth, token.refresh_token, { ...options, DPoP })));
    assert.equal(refreshed.token_type, 'dpop');
    assert.equal(jose.decodeJwt(refreshed.access_token).cnf.jkt, jkt);
  } finally {
    assert.equal(await server.stop(), 0, server.log());
  }
});
