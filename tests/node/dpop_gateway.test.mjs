// DPoP-bound tokens from oauth4webapi's own PAR and DPoP support, used at the nginx gateway
// example (examples/nginx/portcullis-gateway.conf: auth_request to GET /oauth2/verify, which
// forwards the DPoP header and the public origin so the proof can be checked there).
// - A PAR + DPoP authorization-code flow (PKCE S256, dpop_jkt), the user signing in and
//   consenting on Portcullis's own pages; the DPoP-bound token passes the gateway with a proof
//   made by oauth4webapi for the gateway's URL, and is refused there as a bearer token (401,
//   WWW-Authenticate: DPoP with algs and error="invalid_token").
// - client_credentials with DPoP through the same gateway.
// Server nonces are on at the token endpoint: oauth4webapi retries once on use_dpop_nonce.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as oauth from 'oauth4webapi';
import * as jose from 'jose';
import { startPortcullis } from './portcullis.mjs';
import { registerPetstore, startGateway } from './gateway.mjs';
import { UserAgent } from './user_agent.mjs';

const options = { [oauth.allowInsecureRequests]: true };
const redirectUri = 'http://127.0.0.1:9/callback';

async function withNonceRetry(fn) {
  try {
    return await fn();
  } catch (err) {
    if (!oauth.isDPoPNonceError(err)) throw err;
    return fn();
  }
}

// Portcullis (nonces on), the petstore service and the gateway in front of it.
async function withGateway(fn) {
  const server = await startPortcullis(['--set', 'dpop.require_nonce=true']);
  let gateway;
  try {
    await registerPetstore(server);
    gateway = await startGateway(new URL(server.url).port);
    const issuer = new URL(server.url);
    const as = await oauth.processDiscoveryResponse(issuer,
      await oauth.discoveryRequest(issuer, { ...options, algorithm: 'oauth2' }));
    await fn({ server, gateway, as });
  } finally {
    if (gateway) await gateway.stop();
    assert.equal(await server.stop(), 0, server.log());
  }
}

// GET /v1/pets through the gateway with a DPoP proof oauth4webapi makes for that URL.
async function petsWithProof(gateway, token, DPoP) {
  return oauth.protectedResourceRequest(token, 'GET', new URL(gateway.url + '/v1/pets'),
    new Headers(), null, { ...options, DPoP });
}

// The same token as a bearer token: refused with the DPoP challenge (RFC 9449 §7.1, §7.2).
async function assertRefusedAsBearer(gateway, token) {
  const err = await oauth.protectedResourceRequest(token, 'GET', new URL(gateway.url + '/v1/pets'),
    new Headers(), null, options).then(() => null, (e) => e);
  assert.ok(err instanceof oauth.WWWAuthenticateChallengeError, String(err));
  assert.equal(err.response.status, 401);
  const [challenge] = err.cause;
  assert.equal(challenge.scheme, 'dpop', err.response.headers.get('www-authenticate'));
  assert.equal(challenge.parameters.error, 'invalid_token');
  assert.ok(challenge.parameters.algs.split(' ').includes('ES256'), challenge.parameters.algs);
}

