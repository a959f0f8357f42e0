#include "oauth/token/token_service.h"

#include <algorithm>
#include <array>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <mutex>

#include "common/encoding.h"
#include "common/log.h"
#include "jose/key_set.h"
#include "jose/verifier.h"
#include "oauth/client/client_catalog.h"
#include "oauth/client/validation.h"
#include "oauth/credentials/secret_hash.h"
#include "oauth/credentials/token_hash.h"
#include "oauth/token/claims.h"
#include "oauth/token/pkce.h"
#include "oauth/token/token_errors.h"
#include "store/db.h"

namespace portcullis::oauth {
namespace {

namespace json = boost::json;
using store::Int;
using store::Null;
using store::Text;

constexpr std::string_view kTokenTypeAccess = "urn:ietf:params:oauth:token-type:access_token";
constexpr std::string_view kTokenTypeJwt = "urn:ietf:params:oauth:token-type:jwt";

// Grant types each client type may use when the client lists none (light-oauth2 rules,
// reference §4.4): public clients only the code flow (RFC 9700 §2.1.1 wants PKCE there).
bool DefaultAllows(const Client& c, std::string_view grant) {
  if (c.IsPublic()) return grant == "authorization_code" || grant == "refresh_token";
  if (grant == "password" || grant == "client_authenticated_user") return c.IsTrusted();
  return true;
}

bool Allows(const Client& c, std::string_view grant) {
  if (c.grant_types.empty()) return DefaultAllows(c, grant);
  return c.AllowsGrant(grant);
}

void AddScope(json::object& claims, const std::vector<std::string>& scope, bool as_array) {
  if (scope.empty()) return;
  if (as_array) {
    json::array a;
    for (const auto& s : scope) a.emplace_back(s);
    claims["scope"] = std::move(a);
  } else {
    claims["scope"] = JoinScope(scope);
  }
}

}  // namespace

std::string IssuedToken::ToJson() const {
  json::object o;
  o["access_token"] = access_token;
  o["token_type"] = token_type;
  o["expires_in"] = expires_in;
  if (!refresh_token.empty()) o["refresh_token"] = refresh_token;
  if (!scope.empty()) o["scope"] = scope;
  if (!remember.empty()) o["remember"] = remember;
  if (!issued_token_type.empty()) o["issued_token_type"] = issued_token_type;
  return json::serialize(o);
}

// --- TokenService -----------------------------------------------------------------------

TokenService::TokenService(TokenSettings settings, ClientCatalog& clients,
                           const SecretHasher& secrets, const TokenKeys& keys, store::Database& db,
                           TokenStores stores, UserAuthenticator& users, RevocationList& revoked,
                           const Clock& clock, Random& random)
    : settings_(std::move(settings)),
      clients_(clients),
      secrets_(secrets),
      keys_(keys),
      db_(db),
      stores_(stores),
      users_(users),
      revoked_(revoked),
      clock_(clock),
      random_(random) {}

bool TokenService::NeedsBlocking(const Params& params,
                                 std::optional<std::string_view> authorization) const {
  if (params.Value("grant_type") != "client_credentials") return true;
  // A named resource is looked up in the service registry (RFC 8707).
  if (params.Has("resource") || params.Has("audience")) return true;
  return ClientAuthBlocks(params, authorization, /*external_blocks=*/true);
}

bool TokenService::ClientAuthBlocks(const Params& params,
                                    std::optional<std::string_view> authorization,
                                    bool external_blocks) const {
  if (params.Has("client_assertion")) return true;  // jti replay cache lives in the store
  auto creds = ReadClientCredentials(authorization, &params);
  if (!creds) return false;  // the error needs no store either
  auto client = clients_.Find(creds->client_id);
  if (!client) return false;
  // External clients get reference tokens, which are stored; legacy PBKDF2 secrets are slow.
  return (external_blocks && client->IsExternal()) || IsLegacyPbkdf2(client->secret_hash);
}

bool TokenService::NeedsHashing(const Params& params) {
  return params.Value("grant_type") == "password";
}

Result<std::shared_ptr<const Client>> TokenService::AuthenticateClient(
    const PresentedCredentials& creds, bool may_block) {
  auto client = clients_.Find(creds.client_id);
  if (!client) {
    // Same work as a known client, so timing does not reveal which ids exist.
    (void)secrets_.Verify(creds.secret.Reveal(),
                          "hs256$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    return Fail(
        Error::Status("ERR12014", "Client " + creds.client_id.substr(0, 64) + " is not found."));
  }
  if (creds.method == "private_key_jwt") {
    if (client->auth_method != AuthMethod::kPrivateKeyJwt) {
      return Fail(Error::Status("ERR12007", "The client does not use private_key_jwt."));
    }
    if (!may_block) return Fail(Error::Internal("private_key_jwt on an I/O thread"));
    if (auto s = VerifyClientAssertion(*client, creds.assertion); !s) return Fail(s.error());
    return client;
  }
  if (client->auth_method == AuthMethod::kPrivateKeyJwt) {
    return Fail(Error::Status("ERR12007", "The client must authenticate with private_key_jwt."));
  }
  if (creds.method == "none") {
    if (client->IsPublic() && client->secret_hash.empty()) return client;
    return Fail(Error::Status("ERR12002"));
  }
  if (client->secret_hash.empty()) {
    return Fail(Error::Status("ERR12007", "The client has no secret."));
  }
  if (!client->AcceptsSecretMethod(creds.method)) {
    // RFC 7591 §2: a client registered with client_secret_basic does not post its secret, and
    // the other way round. Refused before the secret is checked: it reveals nothing about it.
    return Fail(Error::Status("ERR12007", "The client must authenticate with " +
                                              std::string(AuthMethodName(client->auth_method)) +
                                              "."));
  }
  if (IsLegacyPbkdf2(client->secret_hash) && !may_block) {
    return Fail(Error::Internal("legacy secret check on an I/O thread"));
  }
  if (!secrets_.Verify(creds.secret.Reveal(), client->secret_hash)) {
    return Fail(Error::Status("ERR12007"));
  }
  return client;
}

Result<std::shared_ptr<const Client>> TokenService::AuthenticateCaller(
    const PresentedCredentials& creds) {
  auto client = AuthenticateClient(creds, true);
  // RFC 6749 §5.2: an unknown client is a failed client authentication, 401 invalid_client;
  // light-oauth2's ERR12014 stays in `code`. AuthenticateClient did the same work either way.
  if (!client && client.error().code == "ERR12014") {
    Error e = std::move(client.error());
    e.http_status = 401;
    e.oauth_error = "invalid_client";
    return Fail(std::move(e));
  }
  return client;
}

// RFC 7523 §3: iss and sub are the client, aud is us, exp is near, and a jti is used once.
Status TokenService::VerifyClientAssertion(const Client& c, std::string_view assertion) {
  auto bad = [](std::string why) { return Fail(Error::Status("ERR12007", std::move(why))); };
  if (c.jwks.empty()) return bad("The client has no registered jwks.");
  auto keys = jose::ParseJwks(c.jwks);
  if (!keys) return bad("The client's jwks cannot be read.");
  jose::VerifyOptions options;
  options.issuer = c.client_id;
  options.leeway_seconds = settings_.leeway_s;
  jose::Verifier verifier(std::move(*keys), options, clock_);
  auto v = verifier.Verify(assertion);
  if (!v)
    return bad("Invalid client assertion: " + std::string(jose::ReasonName(v.error().reason)));
  const auto& claims = v->payload;
  if (StringClaim(claims, "sub") != c.client_id)
    return bad("The assertion's sub is not the client.");
  bool aud_ok = false;
  auto accept = [&](std::string_view a) {
    aud_ok = aud_ok || a == settings_.issuer || a == settings_.token_endpoint;
  };
  if (auto a = claims.if_contains("aud")) {
    if (a->is_string()) accept(a->as_string());
    if (a->is_array()) {
      for (const auto& x : a->as_array()) {
        if (x.is_string()) accept(x.as_string());
      }
    }
  }
  if (!aud_ok) return bad("The assertion's aud is not this server.");
  std::string jti = StringClaim(claims, "jti");
  auto exp = claims.if_contains("exp");
  int64_t now = clock_.Now();
  if (jti.empty() || !exp || !exp->is_int64()) return bad("The assertion needs jti and exp.");
  if (exp->as_int64() > now + 600) return bad("The assertion lives too long.");
  // Replay cache: the jti is remembered while the assertion could still verify, exp plus the
  // leeway; Purge keeps it DenyListRetention(leeway) past exp.
  auto n =
      db_.Exec("INSERT INTO client_assertion_jtis (jti, client_id, expires_at) VALUES ($1, $2, $3)",
               {Text(c.client_id + ":" + jti), Text(c.client_id), Int(exp->as_int64())});
  if (!n) {
    if (store::IsUniqueViolation(n.error())) return bad("The assertion was already used.");
    return Fail(n.error());
  }
  return {};
}

Result<IssuedToken> TokenService::Token(const Params& params,
                                        std::optional<std::string_view> authorization,
                                        std::string_view remote_ip) {
  // light-oauth2 checks the grant type before the client (reference §6.1).
  std::string_view grant = params.Value("grant_type");
  static constexpr std::array<std::string_view, 7> kGrants = {
      "client_credentials",
      "authorization_code",
      "refresh_token",
      "password",
      "client_authenticated_user",
      "bootstrap_token",
      "urn:ietf:params:oauth:grant-type:token-exchange"};
  if (std::find(kGrants.begin(), kGrants.end(), grant) == kGrants.end()) {
    return Fail(Error::Status("ERR12001",
                              "Unsupported grant type " + std::string(grant.substr(0, 64)) + "."));
  }
  auto creds = ReadClientCredentials(authorization, &params);
  if (!creds) return Fail(creds.error());
  auto client = AuthenticateCaller(*creds);
  if (!client) return Fail(client.error());
  const Client& c = **client;
  // RFC 6749 §2.1, §4.4: a public client proves nothing by its client_id, so no grant that rests
  // on client authentication, whatever its grant list says (rows written before this rule).
  if (c.IsPublic() && NeedsClientAuthentication(grant)) {
    return Fail(Error::Status("ERR12024", "A public client cannot use the " + std::string(grant) +
                                              " grant: it needs client authentication."));
  }
  // bootstrap_token is decided by identity (the configured bootstrap client) and token
  // exchange by the delegation policies, not by the client's grant list.
  bool by_policy =
      grant == "bootstrap_token" || grant == "urn:ietf:params:oauth:grant-type:token-exchange";
  if (!by_policy && !Allows(c, grant)) {
    if ((grant == "password" || grant == "client_authenticated_user") && !c.IsTrusted()) {
      return Fail(Error::Status("ERR12024"));
    }
    return Fail(
        Error::Status("ERR12024", "The client may not use the " + std::string(grant) + " grant."));
  }
  if (grant == "client_credentials") return ClientCredentials(params, c, true);
  if (grant == "authorization_code") return AuthorizationCode(params, c);
  if (grant == "refresh_token") return RefreshToken(params, c);
  if (grant == "password") return Password(params, c, remote_ip);
  if (grant == "client_authenticated_user") return ClientAuthenticatedUser(params, c);
  if (grant == "bootstrap_token") return BootstrapToken(params, c);
  return TokenExchange(params, c);
}

Result<std::vector<std::string>> TokenService::GrantedScope(
    std::string_view requested, const std::vector<std::string>& allowed) const {
  if (requested.find_first_not_of(' ') == std::string_view::npos) return allowed;
  auto wanted = SplitScope(requested);
  // Set membership, not light-oauth2's substring match (reference §4.6).
  for (const auto& s : wanted) {
    if (std::find(allowed.begin(), allowed.end(), s) == allowed.end()) {
      return Fail(Error::Status("ERR12027",
                                "scope " + s.substr(0, 128) + " is not allowed for this client."));
    }
  }
  return wanted;
}

Result<TokenService::Target> TokenService::ResolveTarget(const Params& p) const {
  // RFC 8707 resource / RFC 8693 audience name the target; it must be one of our services.
  Target t;
  std::string_view target = p.Value("resource");
  if (target.empty()) target = p.Value("audience");
  if (target.empty()) {
    t.audience = settings_.default_audience.empty() ? settings_.issuer : settings_.default_audience;
    return t;
  }
  auto rows = db_.QueryRow("SELECT service_id FROM services WHERE service_id = $1", {Text(target)});
  if (!rows) return Fail(rows.error());
  if (!*rows) return Fail(InvalidTarget("Unknown resource or audience."));
  // What the service defines: the scopes its endpoints declare (service registry).
  auto endpoints =
      db_.Query("SELECT scope FROM service_endpoints WHERE service_id = $1", {Text(target)});
  if (!endpoints) return Fail(endpoints.error());
  std::vector<std::string> scopes;
  for (const auto& r : *endpoints) {
    for (auto& s : SplitScope(r.Str(0))) {
      if (std::find(scopes.begin(), scopes.end(), s) == scopes.end())
        scopes.push_back(std::move(s));
    }
  }
  t.audience = std::string(target);
  t.scopes = std::move(scopes);
  return t;
}

Result<std::vector<std::string>> TokenService::NarrowToTarget(const Target& t,
                                                              std::vector<std::string> scope,
                                                              bool requested) {
  if (!t.scopes) return scope;
  // RFC 8707 §2.2: a token for one resource carries only what that resource defines; the rest
  // of the granted scope is dropped (RFC 6749 §3.3 lets the server issue less than asked).
  std::erase_if(scope, [&](const std::string& s) {
    return std::find(t.scopes->begin(), t.scopes->end(), s) == t.scopes->end();
  });
  if (!scope.empty()) return scope;
  // Nothing left: asked-for scopes the resource does not define are invalid_scope; with no
  // scope asked for, the client holds nothing for that resource: invalid_target.
  if (requested) {
    return Fail(Error::Status("ERR12027", "None of the requested scopes is defined by " +
                                              t.audience.substr(0, 64) + "."));
  }
  return Fail(Coded("ERR12027", 400, "invalid_target",
                    "The client holds no scope that " + t.audience.substr(0, 64) + " defines."));
}

int64_t TokenService::TtlFor(const Client& c) const {
  return c.access_token_ttl.value_or(settings_.access_token_ttl);
}

Result<TokenService::Minted> TokenService::Mint(const Client& c, const Subject& subject,
                                                const std::vector<std::string>& scope,
                                                const std::string& audience, int64_t ttl,
                                                const json::object& extra) {
  int64_t now = clock_.Now();
  Minted m;
  m.jti = random_.Token(16);
  m.exp = now + ttl;
  json::object claims;
  bool light = c.token_profile == TokenProfile::kLight4j;
  claims["iss"] = settings_.issuer;
  if (!light) {
    claims["sub"] = !subject.sub.empty() ? subject.sub
                    : subject.is_user    ? subject.user_id
                                         : c.client_id;
  }
  claims["aud"] = audience;
  claims["exp"] = m.exp;
  claims["iat"] = now;
  claims["jti"] = m.jti;
  if (light) {
    // light-4j JwtIssuer: nbf two minutes back, version (reference §4.1).
    claims["nbf"] = now - 120;
    claims["version"] = "1.0";
  }
  claims["client_id"] = c.client_id;
  if (subject.is_user) {
    claims["user_id"] = subject.user_id;
    if (!subject.user_type.empty()) claims["user_type"] = subject.user_type;
  }
  AddScope(claims, scope, light);
  if (subject.is_user && !subject.roles.empty()) claims["roles"] = subject.roles;
  // `extra` is built by the grant itself (act, csrf, nonce, filtered request fields).
  for (const auto& [k, v] : extra) claims[k] = v;
  // Parsed, without reserved names, when the catalog built the snapshot (Client::custom_claims).
  for (const auto& [k, v] : c.custom_claims) {
    if (!claims.contains(k)) claims[k] = v;
  }
  auto jwt = keys_.Sign(json::serialize(claims), light ? "JWT" : "at+jwt");
  if (!jwt) return Fail(jwt.error());
  m.jwt = std::move(*jwt);
  return m;
}

Result<std::string> TokenService::Deliver(const Client& c, const Minted& m, store::Tx* tx) {
  if (!c.IsExternal()) return m.jwt;
  // External clients never see the JWT: they get a reference resolved by /oauth2/deref
  // (reference §4.4, §6.2), which expires with the JWT (§18.4).
  std::string reference = random_.Token(24);
  const char* sql =
      "INSERT INTO reference_tokens (token_hash, jwt, client_id, deref_client_id, expires_at)"
      " VALUES ($1, $2, $3, $4, $5)";
  std::initializer_list<store::Param> params = {
      Text(TokenHash(reference)), Text(m.jwt), Text(c.client_id),
      c.deref_client_id.empty() ? Null() : Text(c.deref_client_id), Int(m.exp)};
  auto n = tx ? tx->Exec(sql, params) : db_.Exec(sql, params);
  if (!n) return Fail(n.error());
  return reference;
}

Result<IssuedToken> TokenService::ClientCredentials(const Params& p, const Client& c,
                                                    bool may_block) {
  auto granted = GrantedScope(p.Value("scope"), c.scope);
  if (!granted) return Fail(granted.error());
  if ((p.Has("resource") || p.Has("audience")) && !may_block) {
    return Fail(Error::Internal("audience lookup on an I/O thread"));
  }
  auto target = ResolveTarget(p);
  if (!target) return Fail(target.error());
  auto scope = NarrowToTarget(*target, std::move(*granted), ScopeRequested(p));
  if (!scope) return Fail(scope.error());
  int64_t ttl = TtlFor(c);
  auto m = Mint(c, Subject{}, *scope, target->audience, ttl, {});
  if (!m) return Fail(m.error());
  auto token = Deliver(c, *m);
  if (!token) return Fail(token.error());
  IssuedToken out;
  out.access_token = std::move(*token);
  out.expires_in = ttl;
  out.scope = JoinScope(*scope);
  return out;
}

}  // namespace portcullis::oauth
