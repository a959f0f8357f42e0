// authorization_code (RFC 6749 §4.1.3, RFC 7636): redeems a code in one transaction with one
// winner (ARCHITECTURE.md "Writes are single transactions"). Failures found after the code was
// consumed are returned only after the transaction commits, so a failed attempt still burns the
// code: a guessed PKCE verifier or redirect URI gets one try.

#include <boost/json/object.hpp>
#include <memory>
#include <optional>

#include "common/log.h"
#include "oauth/credentials/token_hash.h"
#include "oauth/token/grant.h"
#include "oauth/token/grants/user_tokens.h"
#include "oauth/token/pkce.h"
#include "oauth/token/token_errors.h"
#include "oauth/token/token_service.h"
#include "oauth/token/user_scope.h"
#include "store/db.h"

namespace portcullis::oauth {
namespace {

namespace json = boost::json;
using store::Int;
using store::Text;

constexpr std::string_view kParameters[] = {"code",     "redirect_uri", "code_verifier",
                                            "resource", "audience",     "csrf"};

class AuthorizationCodeGrant final : public Grant {
 public:
  AuthorizationCodeGrant()
      : Grant("authorization_code",
              {.needs_client_authentication = false, .public_by_default = true}, kParameters) {}

  GrantNeeds Needs(const TokenRequest&) const override { return GrantNeeds::kStore; }

  Result<IssuedToken> Issue(GrantContext& ctx, const TokenRequest& req,
                            const Client& c) const override {
    const Params& p = req.params();
    std::string_view code = p.Value("code");
    if (code.empty()) return Fail(InvalidGrant("ERR12052", "code is required."));
    // The resource is resolved before the code is consumed: an unknown one burns nothing.
    auto target = ctx.ResolveTarget(req);
    if (!target) return Fail(target.error());
    auto db = ctx.Store("token.authorization_code");
    if (!db) return Fail(db.error());
    const std::string code_hash = TokenHash(code);
    const int64_t now = ctx.clock().Now();
    std::optional<Error> outcome;
    std::optional<std::pair<std::string, int64_t>> revoke_jti;
    IssuedToken out;

    auto s = (*db)->Transact("token.authorization_code", [&](store::Tx& tx) -> Status {
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
      TokenSubject subject{r.Str(0), r.Str(1), r.Str(2), true};
      // The code service signs users in from the user store unless the client names another
      // authenticator (light-oauth2's authenticate_class), whose users the store may not hold:
      // those are read again only when the store has them.
      subject.user_source = c.authenticate_class.empty() ? "users" : "";
      auto current = ReadUserAgain(tx, subject);
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
      auto access_scope = GrantContext::NarrowToTarget(*target, scope, false);
      if (!access_scope) {
        outcome = access_scope.error();
        return {};
      }
      json::object extra;
      if (p.Has("csrf")) extra["csrf"] = std::string(p.Value("csrf"));
      if (!r.Str(7).empty()) extra["nonce"] = r.Str(7);
      int64_t ttl = ctx.TtlFor(c);
      auto m = ctx.Mint(c, subject, *access_scope, target->audience, ttl, extra);
      if (!m) return Fail(m.error());
      std::string family = r.Str(9).empty() ? ctx.random().Token(16) : r.Str(9);
      auto refresh = InsertRefresh(tx, ctx.random(), now, ctx.settings().refresh_token_ttl, c,
                                   subject, scope, r.Str(8), family, "");
      if (!refresh) return Fail(refresh.error());
      auto n = tx.Exec(
          "UPDATE auth_codes SET access_jti = $2, access_exp = $3, family_id = $4"
          " WHERE code_hash = $1",
          {Text(code_hash), Text(m->jti), Int(m->exp), Text(family)});
      if (!n) return Fail(n.error());
      auto token = ctx.Deliver(c, *m, &tx);
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
      if (auto r = ctx.revoked().Add(revoke_jti->first, revoke_jti->second); !r) {
        return Fail(r.error());
      }
    }
    if (outcome) return Fail(*outcome);
    return out;
  }
};

}  // namespace

std::unique_ptr<const Grant> MakeAuthorizationCodeGrant() {
  return std::make_unique<AuthorizationCodeGrant>();
}

}  // namespace portcullis::oauth