test('PAR + DPoP code flow (oauth4webapi), then the token at the nginx gateway', async () => {
  await withGateway(async ({ server, gateway, as }) => {
    assert.equal(as.pushed_authorization_request_endpoint, server.url + '/oauth2/par');
    const created = await server.createClient({ clientType: 'confidential',
      clientProfile: 'webserver', scope: 'pets.r', redirectUris: [redirectUri] });
    await server.createUser('gale', 'gale-password-1234');
    const client = { client_id: created.clientId };
    const auth = oauth.ClientSecretBasic(created.clientSecret);
    const DPoP = oauth.DPoP(client, await oauth.generateKeyPair('ES256'));
    const jkt = await DPoP.calculateThumbprint();

    const verifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const pushed = await withNonceRetry(async () => oauth.processPushedAuthorizationResponse(as,
      client, await oauth.pushedAuthorizationRequest(as, client, auth, new URLSearchParams({
        response_type: 'code', redirect_uri: redirectUri, scope: 'pets.r', state,
        code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256', dpop_jkt: jkt }), { ...options, DPoP })));
    assert.ok(pushed.request_uri.startsWith('urn:ietf:params:oauth:request_uri:'));

    const url = new URL(as.authorization_endpoint);
    url.search = new URLSearchParams({ client_id: created.clientId,
      request_uri: pushed.request_uri }).toString();
    const agent = new UserAgent({ user: 'gale', password: 'gale-password-1234' });
    const { landed } = await agent.drive(url, { stop: (u) => u.href.startsWith(redirectUri) });
    assert.ok(landed, agent.trace.join('\n'));
    const params = oauth.validateAuthResponse(as, client, landed, state);  // iss too

    const token = await withNonceRetry(async () => oauth.processAuthorizationCodeResponse(as,
      client, await oauth.authorizationCodeGrantRequest(as, client, auth, params, redirectUri,
        verifier, { ...options, DPoP })));
    assert.equal(token.token_type, 'dpop');
    const claims = jose.decodeJwt(token.access_token);
    assert.equal(claims.cnf.jkt, jkt);
    assert.equal(claims.sub, 'gale');

    const r = await petsWithProof(gateway, token.access_token, DPoP);
    assert.equal(r.status, 200, gateway.logs());
    assert.deepEqual(await r.json(), [{ id: 42, name: 'Rex' }]);
    assert.equal(r.headers.get('x-upstream-client-id'), created.clientId);
    // A second request needs (and gets) a new proof: oauth4webapi makes one per request.
    assert.equal((await petsWithProof(gateway, token.access_token, DPoP)).status, 200);
    await assertRefusedAsBearer(gateway, token.access_token);
    // A proof from another key than the token's.
    const thief = oauth.DPoP(client, await oauth.generateKeyPair('ES256'));
    const err = await petsWithProof(gateway, token.access_token, thief).then(() => null, (e) => e);
    assert.ok(err instanceof oauth.WWWAuthenticateChallengeError, String(err));
    assert.equal(err.response.status, 401);
    assert.equal(err.cause[0].parameters.error, 'invalid_token');
  });
});

test('client_credentials with DPoP (oauth4webapi), then the token at the nginx gateway', async () => {
  await withGateway(async ({ server, gateway, as }) => {
    const created = await server.createClient({ clientType: 'confidential', scope: 'pets.r' });
    const client = { client_id: created.clientId };
    const auth = oauth.ClientSecretBasic(created.clientSecret);
    const DPoP = oauth.DPoP(client, await oauth.generateKeyPair('ES256'));
    const token = await withNonceRetry(async () => oauth.processClientCredentialsResponse(as,
      client, await oauth.clientCredentialsGrantRequest(as, client, auth,
        new URLSearchParams({ scope: 'pets.r' }), { ...options, DPoP })));
    assert.equal(token.token_type, 'dpop');
    assert.equal(jose.decodeJwt(token.access_token).cnf.jkt, await DPoP.calculateThumbprint());

    const r = await petsWithProof(gateway, token.access_token, DPoP);
    assert.equal(r.status, 200, gateway.logs());
    assert.equal(r.headers.get('x-upstream-client-id'), created.clientId);
    await assertRefusedAsBearer(gateway, token.access_token);

    // A plain bearer token of the same client still passes as before.
    const plain = await oauth.processClientCredentialsResponse(as, client,
      await oauth.clientCredentialsGrantRequest(as, client, auth,
        new URLSearchParams({ scope: 'pets.r' }), options));
    assert.equal(plain.token_type, 'bearer');
    const ok = await oauth.protectedResourceRequest(plain.access_token, 'GET',
      new URL(gateway.url + '/v1/pets'), new Headers(), null, options);
    assert.equal(ok.status, 200);
  });
});
