// node-oidc-provider (npm "oidc-provider", pinned in package.json / package-lock.json) as the
// peer OpenID provider of the relying-party interop suite: the same tests that run against
// Portcullis run against it, so a library flow that fails only on Portcullis is our bug.
//
// Listens on 127.0.0.1 only, on PORT (default 0: the kernel picks one). When it listens it
// prints one JSON line on stdout: {"issuer": "...", "port": N, "pid": N}.
//
// Clients are made per test run, never built in:
//   PEER_REGISTRATION_TOKEN  initial access token for dynamic client registration
//                            (RFC 7591, POST <issuer>/reg); required.
//   PEER_CLIENTS             optional JSON array of client metadata (oidc-provider's
//                            snake_case names) registered at start; `-`: the array comes as
//                            one line on stdin after the listening line, for a caller whose
//                            client names a port known only once the peer listens (so no
//                            caller has to free a port for the peer and hope it stays free).
// Users: the in-memory ACCOUNTS below. The built-in development pages (devInteractions) sign
// them in (any password) and ask for consent; an unknown user name is refused.
// Enabled: OpenID Connect (ID tokens, userinfo, claims by scope), refresh tokens for every
// client allowed the refresh_token grant, the device flow (RFC 8628, page at /device),
// RP-initiated logout (end_session at /session/end), dynamic registration.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import http from 'node:http';
import Provider from 'oidc-provider';

const HOST = '127.0.0.1';
const PORT = Number(process.env.PORT ?? 0);
const REGISTRATION_TOKEN = process.env.PEER_REGISTRATION_TOKEN;
if (!REGISTRATION_TOKEN || REGISTRATION_TOKEN.length < 16) {
  console.error('provider.mjs: PEER_REGISTRATION_TOKEN (16+ characters) is required');
  process.exit(2);
}
const CLIENTS_FROM_STDIN = process.env.PEER_CLIENTS === '-';

// The same users the tests create on Portcullis (tests/node/providers.mjs).
const ACCOUNTS = {
  alice: {
    name: 'Alice Liddell', given_name: 'Alice', family_name: 'Liddell',
    email: 'alice@example.com', email_verified: true,
  },
  bob: {
    name: 'Bob Builder', given_name: 'Bob', family_name: 'Builder',
    email: 'bob@example.com', email_verified: false,
  },
};

// A fresh RSA key per start (published at the jwks_uri); RS256 is what OpenID Connect requires.
const jwk = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
Object.assign(jwk, { kid: `peer-${randomBytes(6).toString('hex')}`, use: 'sig', alg: 'RS256' });

// Listen first: with port 0 the issuer (which names the port) is known only afterwards.
const server = http.createServer();
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(PORT, HOST, resolve);
});
const { port } = server.address();
const issuer = `http://${HOST}:${port}`;
const listening = JSON.stringify({ issuer, port, pid: process.pid });
// Requests that arrive before the provider is made wait for it.
let serve;
const served = new Promise((resolve) => { serve = resolve; });
server.on('request', async (req, res) => (await served)(req, res));

async function firstStdinLine() {
  let text = '';
  for await (const chunk of process.stdin) {
    text += chunk;
    if (text.includes('\n')) break;
  }
  return text.split('\n')[0];
}

let CLIENTS;
if (CLIENTS_FROM_STDIN) {
  console.log(listening);
  CLIENTS = JSON.parse(await firstStdinLine());
} else {
  CLIENTS = JSON.parse(process.env.PEER_CLIENTS ?? '[]');
}

const provider = new Provider(issuer, {
  clients: CLIENTS,
  jwks: { keys: [jwk] },
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  scopes: ['openid', 'offline_access', 'profile', 'email'],
  claims: {
    openid: ['sub'],
    profile: ['name', 'given_name', 'family_name'],
    email: ['email', 'email_verified'],
  },
  async findAccount(_ctx, id) {
    const account = ACCOUNTS[id];
    if (!account) return undefined;
    return { accountId: id, claims: async () => ({ sub: id, ...account }) };
  },
  // As Portcullis does: a refresh token for every client allowed the grant, without
  // offline_access (which oidc-provider would otherwise also tie to prompt=consent).
  issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
  pkce: { required: () => true },
  ttl: { AccessToken: 600, AuthorizationCode: 60, IdToken: 600, RefreshToken: 3600, DeviceCode: 600 },
  features: {
    devInteractions: { enabled: true },
    deviceFlow: { enabled: true },
    rpInitiatedLogout: { enabled: true },
    registration: { enabled: true, initialAccessToken: REGISTRATION_TOKEN },
    revocation: { enabled: true },
  },
});
// devInteractions accepts any user name; refuse the unknown ones so a test that signs in as
// someone else fails here rather than later.
provider.use(async (ctx, next) => {
  if (ctx.method === 'POST' && /^\/interaction\/[^/]+$/.test(ctx.path)) {
    const body = await new Promise((resolve) => {
      let text = '';
      ctx.req.on('data', (d) => { text += d; });
      ctx.req.on('end', () => resolve(text));
    });
    const form = new URLSearchParams(body);
    if (form.get('prompt') === 'login' && !ACCOUNTS[form.get('login')]) {
      ctx.status = 403;
      ctx.body = 'unknown user';
      return;
    }
    // The stream is consumed: oidc-provider's body parser then reads req.body instead.
    ctx.req.body = body;
  }
  await next();
});

serve(provider.callback());
if (!CLIENTS_FROM_STDIN) console.log(listening);

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
