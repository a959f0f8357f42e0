#include "oauth/token/token_service.h"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <mutex>

#include "common/encoding.h"
#include "common/log.h"
#include "jose/key_set.h"
#include "jose/verifier.h"
#include "oauth/client/client_catalog.h"
#include "oauth/client/client_service.h"
#include "oauth/client/validation.h"
#include "oauth/credentials/secret_hash.h"
#include "oauth/credentials/token_hash.h"
#include "oauth/token/claims.h"
#include "oauth/token/token_errors.h"
#include "store/db.h"

namespace portcullis::oauth {
namespace {

namespace json = boost::json;

// Grant types each client type may use when the client lists none (light-oauth2 rules,
// reference §4.4): public clients only the code flow (RFC 9700 §2.1.1 wants PKCE there).
bool DefaultAllows(const Client& c, const Grant& grant) {
  if (c.IsPublic()) return grant.traits().public_by_default;
  if (grant.traits().trusted_only) return c.IsTrusted();
  return true;
}

bool Allows(const Client& c, const Grant& grant) {
  if (c.grant_types.empty()) return DefaultAllows(c, grant);
  return c.AllowsGrant(grant.name());
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
  if (!id_token.empty()) o["id_token"] = id_token;
  return json::serialize(o);
}

// --- TokenService -----------------------------------------------------------------------

TokenService::TokenService(TokenSettings settings, ClientCatalog& clients,
                           const SecretHasher& secrets, const TokenKeys& keys, store::Database& db,
                           TokenStores stores, UserAuthenticator& users, RevocationList& revoked,
                           const Clock& clock, Random& random, GrantLookups& lookups,
                           const GrantRegistry& grants)
    : settings_(std::move(settings)),
      clients_(clients),
      secrets_(secrets),
      keys_(keys),
      db_(db),
      stores_(stores),
      users_(users),
      revoked_(revoked),
      clock_(clock),
      random_(random),
      grants_(grants),
      lookups_(lookups),
      grant_deps_{settings_, keys_, db_, stores_, lookups_, users_, revoked_, clock_, random_},
      dpop_(settings_.dpop, clock_) {}

TokenRequest TokenService::Prepare(Params params, std::optional<std::string_view> authorization,
                                   std::string_view remote_ip) const {
  TokenRequest r(std::move(params), authorization, remote_ip);
  // The client is looked up here, once: Needs and Token both use this snapshot.
  std::shared_ptr<const Client> client;
  if (r.credentials()) client = clients_.Find(r.credentials()->client_id);
  r.Resolve(grants_.Find(r.grant_type()), std::move(client));
  return r;
}

GrantNeeds TokenService::Needs(const TokenRequest& r) const {
  // An unsupported grant type or unreadable credentials fail before anything blocks.
  if (r.grant() == nullptr || !r.credentials()) return GrantNeeds::kNothing;
  GrantNeeds needs = r.grant()->Needs(r);
  // A DPoP proof's jti replay cache lives in the store too.
  if (!r.dpop_proofs().empty()) needs = MaxNeeds(needs, GrantNeeds::kStore);
  // The assertion's jti replay cache lives in the store.
  if (r.params().Has("client_assertion")) needs = MaxNeeds(needs, GrantNeeds::kStore);
  // A legacy PBKDF2 secret is slow to check, and upgraded in the store once it matches.
  if (r.client() && IsLegacyPbkdf2(r.client()->secret_hash)) {
    needs = MaxNeeds(needs, GrantNeeds::kStore);
  }
  return needs;
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

Result<std::shared_ptr<const Client>> TokenService::AuthenticateClient(
    const PresentedCredentials& creds, bool may_block) {
  return AuthenticateFound(creds, clients_.Find(creds.client_id), may_block);
}

Result<std::shared_ptr<const Client>> TokenService::AuthenticateFound(
    const PresentedCredentials& creds, std::shared_ptr<const Client> client, bool may_block) {
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
  // light-oauth2's PBKDF2 digests are replaced on their first successful use (secret_hash.h);
  // may_block holds here: the legacy check above refuses to run without it.
  if (IsLegacyPbkdf2(client->secret_hash)) UpgradeSecretOnUse(*client, creds.secret);
  return client;
}

void TokenService::UpgradeSecretOnUse(const Client& c, const Secret& secret) {
  // Conditional on the stored digest being the one just verified: concurrent first uses, or a
  // secret reset meanwhile, leave the row alone.
  auto st = lookups_.UpgradeLegacySecret(c.client_id, c.secret_hash, secret);
  if (!st) {
    log::Warn("client.secret_upgrade_failed",
              {{"client_id", c.client_id}, {"detail", st.error().detail}});
    return;
  }
  // The catalog follows now; the "client" notification tells the other instances.
  if (auto r = clients_.Refresh(c.client_id); !r) {
    log::Warn("client.catalog_refresh_failed",
              {{"client_id", c.client_id}, {"detail", r.error().detail}});
  }
}

Result<std::shared_ptr<const Client>> TokenService::AuthenticateCaller(
    const PresentedCredentials& creds) {
  return AuthenticateCaller(creds, clients_.Find(creds.client_id), true);
}

Result<std::shared_ptr<const Client>> TokenService::AuthenticateCaller(
    const PresentedCredentials& creds, std::shared_ptr<const Client> found, bool may_block) {
  auto client = AuthenticateFound(creds, std::move(found), may_block);
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
  auto fresh =
      stores_.assertion_jtis.Remember(c.client_id + ":" + jti, c.client_id, exp->as_int64());
  if (!fresh) return Fail(fresh.error());
  if (!*fresh) return bad("The assertion was already used.");
  return {};
}

Result<IssuedToken> TokenService::Token(const TokenRequest& r, bool may_block) {
  // light-oauth2 checks the grant type before the client (reference §6.1).
  const Grant* grant = r.grant();
  if (grant == nullptr) {
    return Fail(Error::Status(
        "ERR12001", "Unsupported grant type " + std::string(r.grant_type().substr(0, 64)) + "."));
  }
  if (!r.credentials()) return Fail(r.credentials().error());
  auto client = AuthenticateCaller(*r.credentials(), r.client(), may_block);
  if (!client) return Fail(client.error());
  const Client& c = **client;
  const GrantTraits& traits = grant->traits();
  const std::string_view name = grant->name();
  // RFC 6749 §2.1, §4.4: a public client proves nothing by its client_id, so no grant that rests
  // on client authentication, whatever its grant list says (rows written before this rule).
  if (c.IsPublic() && traits.needs_client_authentication) {
    return Fail(Error::Status("ERR12024", "A public client cannot use the " + std::string(name) +
                                              " grant: it needs client authentication."));
  }
  // bootstrap_token is decided by identity (the configured bootstrap client) and token
  // exchange by the delegation policies, not by the client's grant list.
  if (!traits.by_policy && !Allows(c, *grant)) {
    if (traits.trusted_only && !c.IsTrusted()) return Fail(Error::Status("ERR12024"));
    return Fail(
        Error::Status("ERR12024", "The client may not use the " + std::string(name) + " grant."));
  }
  auto jkt = CheckDpop(r, c, may_block);
  if (!jkt) return Fail(jkt.error());
  const bool bound = !jkt->empty();
  GrantContext ctx(grant_deps_, may_block, std::move(*jkt));
  auto issued = grant->Issue(ctx, r, c);
  // RFC 9449 §5.1: a DPoP-bound access token is of token_type DPoP.
  if (issued && bound) issued->token_type = "DPoP";
  return issued;
}

Result<std::string> TokenService::CheckDpop(const TokenRequest& r, const Client& c,
                                            bool may_block) {
  if (r.dpop_proofs().empty()) {
    // RFC 9449 §5.2 (dpop_bound_access_tokens): such a client's token requests need a proof.
    if (c.dpop_bound_access_tokens) {
      return Fail(Error::OAuth(400, "invalid_request",
                               "The client must send a DPoP proof (dpopBoundAccessTokens)."));
    }
    return std::string();
  }
  std::vector<std::string_view> headers(r.dpop_proofs().begin(), r.dpop_proofs().end());
  auto proof = dpop_.Validate(
      headers, dpop::Expected{"POST", settings_.token_endpoint, /*access_token=*/std::nullopt});
  if (!proof) return Fail(proof.error());
  if (!may_block) return Fail(Error::Internal("DPoP replay check on an I/O thread"));
  // §11.1: one use per proof, across instances (a unique key in the shared table). Keyed by the
  // proof's key too, so one client's jtis never collide with another key's.
  auto fresh = stores_.assertion_jtis.Remember("dpop:" + proof->jkt + ":" + proof->jti, c.client_id,
                                               dpop_.ReplayExpiry(*proof));
  if (!fresh) return Fail(fresh.error());
  if (!*fresh) {
    return Fail(
        Error::OAuth(400, std::string(dpop::kInvalidProof), "The DPoP proof was already used."));
  }
  return std::move(proof->jkt);
}

}  // namespace portcullis::oauth
