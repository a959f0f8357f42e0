// The OpenID providers the relying-party interop suite runs against, behind one interface so
// every test runs unchanged on each:
//
//   const p = await startProvider('portcullis' | 'peer');
//   p.name, p.issuer, p.user ({ id, password, email, givenName, familyName })
//   await p.registerClient({ redirectUris, postLogoutRedirectUris, grantTypes, public, scope })
//       (Portcullis also takes idTokenSignedResponseAlg and backchannelLogoutUri)
//       -> { clientId, clientSecret (undefined for a public client) }
//   await p.signIn(authorizationUrl) -> the callback URL (with code) the provider redirects to
//   await p.approveDevice(verificationUri, userCode) -> after the user entered the code, signed
//       in and allowed it on the provider's verification page
//   p.browser() -> a fresh UserAgent (tests/node/user_agent.mjs) signed in as nobody yet
//   await p.stop()
//
// 'portcullis' is the binary under test (tests/node/portcullis.mjs: port 0, SQLite, a bootstrap
// admin client); clients and the user come from its admin API. 'peer' is node-oidc-provider
// from tests/peer (`npm ci` there first; scripts/test.sh does), started on port 0 with a
// registration token; clients come from dynamic registration (RFC 7591). A provider that cannot
// start throws: the suite fails, it never skips.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { startPortcullis } from './portcullis.mjs';
import { UserAgent } from './user_agent.mjs';

export const PROVIDERS = ['portcullis', 'peer'];

export const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const USER = { id: 'alice', password: 'alice-password-1234', email: 'alice@example.com',
  givenName: 'Alice', familyName: 'Liddell' };

export async function startProvider(name) {
  if (name === 'portcullis') return startPortcullisProvider();
  if (name === 'peer') return startPeer();
  throw new Error('unknown provider ' + name);
}

function withBrowser(p) {
  p.browser = () => new UserAgent({ user: USER.id, password: USER.password });
  p.signIn = async (authorizationUrl, ua = p.browser()) => {
    const redirect = new URL(authorizationUrl).searchParams.get('redirect_uri');
    const out = await ua.drive(authorizationUrl, { stop: (u) => u.href.startsWith(redirect) });
    if (!out.landed) {
      throw new Error(`${p.name}: sign-in ended on a page (${out.page?.status ?? 'form_post'}):\n` +
        ua.trace.join('\n') + '\n' + (out.page?.text ?? '').slice(0, 600));
    }
    return out.landed;
  };
  p.approveDevice = async (verificationUri, userCode, ua = p.browser()) => {
    const out = await ua.drive(verificationUri, { userCode });
    if (!out.page || out.page.status !== 200) {
      throw new Error(`${p.name}: device approval did not end on a page:\n` + ua.trace.join('\n'));
    }
    return out.page;
  };
  p.user = USER;
  return p;
}

async function startPortcullisProvider() {
  const server = await startPortcullis();
  await server.createUser(USER.id, USER.password, { firstName: USER.givenName,
    lastName: USER.familyName, email: USER.email });
  return withBrowser({
    name: 'portcullis',
    issuer: server.url,
    server,
    async registerClient({ redirectUris = [], postLogoutRedirectUris, grantTypes, public: isPublic = false,
      scope = 'openid profile email', idTokenSignedResponseAlg, backchannelLogoutUri } = {}) {
      const fields = { clientType: isPublic ? 'public' : 'confidential',
        clientProfile: isPublic ? 'browser' : 'webserver', scope, redirectUris };
      if (isPublic) fields.authMethod = 'none';
      if (grantTypes) fields.grantTypes = grantTypes;
      // Sent only when asked for: a client registry without these fields refuses unknown members.
      if (postLogoutRedirectUris) fields.postLogoutRedirectUris = postLogoutRedirectUris;
      if (idTokenSignedResponseAlg) fields.idTokenSignedResponseAlg = idTokenSignedResponseAlg;
      if (backchannelLogoutUri) fields.backchannelLogoutUri = backchannelLogoutUri;
      const created = await server.createClient(fields);
      return { clientId: created.clientId, clientSecret: isPublic ? undefined : created.clientSecret };
    },
    async stop() {
      const code = await server.stop();
      if (code !== 0) throw new Error('portcullis exited with ' + code + ':\n' + server.log());
    },
  });
}

const PEER_DIR = fileURLToPath(new URL('../peer/', import.meta.url));

export async function startPeerProcess(env = {}) {
  if (!existsSync(PEER_DIR + 'node_modules/oidc-provider')) {
    throw new Error('the peer is not installed: run `npm ci` in tests/peer (scripts/test.sh does)');
  }
  const token = randomBytes(24).toString('base64url');
  const child = spawn(process.execPath, [PEER_DIR + 'provider.mjs'], {
    env: { ...process.env, PORT: '0', PEER_REGISTRATION_TOKEN: token, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stderr.on('data', (d) => { log += d; });
  const started = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve(JSON.parse(out.slice(0, nl)));
    });
    child.once('exit', (code) => reject(new Error(`peer exited (${code}): ${log}`)));
  });
  return { ...started, token, child, log: () => log };
}

async function startPeer() {
  const peer = await startPeerProcess();
  return withBrowser({
    name: 'peer',
    issuer: peer.issuer,
    async registerClient({ redirectUris = [], postLogoutRedirectUris, grantTypes, public: isPublic = false,
      scope = 'openid profile email' } = {}) {
      grantTypes ??= ['authorization_code', 'refresh_token'];
      const body = {
        redirect_uris: redirectUris,
        grant_types: grantTypes,
        response_types: grantTypes.includes('authorization_code') ? ['code'] : [],
        token_endpoint_auth_method: isPublic ? 'none' : 'client_secret_basic',
        scope,
      };
      if (postLogoutRedirectUris) body.post_logout_redirect_uris = postLogoutRedirectUris;
      const r = await fetch(peer.issuer + '/reg', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer ' + peer.token },
        body: JSON.stringify(body),
      });
      const json = await r.json();
      if (r.status !== 201) throw new Error('peer registration: ' + r.status + ' ' + JSON.stringify(json));
      return { clientId: json.client_id, clientSecret: json.client_secret };
    },
    async stop() {
      peer.child.kill('SIGTERM');
      if (peer.child.exitCode === null) await new Promise((resolve) => peer.child.once('exit', resolve));
    },
  });
}

// Starts the named provider for `fn` and always stops it.
export async function withProvider(name, fn) {
  const p = await startProvider(name);
  try {
    return await fn(p);
  } finally {
    await p.stop();
  }
}
