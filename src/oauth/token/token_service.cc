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
#include "oauth/client/client_service.h"
#include "oauth/client/validation.h"
#include "oauth/credentials/secret_hash.h"
#include "oauth/credentials/token_hash.h"
#include "oauth/token/claims.h"
#include "oauth/token/client_jwks.h"
#include "oauth/token/json_writer.h"
#include "oauth/token/mtls.h"
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

// The client's keys come from its jwksUri (ClientJwksCache), not inline jwks: private_key_jwt
// and self_signed_tls_client_auth.
bool UsesJwksUri(const Client& c) { return c.jwks.empty() && !c.jwks_uri.empty(); }

// FAPI 2.0 §5.4.1: the algorithms a fapi2 client may sign with (assertions and DPoP proofs).
constexpr std::array<jose::Alg, 3> kFapi2Algs = {jose::Alg::kPS256, jose::Alg::kES256,
                                                 jose::Alg::kEdDSA};

}  // namespace

bool CertificateKeysBlock(const Client* c) {
  return c != nullptr && c->auth_method == AuthMethod::kSelfSignedTlsClientAuth && UsesJwksUri(*c);
}

std::string IssuedToken::ToJson() const {
  // Written directly (json_writer.h): the same bytes boost::json::serialize gave for these
  // members in this order, without building an object per response.
  JsonObjectWriter o(access_token.size() + refresh_token.size() + id_token.size() + scope.size() +
                     128);
  o.String("access_token", access_token);
  o.String("token_type", token_type);
  o.Int("expires_in", expires_in);
  if (!refresh_token.empty()) o.String("refresh_token", refresh_token);
  if (!scope.empty()) o.String("scope", scope);
  if (!remember.empty()) o.String("remember", remember);
  if (!issued_token_type.empty()) o.String("issued_token_type", issued_token_type);
  if (!id_token.empty()) o.String("id_token", id_token);
  return std::move(o).Finish();
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
  // A certificate checked against a jwksUri's keys may need a fetch.
  if (CertificateKeysBlock(r.client().get())) needs = MaxNeeds(needs, GrantNeeds::kStore);
  return needs;
}

Result<std::shared_ptr<const Client>> TokenService::AuthenticateClient(
    const PresentedCredentials& creds, bool may_block) {
  return AuthenticateFound(creds, clients_.Find(creds.client_id), may_block);
}

