// Whole flows with independent libraries: oauth4webapi for the protocol, jose for JWT
// verification against our JWKS. Nothing here shares code with Portcullis.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as oauth from 'oauth4webapi';
import * as jose from 'jose';
import { startPortcullis } from './portcullis.mjs';

for (const alg of ['RS256', 'PS256', 'ES256', 'EdDSA']) {
  test(`client_credentials, JWKS verification, introspection and revocation (${alg})`, async () => {
    const server = await startPortcullis(['--set', `keys.algorithm=${alg}`]);
    try {
      const issuer = new URL(server.url);
      const options = { [oauth.allowInsecureRequests]: true };
      const as = await oauth.processDiscoveryResponse(issuer,
        await oauth.discoveryRequest(issuer, { ...options, algorithm: 'oauth2' }));
      assert.equal(as.issuer, server.url);
      assert.ok(as.grant_types_supported.includes('client_credentials'));

      const created = await server.createClient({ clientType: 'trusted', scope: 'api.read api.write' });
      const client = { client_id: created.clientId };
      const auth = oauth.ClientSecretBasic(created.clientSecret);

      const response = await oauth.clientCredentialsGrantRequest(as, client, auth,
        new URLSearchParams({ scope: 'api.read' }), options);
      const token = await oauth.processClientCredentialsResponse(as, client, response);
      assert.equal(token.token_type, 'bearer');
      assert.equal(token.scope, 'api.read');

      // A resource server verifies the JWT on its own with the published keys.
      const jwks = jose.createRemoteJWKSet(new URL(as.jwks_uri));
      const { payload, protectedHeader } = await jose.jwtVerify(token.access_token, jwks, {
        issuer: server.url, typ: 'at+jwt', algorithms: [alg],
      });
      assert.equal(protectedHeader.alg, alg);
      assert.equal(payload.client_id, created.clientId);
      assert.equal(payload.scope, 'api.read');

      const rs = await server.createClient({ clientType: 'confidential', scope: 'x' });
      const rsClient = { client_id: rs.clientId };
      const rsAuth = oauth.ClientSecretBasic(rs.clientSecret);
      let intro = await oauth.processIntrospectionResponse(as, rsClient,
        await oauth.introspectionRequest(as, rsClient, rsAuth, token.access_token, options));
      assert.equal(intro.active, true);
      assert.equal(intro.client_id, created.clientId);

      await oauth.processRevocationResponse(
        await oauth.revocationRequest(as, client, auth, token.access_token, options));
      intro = await oauth.processIntrospectionResponse(as, rsClient,
        await oauth.introspectionRequest(as, rsClient, rsAuth, token.access_token, options));
      assert.equal(intro.active, false);
    } finally {
      assert.equal(await server.stop(), 0, server.log());
    }
  });
}

test('percent-encoded Basic credentials (RFC 6749 §2.3.1) from a library', async () => {
  const server = await startPortcullis();
  try {
    const created = await server.createClient({ clientType: 'trusted', scope: 'a' });
    const as = { issuer: server.url, token_endpoint: server.url + '/oauth2/token' };
    const client = { client_id: created.clientId };
    const token = await oauth.processClientCredentialsResponse(as, client,
      await oauth.clientCredentialsGrantRequest(as, client, oauth.ClientSecretPost(created.clientSecret),
        new URLSearchParams(), { [oauth.allowInsecureRequests]: true }));
    assert.ok(token.access_token);
  } finally {
    await server.stop();
  }
});

test('authorization_code with PKCE S256 and refresh (oauth4webapi)', async () => {
  const server = await startPortcullis();
  try {
    const issuer = new URL(server.url);
    const options = { [oauth.allowInsecureRequests]: true };
    const as = await oauth.processDiscoveryResponse(issuer,
      await oauth.discoveryRequest(issuer, { ...options, algorithm: 'oauth2' }));
    const redirectUri = 'http://127.0.0.1:9/callback';
    // Trusted: HTTP Basic sign-in issues a code to other clients only with a recorded consent.
    const created = await server.createClient({ clientType: 'trusted', clientProfile: 'webserver',
      scope: 'profile orders.read', redirectUris: [redirectUri] });
    await server.createUser('erin', 'erin-password-1234');
    const client = { client_id: created.clientId };
    const auth = oauth.ClientSecretBasic(created.clientSecret);

    const verifier = oauth.generateRandomCodeVerifier();
    const challenge = await oauth.calculatePKCECodeChallenge(verifier);
    const state = oauth.generateRandomState();
    const url = new URL(as.authorization_endpoint);
    url.search = new URLSearchParams({ response_type: 'code', client_id: created.clientId,
      redirect_uri: redirectUri, scope: 'orders.read', state, code_challenge: challenge,
      code_challenge_method: 'S256' }).toString();
    // The user signs in with HTTP Basic (light-oauth2's API login) instead of a browser form.
    const res = await fetch(url, { redirect: 'manual',
      headers: { authorization: 'Basic ' + Buffer.from('erin:erin-password-1234').toString('base64') } });
    assert.equal(res.status, 302);
    const callback = new URL(res.headers.get('location'));
    const params = oauth.validateAuthResponse(as, client, callback, state);
    const token = await oauth.processAuthorizationCodeResponse(as, client,
      await oauth.authorizationCodeGrantRequest(as, client, auth, params, redirectUri, verifier, options));
    assert.equal(token.scope, 'orders.read');
    assert.ok(token.refresh_token);
    const jwks = jose.createRemoteJWKSet(new URL(as.jwks_uri));
    const { payload } = await jose.jwtVerify(token.access_token, jwks, { issuer: server.url });
    assert.equal(payload.sub, 'erin');

    const refreshed = await oauth.processRefreshTokenResponse(as, client,
      await oauth.refreshTokenGrantRequest(as, client, auth, token.refresh_token, options));
    assert.notEqual(refreshed.refresh_token, token.refresh_token);
  } finally {
    assert.equal(await server.stop(), 0, server.log());
  }
});
