// The grants that read or write the store. Each runs in one transaction with one winner
// (ARCHITECTURE.md "Writes are single transactions"). Failures found after a code or refresh
// token was consumed are returned only after the transaction commits, so a failed attempt
// still burns the credential: a guessed PKCE verifier or redirect URI gets one try.

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "common/log.h"
#include "oauth/client/client_catalog.h"
#include "oauth/client/validation.h"
#include "oauth/credentials/token_hash.h"
#include "oauth/token/claims.h"
#include "oauth/token/pkce.h"
#include "oauth/token/token_errors.h"
#include "oauth/token/token_service.h"
#include "oauth/token/user_scope.h"
#include "store/db.h"

namespace portcullis::oauth {
namespace {

namespace json = boost::json;
using store::Int;
using store::Null;
using store::Text;

std::string DefaultAudience(const TokenSettings& s) {
  return s.default_audience.empty() ? s.issuer : s.default_audience;
}

// Stores a refresh token for a user, hashed; returns the clear value.
Result<std::string> InsertRefresh(store::Tx& tx, Random& random, int64_t now, int64_t ttl,
                                  const Client& c, std::string_view user_id,
                                  std::string_view user_type, std::string_view roles,
                                  std::string_view user_source,
                                  const std::vector<std::string>& scope, std::string_view remember,
                                  std::string_view family, std::string_view parent_hash) {
  std::string token = random.Token(32);
  auto n = tx.Exec(
      "INSERT INTO refresh_tokens (token_hash, family_id, client_id, user_id, user_type, roles,"
      " scope, remember, state, parent_hash, created_at, expires_at, user_source)"
      " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'active', $9, $10, $11, $12)",
      {Text(TokenHash(token)), Text(family), Text(c.client_id), Text(user_id), Text(user_type),
       Text(roles), Text(JoinScope(scope)), Text(remember == "Y" ? "Y" : "N"),
       parent_hash.empty() ? Null() : Text(parent_hash), Int(now), Int(now + ttl),
       user_source.empty() ? Null() : Text(user_source)});
  if (!n) return Fail(n.error());
  return token;
}

// Reads the user behind a code or refresh token again, so that what is issued now carries what
// the user store says now: a role cut since stays cut, and a deleted or locked account gets
// nothing. False when the grant is void. A user asserted by a trusted client
// (client_authenticated_user) is not in the store and keeps what the client asserted; a row
// from before user_source was recorded is read again when the store has the user.
Result<bool> ReadUserAgain(store::Tx& tx, std::string_view source, std::string_view user_id,
                           std::string& user_type, std::string& roles) {
  if (user_id.empty() || source == "client") return true;
  auto row =
      tx.QueryRow("SELECT user_type, roles, locked FROM users WHERE user_id = $1", {Text(user_id)});
  if (!row) return Fail(row.error());
  if (!*row) return source != "users";
  if ((*row)->Int(2) != 0) return false;
  user_type = (*row)->Str(0);
  roles = (*row)->Str(1);
  return true;
}

// The scopes of `granted` that the client may still have: a scope cut from the client since
// the grant is cut from what the grant yields (RFC 6749 §6: never more than the original grant;
// never more than the client is allowed now).
std::vector<std::string> StillAllowed(const std::vector<std::string>& granted, const Client& c) {
  std::vector<std::string> out;
  for (const auto& s : granted) {
    if (c.HasScope(s)) out.push_back(s);
  }
  return out;
}

Status RevokeFamily(store::Tx& tx, std::string_view family) {
  auto n = tx.Exec(
      "UPDATE refresh_tokens SET state = 'revoked' WHERE family_id = $1 AND state <> 'revoked'",
      {Text(family)});
  if (!n) return Fail(n.error());
  return {};
}

}  // namespace

Result<IssuedToken> TokenService::AuthorizationCode(const Params& p, const Client& c) {
  std::string_view code = p.Value("code");
  if (code.empty()) return Fail(InvalidGrant("ERR12052", "code is required."));
  // The resource is resolved before the code is consumed: an unknown one burns nothing.
  auto target = ResolveTarget(p);
  if (!target) return Fail(target.error());
  const std::string code_hash = TokenHash(code);
  const int64_t now = clock_.Now();
  std::optional<Error> outcome;
  std::optional<std::pair<std::string, int64_t>> revoke_jti;
  IssuedToken out;

  auto s = db_.Transact("token.authorization_code", [&](store::Tx& tx) -> Status {
    // One winner: the first redemption marks the code consumed (RFC 6749 §4.1.2).
    auto row = tx.QueryRow(
        "UPDATE auth_codes SET consumed_at = $3"
        " WHERE code_hash = $1 AND client_id = $2 AND consumed_at IS NULL AND expires_at > $3"
        " RETURNING user_id, user_type, roles, scope, redirect_uri, code_challenge,"
        " code_challenge_method, nonce, remember, family_id",
        {Text(code_hash), Text(c.client_id), Int(now)});
    if (!row) return Fail(row.error());
    if (!*row) {
      auto seen = tx.QueryRow(
          "SELECT client_id, consumed_at, expires_at, family_id, access_jti, access_exp"
          " FROM auth_codes WHERE code_hash = $1",
          {Text(code_hash)});
      if (!seen) return Fail(seen.error());
      if (!*seen) {
        outcome = InvalidGrant("ERR12052", "The authorization code is not found.");
      } else if ((*seen)->Str(0) != c.client_id) {
        // Bound to its client (RFC 6749 §4.1.3); another client cannot burn it either.
        outcome = InvalidGrant("ERR12028", "The code was issued to another client.");
      } else if (!(*seen)->IsNull(1)) {
        // Replay: revoke what the first redemption issued (RFC 6749 §4.1.2, RFC 9700 §4.5).
        outcome = InvalidGrant("ERR12052",
                               "The code was already used; tokens issued from it are revoked.");
        if (auto r = RevokeFamily(tx, (*seen)->Str(3)); !r) return r;
        if (!(*seen)->IsNull(4)) revoke_jti.emplace((*seen)->Str(4), (*seen)->Int(5));
        log::Warn("token.code_replay", {{"client_id", c.client_id}});
      } else {
        outcome = InvalidGrant("ERR12052", "The code has expired.");
      }
      return {};
    }
    const auto& r = **row;
    std::string_view redirect = p.Value("redirect_uri");
    if (!r.Str(4).empty()) {
      if (redirect.empty()) {
        outcome = Error::Status("ERR12025");
        return {};
      }
      if (redirect != r.Str(4)) {
        outcome = Error::Status("ERR12026");
        return {};
      }
    }
    if (!r.Str(5).empty()) {
      if (auto v = CheckCodeVerifier(p.Value("code_verifier"), r.Str(5), r.Str(6)); !v) {
        outcome = v.error();
        return {};
      }
    } else if (p.Has("code_verifier")) {
      // A verifier for a code issued without a challenge is a downgrade attempt (RFC 9700).
      outcome = InvalidGrant("ERR12041", "The code was issued without a code_challenge.");
      return {};
    }
    Subject subject{r.Str(0), r.Str(1), r.Str(2), true};
    // The code service signs users in from the user store unless the client names another
    // authenticator (light-oauth2's authenticate_class), whose users the store may not hold:
    // those are read again only when the store has them.
    subject.user_source = c.authenticate_class.empty() ? "users" : "";
    auto current =
        ReadUserAgain(tx, subject.user_source, subject.user_id, subject.user_type, subject.roles);
    if (!current) return Fail(current.error());
    if (!*current) {
      outcome = InvalidGrant("ERR12052", "The user may no longer sign in.");
      return {};
    }
    std::vector<std::string> scope = SplitScope(r.Str(3));
    if (scope.empty()) scope = c.scope;
    scope = StillAllowed(scope, c);
    scope = ScopeForUser(scope, subject.roles);
    // The refresh token keeps the consented scope; the access token is for the resource.
    auto access_scope = NarrowToTarget(*target, scope, false);
    if (!access_scope) {
      outcome = access_scope.error();
      return {};
    }
    json::object extra;
    if (p.Has("csrf")) extra["csrf"] = std::string(p.Value("csrf"));
    if (!r.Str(7).empty()) extra["nonce"] = r.Str(7);
    int64_t ttl = TtlFor(c);
    auto m = Mint(c, subject, *access_scope, target->audience, ttl, extra);
    if (!m) return Fail(m.error());
    std::string family = r.Str(9).empty() ? random_.Token(16) : r.Str(9);
    auto refresh = InsertRefresh(tx, random_, now, settings_.refresh_token_ttl, c, subject.user_id,
                                 subject.user_type, subject.roles, subject.user_source, scope,
                                 r.Str(8), family, "");
    if (!refresh) return Fail(refresh.error());
    auto n = tx.Exec(
        "UPDATE auth_codes SET access_jti = $2, access_exp = $3, family_id = $4"
        " WHERE code_hash = $1",
        {Text(code_hash), Text(m->jti), Int(m->exp), Text(family)});
    if (!n) return Fail(n.error());
    auto token = Deliver(c, *m, &tx);
    if (!token) return Fail(token.error());
    out.access_token = std::move(*token);
    out.expires_in = ttl;
    out.refresh_token = std::move(*refresh);
    out.scope = JoinScope(*access_scope);
    out.remember = r.Str(8).empty() ? "N" : r.Str(8);
    return {};
  });
  if (!s) return Fail(s.error());
  if (revoke_jti) {
    if (auto r = revoked_.Add(revoke_jti->first, revoke_jti->second); !r) return Fail(r.error());
  }
  if (outcome) return Fail(*outcome);
  return out;
}

Result<IssuedToken> TokenService::RefreshToken(const Params& p, const Client& c) {
  std::string_view presented = p.Value("refresh_token");
  if (presented.empty()) return Fail(InvalidGrant("ERR12029", "refresh_token is required."));
  auto target = ResolveTarget(p);
  if (!target) return Fail(target.error());
  const std::string hash = TokenHash(presented);
  const int64_t now = clock_.Now();
  std::optional<Error> outcome;
  IssuedToken out;

  auto s = db_.Transact("token.refresh_token", [&](store::Tx& tx) -> Status {
    auto row = tx.QueryRow(
        "SELECT client_id, state, expires_at, family_id, user_id, user_type, roles, scope,"
        " remember, user_source FROM refresh_tokens WHERE token_hash = $1",
        {Text(hash)});
    if (!row) return Fail(row.error());
    if (!*row) {
      outcome = InvalidGrant("ERR12029", "The refresh token is not found.");
      return {};
    }
    const auto& r = **row;
    // Checked before anything changes, so another client cannot destroy the token (§18.3).
    if (r.Str(0) != c.client_id) {
      outcome = Error::Status("ERR12028");
      return {};
    }
    if (r.Str(1) != "active") {
      // A rotated token presented again means it leaked: revoke its family (RFC 9700 §4.14.2).
      if (r.Str(1) == "rotated") {
        log::Warn("token.refresh_reuse", {{"client_id", c.client_id}});
        if (auto v = RevokeFamily(tx, r.Str(3)); !v) return v;
      }
      outcome = InvalidGrant("ERR12029", "The refresh token is no longer valid.");
      return {};
    }
    if (r.Int(2) <= now) {
      outcome = InvalidGrant("ERR12029", "The refresh token has expired.");
      return {};
    }
    // Rights once cut stay cut: the user's type and roles come from the user store as it is
    // now, and the scope is what was granted and the client may still have. The new refresh
    // token stores the cut values, so a later widening of the client does not bring them back.
    Subject subject{r.Str(4), r.Str(5), r.Str(6), !r.Str(4).empty()};
    subject.user_source = r.Str(9);
    auto current =
        ReadUserAgain(tx, subject.user_source, subject.user_id, subject.user_type, subject.roles);
    if (!current) return Fail(current.error());
    if (!*current) {
      if (auto v = RevokeFamily(tx, r.Str(3)); !v) return v;
      outcome = InvalidGrant("ERR12029", "The user may no longer sign in.");
      return {};
    }
    const auto previous = SplitScope(r.Str(7));
    const auto allowed = StillAllowed(previous, c);
    if (allowed.empty() && !previous.empty()) {
      outcome =
          InvalidGrant("ERR12029", "None of the token's scopes is still allowed for the client.");
      return {};
    }
    auto granted = GrantedScope(p.Value("scope"), allowed);
    if (!granted) {
      outcome = granted.error();
      return {};
    }
    // subject.roles is current here, so the role rule sees today's roles.
    if (subject.is_user) *granted = ScopeForUser(*granted, subject.roles);
    // Checked before rotation, so a wrong resource does not cost the client its token.
    auto scope = NarrowToTarget(*target, std::move(*granted), ScopeRequested(p));
    if (!scope) {
      outcome = scope.error();
      return {};
    }
    // The single winner of concurrent rotations: only one UPDATE finds the row active.
    auto n = tx.Exec(
        "UPDATE refresh_tokens SET state = 'rotated', rotated_at = $2"
        " WHERE token_hash = $1 AND state = 'active'",
        {Text(hash), Int(now)});
    if (!n) return Fail(n.error());
    if (*n != 1) {
      if (auto v = RevokeFamily(tx, r.Str(3)); !v) return v;
      outcome = InvalidGrant("ERR12029", "The refresh token is no longer valid.");
      return {};
    }
    json::object extra;
    if (p.Has("csrf")) extra["csrf"] = std::string(p.Value("csrf"));
    int64_t ttl = TtlFor(c);
    auto m = Mint(c, subject, *scope, target->audience, ttl, extra);
    if (!m) return Fail(m.error());
    auto refresh = InsertRefresh(tx, random_, now, settings_.refresh_token_ttl, c, subject.user_id,
                                 subject.user_type, subject.roles, subject.user_source, allowed,
                                 r.Str(8), r.Str(3), hash);
    if (!refresh) return Fail(refresh.error());
    auto token = Deliver(c, *m, &tx);
    if (!token) return Fail(token.error());
    out.access_token = std::move(*token);
    out.expires_in = ttl;
    out.refresh_token = std::move(*refresh);
    out.scope = JoinScope(*scope);
    out.remember = r.Str(8).empty() ? "N" : r.Str(8);
    return {};
  });
  if (!s) return Fail(s.error());
  if (outcome) return Fail(*outcome);
  return out;
}

// Issues an access token and a refresh token for a user (password and
// client_authenticated_user grants).
Result<IssuedToken> TokenService::IssueForUser(const Client& c, const Subject& subject,
                                               const std::vector<std::string>& requested,
                                               const Params& p, const json::object& extra) {
  const std::vector<std::string> scope = ScopeForUser(requested, subject.roles);
  auto target = ResolveTarget(p);
  if (!target) return Fail(target.error());
  auto access_scope = NarrowToTarget(*target, scope, ScopeRequested(p));
  if (!access_scope) return Fail(access_scope.error());
  const int64_t now = clock_.Now();
  int64_t ttl = TtlFor(c);
  auto m = Mint(c, subject, *access_scope, target->audience, ttl, extra);
  if (!m) return Fail(m.error());
  IssuedToken out;
  auto s = db_.Transact("token.issue_user", [&](store::Tx& tx) -> Status {
    auto refresh = InsertRefresh(tx, random_, now, settings_.refresh_token_ttl, c, subject.user_id,
                                 subject.user_type, subject.roles, subject.user_source, scope, "N",
                                 random_.Token(16), "");
    if (!refresh) return Fail(refresh.error());
    auto token = Deliver(c, *m, &tx);
    if (!token) return Fail(token.error());
    out.access_token = std::move(*token);
    out.refresh_token = std::move(*refresh);
    return {};
  });
  if (!s) return Fail(s.error());
  out.expires_in = ttl;
  out.scope = JoinScope(*access_scope);
  out.remember = "N";
  return out;
}

Result<IssuedToken> TokenService::Password(const Params& p, const Client& c,
                                           std::string_view remote_ip) {
  if (p.Value("username").empty()) return Fail(Error::Status("ERR12022"));
  if (p.Value("password").empty()) return Fail(Error::Status("ERR12023"));
  if (!c.IsTrusted()) return Fail(Error::Status("ERR12024"));
  auto scope = GrantedScope(p.Value("scope"), c.scope);
  if (!scope) return Fail(scope.error());
  auto user = users_.AuthenticateFrom(p.Value("username"), p.Value("password"), remote_ip);
  if (!user) return Fail(user.error());
  // Type and roles come from the user store, never from the request (reference §18.3).
  Subject subject{user->user_id, user->user_type, user->roles, true};
  subject.user_source = "users";
  return IssueForUser(c, subject, *scope, p, {});
}

Result<IssuedToken> TokenService::ClientAuthenticatedUser(const Params& p, const Client& c) {
  if (!c.IsTrusted()) return Fail(Error::Status("ERR12024"));
  auto scope = GrantedScope(p.Value("scope"), c.scope);
  if (!scope) return Fail(scope.error());
  if (p.Value("userId").empty()) return Fail(Error::Status("ERR12031"));
  if (p.Value("userType").empty()) return Fail(Error::Status("ERR12032"));
  // Remaining fields become claims (reference §6.1), reserved names excepted.
  static constexpr std::string_view kConsumed[] = {"grant_type",
                                                   "scope",
                                                   "userId",
                                                   "userType",
                                                   "roles",
                                                   "client_id",
                                                   "client_secret",
                                                   "client_assertion",
                                                   "client_assertion_type",
                                                   "resource",
                                                   "audience"};
  json::object extra;
  for (const auto& [k, v] : p.fields()) {
    bool consumed = false;
    for (auto n : kConsumed) consumed = consumed || k == n;
    if (!consumed && !IsReservedClaim(k)) extra[k] = v;
  }
  Subject subject{std::string(p.Value("userId")), std::string(p.Value("userType")),
                  std::string(p.Value("roles")), true};
  subject.user_source = "client";  // vouched for by the trusted client, not in the user store
  return IssueForUser(c, subject, *scope, p, extra);
}

Result<IssuedToken> TokenService::BootstrapToken(const Params& p, const Client& c) {
  if (settings_.bootstrap_client_id.empty() || c.client_id != settings_.bootstrap_client_id) {
    return Fail(Error::Status("ERR12007", "Only the bootstrap client may use this grant."));
  }
  std::vector<std::string> scope;
  if (p.Value("scope").empty()) {
    scope = SplitScope(settings_.bootstrap_scope);
  } else {
    auto granted = GrantedScope(p.Value("scope"), c.scope);
    if (!granted) return Fail(granted.error());
    scope = std::move(*granted);
  }
  static constexpr std::string_view kConsumed[] = {"grant_type", "scope", "client_id",
                                                   "client_secret"};
  json::object extra;
  for (const auto& [k, v] : p.fields()) {
    bool consumed = false;
    for (auto n : kConsumed) consumed = consumed || k == n;
    // sid names the service being deployed (light-oauth2 issue #325).
    if (!consumed && (k == "sid" || !IsReservedClaim(k))) extra[k] = v;
  }
  int64_t ttl = settings_.bootstrap_token_ttl;
  auto m = Mint(c, Subject{}, scope, DefaultAudience(settings_), ttl, extra);
  if (!m) return Fail(m.error());
  IssuedToken out;
  out.access_token = m->jwt;
  out.expires_in = ttl;
  out.scope = JoinScope(scope);
  return out;
}

Result<IssuedToken> TokenService::TokenExchange(const Params& p, const Client& c) {
  // RFC 8693 §2.1
  std::string_view subject_token = p.Value("subject_token");
  std::string_view subject_type = p.Value("subject_token_type");
  if (subject_token.empty() || subject_type.empty()) {
    return Fail(InvalidRequest("subject_token and subject_token_type are required."));
  }
  if (subject_type != "urn:ietf:params:oauth:token-type:access_token" &&
      subject_type != "urn:ietf:params:oauth:token-type:jwt") {
    return Fail(InvalidRequest("Unsupported subject_token_type."));
  }
  if (p.Has("actor_token")) {
    return Fail(
        InvalidRequest("actor_token is not supported; the authenticated client is the actor."));
  }
  std::string_view audience = p.Value("audience");
  if (audience.empty()) audience = p.Value("resource");
  if (audience.empty()) {
    return Fail(InvalidTarget("audience (the target service) is required."));
  }
  auto claims = keys_.Verify(subject_token);
  // Verify accepts only our access tokens: a signed payload (payload+jwt) is refused here.
  if (!claims) return Fail(InvalidGrant("ERR10000", "The subject_token is not valid."));
  const auto& sc = *claims;
  auto jti = sc.if_contains("jti");
  if (jti && jti->is_string() && revoked_.Contains(jti->as_string())) {
    return Fail(InvalidGrant("ERR10000", "The subject_token has been revoked."));
  }
  if (auto iss = sc.if_contains("iss");
      !iss || !iss->is_string() || iss->as_string() != settings_.issuer) {
    return Fail(InvalidGrant("ERR10000", "The subject_token was not issued here."));
  }
  // The delegation policy says whether this client may act toward this audience, with which
  // scopes, and how long the chain may grow.
  auto policy = db_.QueryRow(
      "SELECT scopes, max_depth FROM delegation_policies WHERE client_id = $1 AND audience = $2",
      {Text(c.client_id), Text(audience)});
  if (!policy) return Fail(policy.error());
  if (!*policy) {
    return Fail(
        Error::Status("ERR12024", "No delegation policy allows this client toward that audience."));
  }
  auto allowed_by_policy = SplitScope((*policy)->Str(0));
  int64_t max_depth = (*policy)->IsNull(1) ? settings_.max_exchange_depth : (*policy)->Int(1);

  std::vector<std::string> subject_scope = ScopeClaim(sc);
  // The exchanged token can only narrow: scopes both the subject token and the policy allow.
  std::vector<std::string> ceiling;
  for (const auto& s : subject_scope) {
    if (std::find(allowed_by_policy.begin(), allowed_by_policy.end(), s) !=
        allowed_by_policy.end()) {
      ceiling.push_back(s);
    }
  }
  auto scope = GrantedScope(p.Value("scope"), ceiling);
  if (!scope) return Fail(Error::Status("ERR12027", scope.error().description));
  if (scope->empty()) return Fail(Error::Status("ERR12027", "No scope can be delegated."));

  // act records the chain, newest actor outermost (RFC 8693 §4.1).
  json::object act;
  act["sub"] = c.client_id;
  int depth = 1;
  if (auto prior = sc.if_contains("act"); prior && prior->is_object()) {
    act["act"] = *prior;
    const json::value* walk = prior;
    while (walk && walk->is_object()) {
      ++depth;
      walk = walk->as_object().if_contains("act");
    }
  }
  if (depth > max_depth) {
    return Fail(InvalidRequest("The delegation chain is too long."));
  }
  Subject subject;
  subject.user_id = StringClaim(sc, "user_id");
  subject.user_type = StringClaim(sc, "user_type");
  subject.roles = StringClaim(sc, "roles");
  subject.is_user = !subject.user_id.empty();
  subject.sub = StringClaim(sc, "sub");
  if (subject.is_user) *scope = ScopeForUser(*scope, subject.roles);
  if (scope->empty()) return Fail(Error::OAuth(400, "invalid_scope", "No scope can be delegated."));
  json::object extra;
  extra["act"] = act;
  int64_t ttl = TtlFor(c);
  if (auto exp = sc.if_contains("exp"); exp && exp->is_int64()) {
    // Never outlive the subject token.
    ttl = std::min<int64_t>(ttl, exp->as_int64() - clock_.Now());
  }
  if (ttl <= 0) return Fail(InvalidGrant("ERR10001", "The subject_token has expired."));
  auto m = Mint(c, subject, *scope, std::string(audience), ttl, extra);
  if (!m) return Fail(m.error());
  IssuedToken out;
  out.access_token = m->jwt;
  out.expires_in = ttl;
  out.scope = JoinScope(*scope);
  out.issued_token_type = "urn:ietf:params:oauth:token-type:access_token";
  return out;
}

}  // namespace portcullis::oauth
