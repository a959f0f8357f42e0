// openid-client (panva) against Portcullis: discovery, client_credentials, introspection and
// revocation through its high-level Configuration API.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as client from 'openid-client';
import { startPortcullis } from './portcullis.mjs';

test('openid-client: discovery, client_credentials, introspection, revocation', async () => {
  const server = await startPortcullis(['--set', 'keys.algorithm=ES256']);
  try {
    const app = await server.createClient({ clientType: 'trusted', scope: 'inventory.read' });
    const config = await client.discovery(new URL(server.url), app.clientId, app.clientSecret,
      client.ClientSecretBasic(app.clientSecret),
      { execute: [client.allowInsecureRequests], algorithm: 'oauth2' });
    assert.equal(config.serverMetadata().issuer, server.url);

    const tokens = await client.clientCredentialsGrant(config, { scope: 'inventory.read' });
    assert.equal(tokens.scope, 'inventory.read');
    assert.ok(tokens.expiresIn() > 0);

    let info = await client.tokenIntrospection(config, tokens.access_token);
    assert.equal(info.active, true);
    assert.equal(info.client_id, app.clientId);

    await client.tokenRevocation(config, tokens.access_token);
    info = await client.tokenIntrospection(config, tokens.access_token);
    assert.equal(info.active, false);
  } finally {
    assert.equal(await server.stop(), 0, server.log());
  }
});
