#include "oauth/token/grants/user_tokens.h"

#include <algorithm>
#include <boost/json/serialize.hpp>
#include <optional>

#include "common/roles.h"
#include "oauth/credentials/token_hash.h"
#include "oauth/oidc/id_token.h"
#include "oauth/oidc/user_claims.h"
#include "oauth/token/token_service.h"
#include "oauth/token/user_scope.h"
#include "store/db.h"

namespace portcullis::oauth {

namespace json = boost::json;

Result<std::string> InsertRefresh(RefreshTokenStore& refresh_tokens, store::Tx& tx, Random& random,
                                  int64_t now, int64_t ttl, const Client& c,
                                  const TokenSubject& subject,
                                  const std::vector<std::string>& scope, std::string_view remember,
                                  std::string_view family, std::string_view parent_hash,
                                  const SignIn& sign_in, std::string_view dpop_jkt,
                                  std::string_view cert_thumbprint) {
  std::string token = random.Token(32);
  RefreshToken row;
  row.token_hash = TokenHash(token);
  row.family_id = std::string(family);
  row.client_id = c.client_id;
  row.user_id = subject.user_id;
  row.user_type = subject.user_type;
  row.roles = subject.roles;
  row.scope = JoinScope(scope);
  row.remember = remember == "Y" ? "Y" : "N";
  row.state = "active";
  row.parent_hash = std::string(parent_hash);
  row.created_at = now;
  row.expires_at = now + ttl;
  // "authenticator:<realm>" too (migration 0018): a refresh knows which realm's user it is.
  row.user_source = subject.user_source;
  row.auth_time = sign_in.auth_time;
  row.sid = sign_in.sid;
  row.amr = sign_in.amr;
  row.acr = sign_in.acr;
  row.claims = sign_in.claims;
  // Only a public client's refresh token is bound (RFC 9449 §5, RFC 8705 §4): a confidential
  // client's is already bound to its credentials.
  if (c.IsPublic()) {
    row.dpop_jkt = std::string(dpop_jkt);
    row.cert_thumbprint = std::string(cert_thumbprint);
  }
  if (auto s = refresh_tokens.Insert(tx, row); !s) return Fail(s.error());
  return token;
}

void AddUserinfoClaims(json::object& extra, bool openid, std::string_view claims_json) {
  if (!openid) return;
  auto names = oidc::UserinfoClaimNames(claims_json);
  if (names.empty()) return;
  json::array a;
  for (auto& n : names) a.emplace_back(std::move(n));
  extra[oidc::kUserinfoClaimsClaim] = std::move(a);
}

Result<std::string> IssueIdToken(GrantContext& ctx, GrantLookups& lookups, store::Tx& tx,
                                 const Client& c, const TokenSubject& subject,
                                 const SignIn& sign_in, std::string_view nonce,
                                 std::string_view access_token) {
  auto alg = oidc::IdTokenAlg(c.id_token_signed_response_alg);
  if (!alg) return Fail(alg.error());
  // FAPI 2.0 §5.4.1: never RS256 (registration fills in keys.algorithm for fapi2 clients; a row
  // written by other means may still name none).
  if (c.IsFapi2() && *alg == jose::Alg::kRS256) {
    return Fail(Error::OAuth(500, "server_error",
                             "A client of profile fapi2 needs idTokenSignedResponseAlg PS256, "
                             "ES256 or EdDSA; its ID tokens are not signed with RS256."));
  }
  const int64_t now = ctx.clock().Now();
  oidc::IdTokenFields f;
  f.issuer = ctx.settings().issuer;
  // The same sub as the user's access tokens (GrantContext::Mint): stable per user.
  f.sub = !subject.sub.empty() ? subject.sub : subject.user_id;
  f.client_id = c.client_id;
  f.iat = now;
  f.exp = now + ctx.settings().id_token_ttl;
  f.auth_time = sign_in.auth_time;
  f.nonce = std::string(nonce);
  f.access_token = std::string(access_token);
  f.sid = sign_in.sid;
  f.amr = sign_in.amr;
  f.acr = sign_in.acr;
  // Core §5.4: scope claims go to userinfo, since an access token is always issued; only the
  // claims parameter's id_token member puts user claims in the ID token (§5.5).
  auto requested = oidc::RequestedClaims(sign_in.claims, "id_token");
  // A user of another authenticator (LDAP) has no profile in the user store: a same-named
  // account there is someone else.
  if (!requested.empty() && !subject.user_source.starts_with("authenticator:")) {
    auto user = lookups.FindUser(tx, subject.user_id);
    if (!user) return Fail(user.error());
    if (*user) {
      const CurrentUser& cu = **user;
      oidc::UserProfile u{
          subject.user_id, cu.first_name,     cu.last_name,    cu.email,
          cu.updated_at,   cu.email_verified, cu.phone_number, cu.phone_number_verified,
          cu.address};
      f.extra = oidc::UserClaims(u, {}, requested);
    }
  }
  return ctx.keys().SignIdToken(json::serialize(oidc::IdTokenClaims(f, *alg)), *alg);
}

bool LacksRequiredSecondFactor(const TokenSettings& s, const TokenSubject& subject,
                               std::string_view amr) {
  if (!subject.is_user || subject.user_source == "client") return false;
  // Roles split as HasRole splits them (common/roles.h); amr is space-separated.
  if (AnyRole(amr, [](std::string_view m) { return m == "otp"; })) return false;
  std::optional<std::string_view> realm;
  if (subject.user_source == "users") {
    realm = "";
  } else if (subject.user_source.starts_with(kAuthenticatorSourcePrefix)) {
    realm = std::string_view(subject.user_source).substr(kAuthenticatorSourcePrefix.size());
  }
  const auto& realms = s.second_factor_realms;
  if (realm && std::ranges::find(realms, *realm) != realms.end()) return true;
  const auto& roles = s.second_factor_roles;
  return AnyRole(subject.roles, [&](std::string_view role) {
    return std::ranges::find(roles, role) != roles.end();
  });
}

Result<bool> ReadUserAgain(GrantLookups& lookups, store::Tx& tx, TokenSubject& subject) {
  // A trusted client's assertion, or a user of another authenticator (LDAP): not the user
  // store's to answer for, whatever account of the same name it holds.
  if (subject.user_id.empty() || subject.user_source == "client" ||
      subject.user_source.starts_with("authenticator:")) {
    return true;
  }
  auto user = lookups.FindUser(tx, subject.user_id);
  if (!user) return Fail(user.error());
  if (!*user) return subject.user_source != "users";
  if ((*user)->locked) return false;
  subject.user_type = (*user)->user_type;
  subject.roles = (*user)->roles;
  return true;
}

std::vector<std::string> StillAllowed(const std::vector<std::string>& granted, const Client& c) {
  std::vector<std::string> out;
  for (const auto& s : granted) {
    if (c.HasScope(s)) out.push_back(s);
  }
  return out;
}

Result<IssuedToken> IssueForUser(GrantContext& ctx, const Client& c, const TokenSubject& subject,
                                 const std::vector<std::string>& requested, const TokenRequest& r,
                                 const boost::json::object& extra) {
  const std::vector<std::string> scope = ScopeForUser(requested, subject.roles);
  auto target = ctx.ResolveTarget(r);
  if (!target) return Fail(target.error());
  auto access_scope = GrantContext::NarrowToTarget(*target, scope, r.ScopeRequested());
  if (!access_scope) return Fail(access_scope.error());
  auto st = ctx.Store("token.issue_user");
  if (!st) return Fail(st.error());
  const int64_t now = ctx.clock().Now();
  int64_t ttl = ctx.TtlFor(c);
  auto m = ctx.Mint(c, subject, *access_scope, target->audience, ttl, extra);
  if (!m) return Fail(m.error());
  IssuedToken out;
  auto s = st->db.Transact("token.issue_user", [&](store::Tx& tx) -> Status {
    auto refresh = InsertRefresh(st->stores.refresh_tokens, tx, ctx.random(), now,
                                 ctx.settings().refresh_token_ttl, c, subject, scope, "N",
                                 ctx.random().Token(16), "", {}, ctx.dpop_jkt());
    if (!refresh) return Fail(refresh.error());
    auto token = ctx.Deliver(c, *m, &tx);
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

}  // namespace portcullis::oauth
