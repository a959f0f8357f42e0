// npm oauth4webapi (v3, panva) as an independent OpenID relying party, run the same way against
// Portcullis and against node-oidc-provider (tests/node/providers.mjs): the OpenID code flow
// (processAuthorizationCodeResponse with requireIdToken and the nonce), userinfo, a relying
// party expecting another nonce refusing the ID token, and the device flow (RFC 8628).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as oauth from 'oauth4webapi';
import { DEVICE_GRANT, PROVIDERS, withProvider } from './providers.mjs';

const REDIRECT = 'http://127.0.0.1:9/cb';
const options = { [oauth.allowInsecureRequests]: true };

async function discover(p) {
  const issuer = new URL(p.issuer);
  return oauth.processDiscoveryResponse(issuer,
    await oauth.discoveryRequest(issuer, { ...options, algorithm: 'oidc' }));
}

// Signs the user in for a code; returns what the token request needs.
async function authorize(p, as, client, { nonce, scope = 'openid profile email' }) {
  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const url = new URL(as.authorization_endpoint);
  url.search = new URLSearchParams({ response_type: 'code', client_id: client.client_id,
    redirect_uri: REDIRECT, scope, state, nonce,
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  }).toString();
  const callback = await p.signIn(url);
  const params = oauth.validateAuthResponse(as, client, callback, state);
  return { params, verifier };
}

for (const name of PROVIDERS) {
  test(`oauth4webapi: OpenID code flow and userinfo (${name})`, async () => {
    await withProvider(name, async (p) => {
      const as = await discover(p);
      const registered = await p.registerClient({ redirectUris: [REDIRECT] });
      const client = { client_id: registered.clientId };
      const auth = oauth.ClientSecretBasic(registered.clientSecret);
      const nonce = oauth.generateRandomNonce();
      const { params, verifier } = await authorize(p, as, client, { nonce });

      const result = await oauth.processAuthorizationCodeResponse(as, client,
        await oauth.authorizationCodeGrantRequest(as, client, auth, params, REDIRECT, verifier, options),
        { expectedNonce: nonce, requireIdToken: true });
      const claims = oauth.getValidatedIdTokenClaims(result);
      assert.equal(claims.nonce, nonce);
      assert.equal(claims.iss, p.issuer);
      assert.equal(result.token_type.toLowerCase(), 'bearer');
      assert.ok(result.scope === undefined || result.scope.split(' ').includes('openid'));

      const info = await oauth.processUserInfoResponse(as, client, claims.sub,
        await oauth.userInfoRequest(as, client, result.access_token, options));
      assert.equal(info.sub, claims.sub);
      assert.equal(info.email, p.user.email);
      assert.equal(info.given_name, p.user.givenName);
      // The same answer, checked against another subject, is refused (OIDC Core §5.3.2).
      await assert.rejects(async () => oauth.processUserInfoResponse(as, client, claims.sub + 'x',
        await oauth.userInfoRequest(as, client, result.access_token, options)), /sub/);
    });
  });

  test(`oauth4webapi: an ID token for another nonce is refused (${name})`, async () => {
    await withProvider(name, async (p) => {
      const as = await discover(p);
      const registered = await p.registerClient({ redirectUris: [REDIRECT] });
      const client = { client_id: registered.clientId };
      const auth = oauth.ClientSecretBasic(registered.clientSecret);
      const sent = oauth.generateRandomNonce();
      const { params, verifier } = await authorize(p, as, client, { nonce: sent, scope: 'openid' });
      const response = await oauth.authorizationCodeGrantRequest(as, client, auth, params, REDIRECT,
        verifier, options);
      await assert.rejects(oauth.processAuthorizationCodeResponse(as, client, response,
        { expectedNonce: oauth.generateRandomNonce(), requireIdToken: true }), (e) => {
        assert.ok(e instanceof oauth.OperationProcessingError, String(e));
        assert.equal(e.code, oauth.JWT_CLAIM_COMPARISON);
        assert.equal(e.cause.claim, 'nonce');
        assert.equal(e.cause.claims.nonce, sent, 'the provider echoed the sent nonce exactly');
        return true;
      });
    });
  });

  test(`oauth4webapi: device authorization grant (${name})`, async () => {
    await withProvider(name, async (p) => {
      const as = await discover(p);
      assert.ok(as.device_authorization_endpoint, 'discovery names a device_authorization_endpoint');
      const registered = await p.registerClient({ public: true, grantTypes: [DEVICE_GRANT, 'refresh_token'] });
      const client = { client_id: registered.clientId };
      const auth = oauth.None();

      const started = await oauth.processDeviceAuthorizationResponse(as, client,
        await oauth.deviceAuthorizationRequest(as, client, auth,
          new URLSearchParams({ scope: 'openid profile email' }), options));
      for (const k of ['device_code', 'user_code', 'verification_uri', 'expires_in']) {
        assert.ok(started[k], `device authorization response has ${k}`);
      }
      const interval = (started.interval ?? 5) * 1000;

      // Before the user acts, the client is told to keep waiting (RFC 8628 §3.5).
      await assert.rejects(async () => oauth.processDeviceCodeResponse(as, client,
        await oauth.deviceCodeGrantRequest(as, client, auth, started.device_code, options)),
      (e) => e instanceof oauth.ResponseBodyError && e.error === 'authorization_pending');

      // The user opens the verification page, enters the code, signs in and allows.
      await p.approveDevice(started.verification_uri, started.user_code);

      // Poll as RFC 8628 §3.5 says: no faster than the interval, slower after slow_down,
      // pending until approved; bounded by the code's lifetime.
      const deadline = Date.now() + Math.min(started.expires_in * 1000, 60_000);
      let wait = interval;
      let tokens;
      while (!tokens) {
        assert.ok(Date.now() < deadline, 'the device code was never redeemed');
        await new Promise((resolve) => setTimeout(resolve, wait));
        try {
          tokens = await oauth.processDeviceCodeResponse(as, client,
            await oauth.deviceCodeGrantRequest(as, client, auth, started.device_code, options));
        } catch (e) {
          if (!(e instanceof oauth.ResponseBodyError)) throw e;
          if (e.error === 'slow_down') wait += 5000;
          else if (e.error !== 'authorization_pending') throw e;
        }
      }
      assert.ok(tokens.access_token);
      // OpenID Connect defines ID tokens for its own flows only; a provider may add one here
      // (the peer does), and then it must be valid for this client.
      let expectedSubject = oauth.skipSubjectCheck;
      if (tokens.id_token) {
        const claims = oauth.getValidatedIdTokenClaims(tokens);
        assert.deepEqual([claims.aud].flat(), [registered.clientId]);
        expectedSubject = claims.sub;
      }
      // The token carries openid: userinfo answers for the user who approved.
      const info = await oauth.processUserInfoResponse(as, client, expectedSubject,
        await oauth.userInfoRequest(as, client, tokens.access_token, options));
      assert.equal(info.email, p.user.email);

      // The device code is single use (RFC 8628 §3.5 and RFC 6749 §10.5).
      await assert.rejects(async () => oauth.processDeviceCodeResponse(as, client,
        await oauth.deviceCodeGrantRequest(as, client, auth, started.device_code, options)),
      (e) => e instanceof oauth.ResponseBodyError && e.error === 'invalid_grant');
    });
  });
}
