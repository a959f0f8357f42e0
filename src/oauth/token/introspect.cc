// Introspection (RFC 7662), revocation (RFC 7009), and light-oauth2's deref and signing
// endpoints (reference §6.2, §6.3).

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "oauth/client/client_catalog.h"
#include "oauth/client/validation.h"
#include "oauth/code/code_store.h"
#include "oauth/credentials/secret_hash.h"
#include "oauth/credentials/token_hash.h"
#include "oauth/device/device_store.h"
#include "oauth/refresh/refresh_token_store.h"
#include "oauth/token/claims.h"
#include "oauth/token/token_errors.h"
#include "oauth/token/token_service.h"
#include "store/db.h"

namespace portcullis::oauth {
namespace {

namespace json = boost::json;

std::string Inactive() { return R"({"active":false})"; }

// RFC 7662 §2.2 members from our own access-token claims.
std::string ActiveFromClaims(const json::object& claims) {
  json::object out;
  out["active"] = true;
  for (const char* k : {"iss", "sub", "aud", "exp", "iat", "nbf", "jti", "client_id", "user_id",
                        "user_type", "roles", "act", "cnf"}) {
    if (auto v = claims.if_contains(k)) out[k] = *v;
  }
  if (claims.contains("scope")) out["scope"] = JoinScope(ScopeClaim(claims));

  if (auto v = claims.if_contains("user_id"); v && v->is_string()) out["username"] = *v;
  // RFC 9449 §6.2: a DPoP-bound token says so, with its cnf.jkt (copied above).
  const auto* cnf = claims.if_contains("cnf");
  const bool dpop = cnf && cnf->is_object() && cnf->as_object().contains("jkt");
  out["token_type"] = dpop ? "DPoP" : "Bearer";
  return json::serialize(out);
}

}  // namespace

IntrospectionRequest TokenService::PrepareIntrospection(
    Params params, std::optional<std::string_view> authorization,
    std::shared_ptr<const ClientCertificate> cert) const {
  IntrospectionRequest r{std::move(params), {}, nullptr};
  r.credentials = ReadClientCredentials(authorization, &r.params);
  if (r.credentials) {
    r.credentials->client_cert = std::move(cert);
    // Looked up here, once: the thread choice and the answer both use this snapshot.
    r.client = clients_.Find(r.credentials->client_id);
  }
  return r;
}

GrantNeeds TokenService::IntrospectionNeeds(const IntrospectionRequest& r) const {
  // Unreadable credentials fail before anything blocks (an unknown client too: its refusal
  // costs one keyed digest, as a known one's would).
  if (!r.credentials) return GrantNeeds::kNothing;
  // The assertion's jti replay cache lives in the store.
  if (r.params.Has("client_assertion")) return GrantNeeds::kStore;
  // A legacy PBKDF2 secret is slow to check, and upgraded in the store once it matches.
  if (r.client && IsLegacyPbkdf2(r.client->secret_hash)) return GrantNeeds::kStore;
  // A certificate checked against a jwksUri's keys may need a fetch.
  if (CertificateKeysBlock(r.client.get())) return GrantNeeds::kStore;
  // A JWT is verified in memory; a reference or refresh token is looked up in the store.
  return LooksLikeJwt(r.params.Value("token")) ? GrantNeeds::kNothing : GrantNeeds::kStore;
}

Result<std::string> TokenService::Introspect(const IntrospectionRequest& request, bool may_block) {
  if (!request.credentials) return Fail(request.credentials.error());
  auto client = AuthenticateCaller(*request.credentials, request.client, may_block);
  if (!client) return Fail(client.error());
  const Params& p = request.params;
  // RFC 7662 §2.1 wants the caller authorized, §4 against token scanning: a public client
  // proves nothing by its client_id, so only confidential clients introspect.
  if ((*client)->IsPublic()) {
    return Fail(
        Error::Status("ERR12007", "A public client cannot use the introspection endpoint."));
  }
  std::string_view token = p.Value("token");
  if (token.empty()) return Fail(InvalidRequest("token is required."));
  const int64_t now = clock_.Now();

  auto from_jwt = [&](std::string_view jwt) -> std::string {
    std::shared_ptr<const void> epoch = keys_.Epoch();
    std::string hash = TokenHash(jwt);
    if (auto hit = verified_.Find(hash, epoch.get())) {
      if (hit->exp <= now || revoked_.Contains(hit->jti)) return Inactive();
      return std::move(hit->body);
    }
    auto claims = keys_.Verify(jwt);
    if (!claims) return Inactive();
    auto jti = claims->if_contains("jti");
    if (jti && jti->is_string() && revoked_.Contains(jti->as_string())) return Inactive();
    auto iss = claims->if_contains("iss");
    if (!iss || !iss->is_string() || iss->as_string() != settings_.issuer) return Inactive();
    // Verify already refuses the payload+jwt typ; the audience says the same.
    if (StringClaim(*claims, "aud") == kSignedPayloadAudience) return Inactive();
    std::string body = ActiveFromClaims(*claims);
    auto exp = claims->if_contains("exp");
    if (jti && jti->is_string() && exp && exp->is_int64()) {
      verified_.Put(hash, {body, std::string(jti->as_string()), exp->as_int64(), epoch});
    }
    return body;
  };

  if (LooksLikeJwt(token)) return from_jwt(token);
  // IntrospectionNeeds sent every other token to the store pool.
  if (!may_block) return Fail(Error::Internal("token lookup for introspection on an I/O thread"));

  const std::string hash = TokenHash(token);
  auto ref = stores_.reference_tokens.Find(hash);
  if (!ref) return Fail(ref.error());
  if (*ref && (*ref)->expires_at > now) {
    // A reference token exists so that its JWT stays hidden (reference §4.4): it is described
    // only to its own client and to the one named in derefClientId, as deref would show it.
    const std::string& me = (*client)->client_id;
    if ((*ref)->client_id != me && (*ref)->deref_client_id != me) return Inactive();
    return from_jwt((*ref)->jwt);
  }

  auto rt = stores_.refresh_tokens.Find(hash);
  if (!rt) return Fail(rt.error());
  // A refresh token is only described to the client that holds it.
  if (!*rt || (*rt)->state != "active" || (*rt)->expires_at <= now ||
      (*rt)->client_id != (*client)->client_id) {
    return Inactive();
  }
  const auto& r = **rt;  // a RefreshToken (the name is also a member function here)
  json::object out;
  out["active"] = true;
  out["client_id"] = r.client_id;
  if (!r.user_id.empty()) {
    out["sub"] = r.user_id;
    out["username"] = r.user_id;
  }
  out["scope"] = r.scope;
  out["iat"] = r.created_at;
  out["exp"] = r.expires_at;
  out["iss"] = settings_.issuer;
  out["token_type"] = "refresh_token";
  return json::serialize(out);
}

Result<json::object> TokenService::BearerClaims(std::string_view token) {
  auto invalid = [](std::string why) {
    return Fail(Error::Status("ERR10000", "The access token is not valid.", std::move(why)));
  };
  std::string jwt;
  if (LooksLikeJwt(token)) {
    jwt = std::string(token);
  } else {
    // A reference token (external clients, reference §4.4) stands for its JWT until it expires.
    auto ref = stores_.reference_tokens.Find(TokenHash(token));
    if (!ref) return Fail(ref.error());
    if (!*ref || (*ref)->expires_at <= clock_.Now()) return invalid("unknown reference");
    jwt = std::move((*ref)->jwt);
  }
  auto claims = keys_.Verify(jwt);
  if (!claims) return Fail(claims.error());
  if (StringClaim(*claims, "iss") != settings_.issuer) return invalid("wrong issuer");
  if (StringClaim(*claims, "aud") == kSignedPayloadAudience) return invalid("signed payload");
  std::string jti = StringClaim(*claims, "jti");
  if (!jti.empty() && revoked_.Contains(jti)) return invalid("revoked");
  return std::move(*claims);
}

Status TokenService::Revoke(const Params& p, std::optional<std::string_view> authorization,
                            std::shared_ptr<const ClientCertificate> cert) {
  // RFC 7009 §2.1: a public client may revoke its own tokens, identified by its client_id (its
  // tokens are all that it can touch below).
  auto client = AuthenticateFormClient(p, authorization, std::move(cert));
  if (!client) return Fail(client.error());
  std::string_view token = p.Value("token");
  if (token.empty()) return Fail(InvalidRequest("token is required."));
  const std::string& me = (*client)->client_id;
  const int64_t now = clock_.Now();

  // RFC 7009 §2.2: an unknown or foreign token is not an error; nothing is revealed.
  auto revoke_jwt = [&](std::string_view jwt) -> Status {
    auto claims = keys_.Verify(jwt);
    if (!claims) return {};
    auto cid = claims->if_contains("client_id");
    auto jti = claims->if_contains("jti");
    auto exp = claims->if_contains("exp");
    if (!cid || !cid->is_string() || cid->as_string() != me) return {};
    if (!jti || !jti->is_string() || !exp || !exp->is_int64()) return {};
    return revoked_.Add(jti->as_string(), exp->as_int64());
  };
  if (LooksLikeJwt(token)) return revoke_jwt(token);

  const std::string hash = TokenHash(token);
  auto ref = stores_.reference_tokens.Find(hash);
  if (!ref) return Fail(ref.error());
  if (*ref) {
    if ((*ref)->client_id != me) return {};
    if (auto s = revoke_jwt((*ref)->jwt); !s) return s;
    return stores_.reference_tokens.Delete(hash);
  }
  // Revoking a refresh token revokes its family (RFC 7009 §2.1 allows it; RFC 9700 wants it).
  return db_.Transact("token.revoke_refresh", [&](store::Tx& tx) -> Status {
    auto row = stores_.refresh_tokens.Find(tx, hash);
    if (!row) return Fail(row.error());
    if (!*row || (*row)->client_id != me) return {};
    return stores_.refresh_tokens.RevokeFamily(tx, (*row)->family_id, now);
  });
}

Result<std::string> TokenService::Deref(std::string_view reference,
                                        std::optional<std::string_view> authorization) {
  if (!authorization || authorization->empty()) return Fail(Error::Status("ERR12002"));
  auto creds = ReadClientCredentials(authorization, nullptr);
  if (!creds) return Fail(creds.error());
  auto client = AuthenticateClient(*creds, true);
  if (!client) return Fail(client.error());
  auto row = stores_.reference_tokens.Find(TokenHash(reference));
  if (!row) return Fail(row.error());
  if (!*row || (*row)->expires_at <= clock_.Now()) return Fail(Error::Status("ERR12045"));
  const ReferenceToken& r = **row;
  if (!r.deref_client_id.empty() && r.deref_client_id != (*client)->client_id) {
    return Fail(Error::Status("ERR12044"));
  }
  if (r.jwt.empty()) return Fail(Error::Status("ERR12046"));
  return r.jwt;
}

Result<IssuedToken> TokenService::SignPayload(std::string_view body,
                                              std::optional<std::string_view> authorization,
                                              std::shared_ptr<const ClientCertificate> cert) {
  static constexpr std::string_view kCredentialFields[] = {"client_id", "client_assertion_type",
                                                           "client_assertion"};
  boost::system::error_code ec;
  json::value doc = json::parse(body, ec);
  Result<PresentedCredentials> creds = Fail(Error::Status("ERR11017"));
  if (authorization && !authorization->empty()) {
    creds = ReadClientCredentials(authorization, nullptr);
  } else {
    // private_key_jwt or mTLS: the client's fields ride in the JSON body (this endpoint takes
    // JSON, not a form), read as the token endpoint reads them from its form.
    std::string form;
    if (!ec && doc.is_object()) {
      for (std::string_view name : kCredentialFields) {
        const json::value* v = doc.as_object().if_contains(name);
        if (v && v->is_string()) {
          form += (form.empty() ? "" : "&") + std::string(name) + "=" +
                  PercentEncode(std::string_view(v->as_string()));
        }
      }
    }
    if (form.empty()) {
      return Fail(Error::Status("ERR11017", "The Authorization header is required."));
    }
    auto params = Params::FromForm(form);
    if (!params) return Fail(params.error());
    creds = ReadClientCredentials(std::nullopt, &*params);
  }
  if (!creds) return Fail(creds.error());
  creds->client_cert = std::move(cert);
  auto client = AuthenticateClient(*creds, true);
  if (!client) return Fail(client.error());
  if (creds->method == "none" && (*client)->IsPublic()) {
    // A client id alone authenticates nobody: only a certificate-bound client may omit a secret.
    return Fail(Error::Status("ERR12002"));
  }
  if (ec || !doc.is_object())
    return Fail(Error::Status("ERR11004", "The body must be a JSON object."));
  const auto& o = doc.as_object();
  for (const auto& [k, v] : o) {
    if (k != "expires" && k != "payload" &&
        std::ranges::find(kCredentialFields, std::string_view(k)) == std::end(kCredentialFields)) {
      return Fail(Error::Status("ERR11004", "Unknown field " + std::string(k).substr(0, 64) + "."));
    }
  }
  auto expires = o.if_contains("expires");
  auto payload = o.if_contains("payload");
  if (!expires || !expires->is_int64() || !payload || !payload->is_object()) {
    return Fail(
        Error::Status("ERR11004", "expires (integer seconds) and payload (object) are required."));
  }
  int64_t ttl = expires->as_int64();
  if (ttl < 1 || ttl > 30 * 86400) {
    return Fail(Error::Status("ERR11004", "expires must be between 1 and 2592000 seconds."));
  }
  const int64_t now = clock_.Now();
  json::object claims;
  claims["iss"] = settings_.issuer;
  // Not an access token: its own audience and typ, so no resource server or verifier of ours
  // takes it for one (README "Signed payloads").
  claims["aud"] = kSignedPayloadAudience;
  claims["exp"] = now + ttl;
  claims["jti"] = random_.Token(16);
  claims["iat"] = now;
  claims["nbf"] = now - 120;
  claims["version"] = "1.0";
  claims["client_id"] = (*client)->client_id;
  for (const auto& [k, v] : payload->as_object()) {
    if (!IsReservedClaim(k)) claims[k] = v;
  }
  auto jwt = keys_.Sign(json::serialize(claims), kSignedPayloadTyp);
  if (!jwt) return Fail(jwt.error());
  IssuedToken out;
  out.access_token = std::move(*jwt);
  out.expires_in = ttl;
  return out;
}

Status TokenService::Purge() {
  const int64_t now = clock_.Now();
  // Deny-list and jti rows stay until no verifier would accept their token or assertion: exp
  // plus the largest leeway in use. Dropped at exp, a revoked token would verify again, and a
  // used assertion be accepted again, for the rest of the leeway.
  const int64_t retention = std::max(DenyListRetention(settings_.leeway_s), revoked_.retention_s());
  return db_.Transact("token.purge", [&](store::Tx& tx) -> Status {
    // Consumed codes are kept past expiry so a late replay is still recognised.
    if (auto s = stores_.codes.PurgeExpired(tx, now - kCodeReplayWindow); !s) return s;
    if (auto s = stores_.refresh_tokens.PurgeExpired(tx, now); !s) return s;
    if (auto s = stores_.reference_tokens.PurgeExpired(tx, now); !s) return s;
    // Device grants (RFC 8628), kept like codes so a late replay is still told apart.
    if (stores_.devices != nullptr) {
      if (auto s = stores_.devices->PurgeExpired(tx, now - kCodeReplayWindow); !s) return s;
    }
    if (auto s = revoked_.PurgeStore(tx, now - retention); !s) return s;
    return stores_.assertion_jtis.PurgeExpired(tx, now - retention);
  });
}

}  // namespace portcullis::oauth
