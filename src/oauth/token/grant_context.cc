// The helpers every grant shares: scope, target, minting and delivery of access tokens.

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "common/log.h"
#include "oauth/client/validation.h"
#include "oauth/credentials/token_hash.h"
#include "oauth/token/grant.h"
#include "oauth/token/json_writer.h"
#include "oauth/token/token_errors.h"
#include "oauth/token/token_service.h"
#include "store/db.h"

namespace portcullis::oauth {
namespace {

namespace json = boost::json;

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

std::string ClaimsJson(const Client& c, const TokenSubject& subject,
                       const std::vector<std::string>& scope, const std::string& audience,
                       int64_t now, const MintedToken& m, const std::string& issuer,
                       const std::string& dpop_jkt, const std::string& x5t_s256) {
  // The members, order and values of the general path in Mint below for an empty `extra`,
  // written straight into one string (token endpoint hot path; grants_test compares the two).
  const bool light = c.token_profile == TokenProfile::kLight4j;
  JsonObjectWriter w(384 + audience.size() + c.client_id.size());
  w.String("iss", issuer);
  if (!light) {
    w.String("sub", !subject.sub.empty() ? subject.sub
                    : subject.is_user    ? subject.user_id
                                         : c.client_id);
  }
  w.String("aud", audience);
  w.Int("exp", m.exp);
  w.Int("iat", now);
  w.String("jti", m.jti);
  if (light) {
    w.Int("nbf", now - 120);
    w.String("version", "1.0");
  }
  w.String("client_id", c.client_id);
  const bool user_type = subject.is_user && !subject.user_type.empty();
  if (subject.is_user) {
    w.String("user_id", subject.user_id);
    if (user_type) w.String("user_type", subject.user_type);
  }
  if (!scope.empty()) {
    if (light) {
      w.StringArray("scope", scope);
    } else {
      w.String("scope", JoinScope(scope));
    }
  }
  const bool roles = subject.is_user && !subject.roles.empty();
  if (roles) w.String("roles", subject.roles);
  const bool realm = subject.is_user && subject.user_source.starts_with(kAuthenticatorSourcePrefix);
  if (realm) {
    w.String(kUserRealmClaim,
             std::string_view(subject.user_source).substr(kAuthenticatorSourcePrefix.size()));
  }
  const bool cnf = !dpop_jkt.empty() || !x5t_s256.empty();
  if (cnf) {
    w.BeginObject("cnf");
    if (!dpop_jkt.empty()) w.String("jkt", dpop_jkt);
    if (!x5t_s256.empty()) w.String("x5t#S256", x5t_s256);
    w.EndObject();
  }
  if (!c.custom_claims.empty()) {
    auto written = [&](std::string_view k) {
      return k == "iss" || (k == "sub" && !light) || k == "aud" || k == "exp" || k == "iat" ||
             k == "jti" || ((k == "nbf" || k == "version") && light) || k == "client_id" ||
             (k == "user_id" && subject.is_user) || (k == "user_type" && user_type) ||
             (k == "scope" && !scope.empty()) || (k == "roles" && roles) ||
             (k == kUserRealmClaim && realm) || (k == "cnf" && cnf);
    };
    for (const auto& [k, v] : c.custom_claims) {
      if (!written(k)) w.Value(k, v);
    }
  }
  return std::move(w).Finish();
}

}  // namespace

std::string_view NeedsName(GrantNeeds n) {
  switch (n) {
    case GrantNeeds::kNothing:
      return "nothing";
    case GrantNeeds::kStore:
      return "store";
    case GrantNeeds::kSlowHash:
      return "slow_hash";
  }
  return "?";
}

Status GrantContext::Blocking(std::string_view what) const {
  if (may_block_) return {};
  // A grant reached the store or a slow hash on an I/O thread: its Needs() is wrong for this
  // request. Refused, so the mistake shows in tests instead of stalling an I/O thread.
  log::Error("token.blocking_on_io_thread", {{"what", what}});
  return Fail(Error::Internal(std::string(what) + " on an I/O thread"));
}

Result<GrantContext::StoreAccess> GrantContext::Store(std::string_view what) const {
  if (auto s = Blocking(what); !s) return Fail(s.error());
  return StoreAccess{deps_.db, deps_.stores, deps_.lookups};
}

Result<UserAuthenticator*> GrantContext::Users(std::string_view what) const {
  if (auto s = Blocking(what); !s) return Fail(s.error());
  return &deps_.users;
}

Result<PasswordLogins*> GrantContext::Logins(std::string_view what) const {
  if (auto s = Blocking(what); !s) return Fail(s.error());
  return deps_.password_logins;
}

Result<std::vector<std::string>> GrantContext::GrantedScope(
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

std::string GrantContext::DefaultAudience() const {
  const TokenSettings& s = deps_.settings;
  return s.default_audience.empty() ? s.issuer : s.default_audience;
}

Result<TokenTarget> GrantContext::ResolveTarget(const TokenRequest& r) const {
  // RFC 8707 resource / RFC 8693 audience name the target; it must be one of our services.
  TokenTarget t;
  std::string_view target = r.resource().value_or("");
  if (target.empty()) target = r.audience().value_or("");
  if (target.empty()) {
    t.audience = DefaultAudience();
    return t;
  }
  auto db = Store("target lookup");
  if (!db) return Fail(db.error());
  // What the service defines: the scopes its endpoints declare (service registry).
  auto scopes = db->lookups.ServiceScopes(target);
  if (!scopes) return Fail(scopes.error());
  if (!*scopes) return Fail(InvalidTarget("Unknown resource or audience."));
  t.audience = std::string(target);
  t.scopes = std::move(**scopes);
  return t;
}

Result<std::vector<std::string>> GrantContext::NarrowToTarget(const TokenTarget& t,
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

int64_t GrantContext::TtlFor(const Client& c) const {
  return c.access_token_ttl.value_or(deps_.settings.access_token_ttl);
}

Result<MintedToken> GrantContext::Mint(const Client& c, const TokenSubject& subject,
                                       const std::vector<std::string>& scope,
                                       const std::string& audience, int64_t ttl,
                                       const json::object& extra) const {
  int64_t now = deps_.clock.Now();
  MintedToken m;
  m.jti = deps_.random.Token(16);
  m.exp = now + ttl;
  bool light = c.token_profile == TokenProfile::kLight4j;
  if (extra.empty()) {
    auto jwt = deps_.keys.Sign(ClaimsJson(c, subject, scope, audience, now, m,
                                          deps_.settings.issuer, dpop_jkt_, x5t_s256_),
                               light ? "JWT" : "at+jwt");
    if (!jwt) return Fail(jwt.error());
    m.jwt = std::move(*jwt);
    return m;
  }
  json::object claims;
  claims["iss"] = deps_.settings.issuer;
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
  for (const auto& [k, v] : extra) claims[k] = v;
  // A user signed in by a configured authenticator (LDAP) names its realm, so that the userinfo
  // endpoint never answers from the user store's same-named account (set after `extra`, and
  // reserved from custom claims, so nothing can forge or override it).
  if (subject.is_user && subject.user_source.starts_with(kAuthenticatorSourcePrefix)) {
    claims[kUserRealmClaim] = subject.user_source.substr(kAuthenticatorSourcePrefix.size());
  }
  // Sender constraints (set after `extra`, so nothing can override them): the DPoP key (RFC 9449
  // §6.1) and the TLS client certificate (RFC 8705 §3.1).
  if (!dpop_jkt_.empty() || !x5t_s256_.empty()) {
    json::object cnf;
    if (!dpop_jkt_.empty()) cnf["jkt"] = dpop_jkt_;
    if (!x5t_s256_.empty()) cnf["x5t#S256"] = x5t_s256_;
    claims["cnf"] = std::move(cnf);
  }
  // Parsed, without reserved names, when the catalog built the snapshot (Client::custom_claims).
  for (const auto& [k, v] : c.custom_claims) {
    if (!claims.contains(k)) claims[k] = v;
  }
  auto jwt = deps_.keys.Sign(json::serialize(claims), light ? "JWT" : "at+jwt");
  if (!jwt) return Fail(jwt.error());
  m.jwt = std::move(*jwt);
  return m;
}

Result<std::string> GrantContext::Deliver(const Client& c, const MintedToken& m,
                                          store::Tx* tx) const {
  if (!c.IsExternal()) return m.jwt;
  // External clients never see the JWT: they get a reference resolved by /oauth2/deref
  // (reference §4.4, §6.2), which expires with the JWT (§18.4).
  auto st = Store("reference token");
  if (!st) return Fail(st.error());
  std::string reference = deps_.random.Token(24);
  ReferenceToken row{TokenHash(reference), m.jwt, c.client_id, c.deref_client_id, m.exp};
  auto n =
      tx ? st->stores.reference_tokens.Insert(*tx, row) : st->stores.reference_tokens.Insert(row);
  if (!n) return Fail(n.error());
  return reference;
}

}  // namespace portcullis::oauth