Result<std::shared_ptr<const Client>> TokenService::AuthenticateFormClient(
    const Params& params, std::optional<std::string_view> authorization,
    std::shared_ptr<const ClientCertificate> cert) {
  auto creds = ReadClientCredentials(authorization, &params);
  if (!creds) return Fail(creds.error());
  creds->client_cert = std::move(cert);
  return AuthenticateCaller(*creds);
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
  // FAPI 2.0 §5.3.2.1: a fapi2 client authenticates by private_key_jwt or mTLS only. Registration
  // refuses anything else; this holds rows written by other means (imports, older versions).
  if (client->IsFapi2() && !Fapi2AllowsAuthMethod(client->auth_method)) {
    return Fail(Error::Status("ERR12007",
                              "A client of profile fapi2 must authenticate with private_key_jwt, "
                              "tls_client_auth or self_signed_tls_client_auth."));
  }
  if (UsesCertificate(client->auth_method)) {
    // RFC 8705 §2: the certificate is the credential, and the request carries client_id alone; a
    // secret or an assertion beside it would be another method.
    if (creds.method != "none") {
      return Fail(Error::Status("ERR12007", "The client must authenticate with " +
                                                std::string(AuthMethodName(client->auth_method)) +
                                                "."));
    }
    static const ClientCertificate kNoCertificate;
    const ClientCertificate& cert = creds.client_cert ? *creds.client_cert : kNoCertificate;
    auto st = client->auth_method == AuthMethod::kTlsClientAuth
                  ? CheckTlsClientAuth(*client, cert)
                  : CheckSelfSignedCertificate(*client, cert, may_block);
    if (!st) return Fail(st.error());
    return client;
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

Status TokenService::CheckSelfSignedCertificate(const Client& c, const ClientCertificate& cert,
                                                bool may_block) {
  if (!UsesJwksUri(c)) return CheckSelfSignedTlsClientAuth(c, cert);
  auto bad = [](std::string why) { return Fail(Error::Status("ERR12007", std::move(why))); };
  // No certificate, no fetch: a request without one cannot make us call the client's server.
  if (cert.der.empty()) return bad("The client must authenticate with a TLS client certificate.");
  if (jwks_cache_ == nullptr) return bad("jwksUri key sets are not enabled here.");
  if (!may_block) return Fail(Error::Internal("jwksUri fetch on an I/O thread"));
  // RFC 8705 §2.2 allows jwks_uri: the same cache as private_key_jwt's, with its HTTP lifetimes.
  auto keys = jwks_cache_->Keys(c.client_id, c.jwks_uri);
  if (!keys) return bad("The client's jwksUri could not be used.");
  auto st = CheckSelfSignedTlsClientAuth(**keys, cert);
  if (st) return st;
  // The client may have rotated its certificate: one refetch, rate-limited per client.
  auto again = jwks_cache_->RefetchForUnknownKid(c.client_id, c.jwks_uri, *keys);
  if (again && *again) return CheckSelfSignedTlsClientAuth(***again, cert);
  return st;
}

// RFC 7523 §3: iss and sub are the client, aud is us, exp is near, and a jti is used once.
// FAPI 2.0 §5.3.2.1: aud is the issuer (the token endpoint is accepted too, RFC 7523 §3, except
// from fapi2 clients), and iat/nbf are at most 60 s ahead.
Status TokenService::VerifyClientAssertion(const Client& c, std::string_view assertion) {
  auto bad = [](std::string why) { return Fail(Error::Status("ERR12007", std::move(why))); };
  std::shared_ptr<const jose::KeySet> keys;
  const bool by_uri = UsesJwksUri(c);
  if (by_uri) {
    if (jwks_cache_ == nullptr) return bad("jwksUri key sets are not enabled here.");
    auto k = jwks_cache_->Keys(c.client_id, c.jwks_uri);
    if (!k) return bad("The client's jwksUri could not be used.");
    keys = std::move(*k);
  } else {
    if (c.jwks.empty()) return bad("The client has no registered jwks.");
    auto parsed = jose::ParseJwks(c.jwks);
    if (!parsed) return bad("The client's jwks cannot be read.");
    keys = std::make_shared<const jose::KeySet>(std::move(*parsed));
  }
  jose::VerifyOptions options;
  options.issuer = c.client_id;
  options.leeway_seconds = settings_.leeway_s;
  // FAPI 2.0 §5.4.1: PS256, ES256 or EdDSA, for what the client signs too; never RS256.
  if (c.IsFapi2()) options.algorithms.assign(kFapi2Algs.begin(), kFapi2Algs.end());
  auto verify = [&](std::shared_ptr<const jose::KeySet> with) {
    return jose::Verifier(std::move(with), options, clock_).Verify(assertion);
  };
  auto v = verify(keys);
  if (!v && by_uri &&
      (v.error().reason == jose::VerifyReason::kUnknownKid ||
       v.error().reason == jose::VerifyReason::kKeyAlgMismatch ||
       v.error().reason == jose::VerifyReason::kBadSignature)) {
    // The client may have rotated its keys: one refetch, rate-limited per client.
    auto again = jwks_cache_->RefetchForUnknownKid(c.client_id, c.jwks_uri, keys);
    if (again && *again) v = verify(**again);
  }
  if (!v && c.IsFapi2() && v.error().reason == jose::VerifyReason::kAlgNotAllowed) {
    return bad("A client of profile fapi2 signs its assertions with PS256, ES256 or EdDSA.");
  }
  if (!v)
    return bad("Invalid client assertion: " + std::string(jose::ReasonName(v.error().reason)));
  const auto& claims = v->payload;
  if (StringClaim(claims, "sub") != c.client_id)
    return bad("The assertion's sub is not the client.");
  // A string, or an array of exactly one: an assertion meant for several audiences could be
  // replayed at the others.
  bool aud_ok = false;
  auto accept = [&](std::string_view a) {
    // RFC 9126 §2: the pushed authorization request endpoint's URL identifies this server too.
    aud_ok = a == settings_.issuer || a == settings_.token_endpoint ||
             a == settings_.issuer + "/oauth2/par";
    // RFC 8705 §5: the same endpoints under the mTLS front's base URL.
    if (!settings_.mtls_base_url.empty()) {
      aud_ok = aud_ok || a == settings_.mtls_base_url + "/oauth2/token" ||
               a == settings_.mtls_base_url + "/oauth2/par";
    }
  };
  if (auto a = claims.if_contains("aud")) {
    if (c.IsFapi2()) {
      // FAPI 2.0 §5.3.2.1 (Final): only the issuer identifier, as a string. An assertion made
      // for another endpoint URL or audience list cannot be replayed at us (audience injection).
      aud_ok = a->is_string() && a->as_string() == settings_.issuer;
    } else {
      if (a->is_string()) accept(a->as_string());
      if (a->is_array() && a->as_array().size() == 1 && a->as_array()[0].is_string()) {
        accept(a->as_array()[0].as_string());
      }
    }
  }
  if (!aud_ok) return bad("The assertion's aud is not this server.");
  std::string jti = StringClaim(claims, "jti");
  auto exp = claims.if_contains("exp");
  int64_t now = clock_.Now();
  if (jti.empty() || !exp || !exp->is_int64()) return bad("The assertion needs jti and exp.");
  if (exp->as_int64() > now + 600) return bad("The assertion lives too long.");
  for (const char* name : {"iat", "nbf"}) {
    // FAPI 2.0 §5.3.2.1: not more than 60 s in the future, whatever token.leeway_s allows.
    auto t = claims.if_contains(name);
    if (t && t->is_number() && t->to_number<double>() > static_cast<double>(now + 60)) {
      return bad(std::string("The assertion's ") + name + " is in the future.");
    }
  }
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
  // FAPI 2.0 §5.3.2.1: no resource owner password credentials, nor any grant that shows the
  // client a password. Registration refuses these grants; this catches rows written around it
  // (imports, direct writes, clients moved to fapi2 by an older version).
  if (c.IsFapi2() && traits.shows_password) {
    return Fail(Error::Status(
        "ERR12024", "The " + std::string(name) + " grant is not allowed with profile fapi2."));
  }
  auto jkt = CheckDpop(r, c, may_block);
  if (!jkt) return Fail(jkt.error());
  const bool bound = !jkt->empty();
  if (c.IsFapi2()) {
    if (auto st = CheckFapi2Token(c, bound, r.client_cert() && !r.client_cert()->der.empty());
        !st) {
      return Fail(st.error());
    }
  }
  GrantContext ctx(grant_deps_, may_block, std::move(*jkt));
  // RFC 8705 §3: a token requested over a connection with a client certificate is bound to it,
  // whatever the client authenticated with; a client registered with
  // tls_client_certificate_bound_access_tokens must present one (§3.4).
  if (r.client_cert() && !r.client_cert()->der.empty()) {
    ctx.BindToCertificate(CertificateThumbprint(r.client_cert()->der));
  } else if (c.tls_bound_tokens) {
    return Fail(Error::OAuth(400, "invalid_request",
                             "This client's tokens are bound to a TLS client certificate; the "
                             "request presented none."));
  }
  auto issued = grant->Issue(ctx, r, c);
  // RFC 9449 §5.1: a DPoP-bound access token is of token_type DPoP.
  if (issued && bound) issued->token_type = "DPoP";
  return issued;
}

Status TokenService::CheckFapi2Token(const Client& c, bool dpop_bound, bool has_certificate) const {
  // FAPI 2.0 §5.3.2.1: only sender-constrained access tokens, by DPoP or mTLS.
  if (!dpop_bound && !has_certificate) {
    return Fail(Error::OAuth(400, "invalid_request",
                             "A client of profile fapi2 gets sender-constrained tokens only: send "
                             "a DPoP proof (RFC 9449) or a TLS client certificate (RFC 8705)."));
  }
  // FAPI 2.0 §5.4.1: PS256, ES256 or EdDSA. Registration refuses fapi2 on an RS256 server; this
  // catches keys.algorithm changed back to RS256 since.
  if (auto alg = keys_.AccessTokenAlg(); alg && *alg == jose::Alg::kRS256) {
    log::Error("token.fapi2_rs256", {{"client_id", c.client_id}});
    return Fail(Error::OAuth(500, "server_error",
                             "This server signs access tokens with RS256 (keys.algorithm), which "
                             "profile fapi2 does not allow."));
  }
  return {};
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
  if (!may_block) return Fail(Error::Internal("DPoP replay check on an I/O thread"));
  return CheckDpopProof(r.dpop_proofs(), settings_.token_endpoint, c);
}

std::vector<jose::Alg> TokenService::ProofAlgorithmsFor(
    std::string_view client_id, const std::vector<jose::Alg>& allowed) const {
  auto c = client_id.empty() ? nullptr : clients_.Find(client_id);
  if (c == nullptr || !c->IsFapi2()) return allowed;
  std::vector<jose::Alg> out;
  for (jose::Alg a : allowed) {
    if (std::find(kFapi2Algs.begin(), kFapi2Algs.end(), a) != kFapi2Algs.end()) out.push_back(a);
  }
  return out;
}

Result<std::string> TokenService::CheckDpopProof(std::span<const std::string> proofs,
                                                 std::string_view uri, const Client& c) {
  std::vector<std::string_view> headers(proofs.begin(), proofs.end());
  // RFC 8705 §5 / RFC 9449 §4.3: a request that came through the mTLS front addressed the
  // endpoint under server.mtls_base_url. Both URLs name this endpoint, and the jti is
  // remembered once for both, so a proof is still used at most once.
  std::string alias;
  if (!settings_.mtls_base_url.empty() && uri.starts_with(settings_.issuer) &&
      uri.size() > settings_.issuer.size() && uri[settings_.issuer.size()] == '/') {
    alias = settings_.mtls_base_url + std::string(uri.substr(settings_.issuer.size()));
  }
  auto proof =
      dpop_.Validate(headers, dpop::Expected{"POST", uri, /*access_token=*/std::nullopt, alias});
  if (!proof) return Fail(proof.error());
  // FAPI 2.0 §5.4.1: a fapi2 client's proofs too, whatever dpop.algorithms allows server-wide.
  // Refused before the jti is remembered: the proof was never accepted.
  if (c.IsFapi2() &&
      std::find(kFapi2Algs.begin(), kFapi2Algs.end(), proof->alg) == kFapi2Algs.end()) {
    return Fail(Error::OAuth(400, std::string(dpop::kInvalidProof),
                             "A client of profile fapi2 signs its DPoP proofs with PS256, ES256 "
                             "or EdDSA."));
  }
  // §11.1: one use per proof, across instances (a unique key in the shared table). Keyed by the
  // proof's key too, so one client's jtis never collide with another key's. One table for every
  // endpoint: a proof's htu names one endpoint anyway.
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
