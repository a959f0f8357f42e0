// Introspection (RFC 7662), revocation (RFC 7009), and light-oauth2's deref and signing
// endpoints (reference §6.2, §6.3).

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "oauth/client/client_catalog.h"
#include "oauth/client/validation.h"
#include "oauth/credentials/token_hash.h"
#include "oauth/token/claims.h"
#include "oauth/token/token_errors.h"
#include "oauth/token/token_service.h"
#include "store/db.h"

namespace portcullis::oauth {
namespace {

namespace json = boost::json;
using store::Int;
using store::Text;

std::string Inactive() { return R"({"active":false})"; }

// RFC 7662 §2.2 members from our own access-token claims.
std::string ActiveFromClaims(const json::object& claims) {
  json::object out;
  out["active"] = true;
  for (const char* k : {"iss", "sub", "aud", "exp", "iat", "nbf", "jti", "client_id", "user_id",
                        "user_type", "roles", "act"}) {
    if (auto v = claims.if_contains(k)) out[k] = *v;
  }
  if (claims.contains("scope")) out["scope"] = JoinScope(ScopeClaim(claims));

  if (auto v = claims.if_contains("user_id"); v && v->is_string()) out["username"] = *v;
  out["token_type"] = "Bearer";
  return json::serialize(out);
}

}  // namespace

Result<std::string> TokenService::Introspect(const Params& p,
                                             std::optional<std::string_view> authorization) {
  auto creds = ReadClientCredentials(authorization, &p);
  if (!creds) return Fail(creds.error());
  auto client = AuthenticateCaller(*creds);
  if (!client) return Fail(client.error());
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

  auto ref = db_.QueryRow(
      "SELECT jwt, client_id, deref_client_id FROM reference_tokens"
      " WHERE token_hash = $1 AND expires_at > $2",
      {Text(TokenHash(token)), Int(now)});
  if (!ref) return Fail(ref.error());
  if (*ref) {
    // A reference token exists so that its JWT stays hidden (reference §4.4): it is described
    // only to its own client and to the one named in derefClientId, as deref would show it.
    const std::string& me = (*client)->client_id;
    if ((*ref)->Str(1) != me && (*ref)->Str(2) != me) return Inactive();
    return from_jwt((*ref)->Str(0));
  }

  auto rt = db_.QueryRow(
      "SELECT client_id, user_id, scope, created_at, expires_at FROM refresh_tokens"
      " WHERE token_hash = $1 AND state = 'active' AND expires_at > $2",
      {Text(TokenHash(token)), Int(now)});
  if (!rt) return Fail(rt.error());
  // A refresh token is only described to the client that holds it.
  if (!*rt || (*rt)->Str(0) != (*client)->client_id) return Inactive();
  json::object out;
  out["active"] = true;
  out["client_id"] = (*rt)->Str(0);
  if (!(*rt)->Str(1).empty()) {
    out["sub"] = (*rt)->Str(1);
    out["username"] = (*rt)->Str(1);
  }
  out["scope"] = (*rt)->Str(2);
  out["iat"] = (*rt)->Int(3);
  out["exp"] = (*rt)->Int(4);
  out["iss"] = settings_.issuer;
  out["token_type"] = "refresh_token";
  return json::serialize(out);
}

Status TokenService::Revoke(const Params& p, std::optional<std::string_view> authorization) {
  auto creds = ReadClientCredentials(authorization, &p);
  if (!creds) return Fail(creds.error());
  // RFC 7009 §2.1: a public client may revoke its own tokens, identified by its client_id (its
  // tokens are all that it can touch below).
  auto client = AuthenticateCaller(*creds);
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
  auto ref = db_.QueryRow("SELECT jwt, client_id FROM reference_tokens WHERE token_hash = $1",
                          {Text(hash)});
  if (!ref) return Fail(ref.error());
  if (*ref) {
    if ((*ref)->Str(1) != me) return {};
    if (auto s = revoke_jwt((*ref)->Str(0)); !s) return s;
    auto n = db_.Exec("DELETE FROM reference_tokens WHERE token_hash = $1", {Text(hash)});
    if (!n) return Fail(n.error());
    return {};
  }
  // Revoking a refresh token revokes its family (RFC 7009 §2.1 allows it; RFC 9700 wants it).
  return db_.Transact("token.revoke_refresh", [&](store::Tx& tx) -> Status {
    auto row = tx.QueryRow("SELECT family_id, client_id FROM refresh_tokens WHERE token_hash = $1",
                           {Text(hash)});
    if (!row) return Fail(row.error());
    if (!*row || (*row)->Str(1) != me) return {};
    auto n = tx.Exec(
        "UPDATE refresh_tokens SET state = 'revoked', rotated_at = COALESCE(rotated_at, $2)"
        " WHERE family_id = $1 AND state <> 'revoked'",
        {Text((*row)->Str(0)), Int(now)});
    if (!n) return Fail(n.error());
    return {};
  });
}

Result<std::string> TokenService::Deref(std::string_view reference,
                                        std::optional<std::string_view> authorization) {
  if (!authorization || authorization->empty()) return Fail(Error::Status("ERR12002"));
  auto creds = ReadClientCredentials(authorization, nullptr);
  if (!creds) return Fail(creds.error());
  auto client = AuthenticateClient(*creds, true);
  if (!client) return Fail(client.error());
  auto row = db_.QueryRow(
      "SELECT jwt, deref_client_id FROM reference_tokens WHERE token_hash = $1 AND expires_at > $2",
      {Text(TokenHash(reference)), Int(clock_.Now())});
  if (!row) return Fail(row.error());
  if (!*row) return Fail(Error::Status("ERR12045"));
  if (!(*row)->Str(1).empty() && (*row)->Str(1) != (*client)->client_id) {
    return Fail(Error::Status("ERR12044"));
  }
  if ((*row)->Str(0).empty()) return Fail(Error::Status("ERR12046"));
  return (*row)->Str(0);
}

Result<IssuedToken> TokenService::SignPayload(std::string_view body,
                                              std::optional<std::string_view> authorization) {
  if (!authorization || authorization->empty()) {
    return Fail(Error::Status("ERR11017", "The Authorization header is required."));
  }
  auto creds = ReadClientCredentials(authorization, nullptr);
  if (!creds) return Fail(creds.error());
  auto client = AuthenticateClient(*creds, true);
  if (!client) return Fail(client.error());
  boost::system::error_code ec;
  json::value doc = json::parse(body, ec);
  if (ec || !doc.is_object())
    return Fail(Error::Status("ERR11004", "The body must be a JSON object."));
  const auto& o = doc.as_object();
  for (const auto& [k, v] : o) {
    if (k != "expires" && k != "payload") {
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
    // Consumed codes are kept an hour past expiry so a late replay is still recognised.
    for (const char* sql : {"DELETE FROM auth_codes WHERE expires_at < $1 - 3600",
                            "DELETE FROM refresh_tokens WHERE expires_at < $1",
                            "DELETE FROM reference_tokens WHERE expires_at < $1"}) {
      auto n = tx.Exec(sql, {Int(now)});
      if (!n) return Fail(n.error());
    }
    for (const char* sql : {"DELETE FROM revoked_tokens WHERE expires_at < $1",
                            "DELETE FROM client_assertion_jtis WHERE expires_at < $1"}) {
      auto n = tx.Exec(sql, {Int(now - retention)});
      if (!n) return Fail(n.error());
    }
    return {};
  });
}

}  // namespace portcullis::oauth
