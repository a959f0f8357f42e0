// authorization_code (RFC 6749 §4.1.3, RFC 7636): redeems a code in one transaction with one
// winner (ARCHITECTURE.md "Writes are single transactions"). Failures found after the code was
// consumed are returned only after the transaction commits, so a failed attempt still burns the
// code: a guessed PKCE verifier or redirect URI gets one try.

#include <algorithm>
#include <boost/json/object.hpp>
#include <memory>
#include <optional>

#include "common/log.h"
#include "oauth/code/code_store.h"
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
    auto st = ctx.Store("token.authorization_code");
    if (!st) return Fail(st.error());
    AuthCodeStore& codes = st->stores.codes;
    RefreshTokenStore& refresh_tokens = st->stores.refresh_tokens;
    const std::string code_hash = TokenHash(code);
    const int64_t now = ctx.clock().Now();
    std::optional<Error> outcome;
    std::optional<std::pair<std::string, int64_t>> revoke_jti;
    IssuedToken out;

    auto s = st->db.Transact("token.authorization_code", [&](store::Tx& tx) -> Status {
      // One winner: the first redemption marks the code consumed (RFC 6749 §4.1.2).
      // RFC 9449 §10: a code requested with dpop_jkt is consumed only by a proof by that key, so
      // a request with another key (or none) leaves it for the client that holds the key.
      auto row = codes.Consume(tx, code_hash, c.client_id, ctx.dpop_jkt(), now);
      if (!row) return Fail(row.error());
      if (!*row) {
        auto seen = codes.Find(tx, code_hash);
        if (!seen) return Fail(seen.error());
        if (!*seen) {
          outcome = InvalidGrant("ERR12052", "The authorization code is not found.");
        } else if ((*seen)->client_id != c.client_id) {
          // Bound to its client (RFC 6749 §4.1.3); another client cannot burn it either.
          outcome = InvalidGrant("ERR12028", "The code was issued to another client.");
        } else if ((*seen)->consumed_at) {
          // Replay: revoke what the first redemption issued (RFC 6749 §4.1.2, RFC 9700 §4.5).
          outcome = InvalidGrant("ERR12052",
                                 "The code was already used; tokens issued from it are revoked.");
          if (auto r = refresh_tokens.RevokeFamily(tx, (*seen)->family_id, std::nullopt); !r) {
            return r;
          }
          if ((*seen)->access_jti) revoke_jti.emplace(*(*seen)->access_jti, (*seen)->access_exp);
          log::Warn("token.code_replay", {{"client_id", c.client_id}});
        } else if ((*seen)->expires_at > now && !(*seen)->dpop_jkt.empty() &&
                   (*seen)->dpop_jkt != ctx.dpop_jkt()) {
          // Unspent: the rightful client may still redeem it with its key.
          outcome = InvalidGrant("ERR12052", ctx.dpop_jkt().empty()
                                                 ? "The code is bound to a DPoP key; send a proof."
                                                 : "The code is bound to another DPoP key.");
        } else {
          outcome = InvalidGrant("ERR12052", "The code has expired.");
        }
        return {};
      }
      const AuthCode& r = **row;
      std::string_view redirect = p.Value("redirect_uri");
      if (!r.redirect_uri.empty()) {
        if (redirect.empty()) {
          outcome = Error::Status("ERR12025");
          return {};
        }
        if (redirect != r.redirect_uri) {
          outcome = Error::Status("ERR12026");
          return {};
        }
      }
      if (!r.code_challenge.empty()) {
        if (auto v = CheckCodeVerifier(p.Value("code_verifier"), r.code_challenge,
                                       r.code_challenge_method);
            !v) {
          outcome = v.error();
          return {};
        }
      } else if (p.Has("code_verifier")) {
        // A verifier for a code issued without a challenge is a downgrade attempt (RFC 9700).
        outcome = InvalidGrant("ERR12041", "The code was issued without a code_challenge.");
        return {};
      }
      TokenSubject subject{r.user_id, r.user_type, r.roles, true};
      // The code names where the user was signed in: the user store ("users", read again), or
      // another authenticator (its roles from the sign-in stand; a same-named account of the
      // user store is someone else). Codes from before it was recorded: the user store unless
      // the client names another authenticator, whose users are read again only when the store
      // has them.
      subject.user_source = !r.user_source.empty()         ? r.user_source
                            : c.authenticate_class.empty() ? "users"
                                                           : "";
      auto current = ReadUserAgain(st->lookups, tx, subject);
      if (!current) return Fail(current.error());
      if (!*current) {
        outcome = InvalidGrant("ERR12052", "The user may no longer sign in.");
        return {};
      }
      // A code from a password-only sign-in, issued before the user's roles or realm needed a
      // second factor (README "Second factor").
      if (LacksRequiredSecondFactor(ctx.settings(), subject, r.amr)) {
        outcome =
            InvalidGrant("ERR12052", "This user now signs in with a second factor: sign in again.");
        return {};
      }
      std::vector<std::string> scope = SplitScope(r.scope);
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
      if (!r.nonce.empty()) extra["nonce"] = r.nonce;
      const bool openid = std::ranges::find(scope, "openid") != scope.end();
      AddUserinfoClaims(extra, openid, r.claims);
      int64_t ttl = ctx.TtlFor(c);
      auto m = ctx.Mint(c, subject, *access_scope, target->audience, ttl, extra);
      if (!m) return Fail(m.error());
      std::string family = r.family_id.empty() ? ctx.random().Token(16) : r.family_id;
      // The sign-in behind the code; a code from before it was recorded falls back to when the
      // code was made, which is when the user was last seen signed in.
      SignIn sign_in{r.auth_time > 0 ? r.auth_time : r.created_at, r.sid, r.amr, r.acr, r.claims};
      auto refresh = InsertRefresh(
          refresh_tokens, tx, ctx.random(), now, ctx.settings().refresh_token_ttl, c, subject,
          scope, r.remember, family, "", sign_in, ctx.dpop_jkt(), ctx.certificate_thumbprint());
      if (!refresh) return Fail(refresh.error());
      if (auto n = codes.RecordIssued(tx, code_hash, m->jti, m->exp, family); !n) return n;
      auto token = ctx.Deliver(c, *m, &tx);
      if (!token) return Fail(token.error());
      // OpenID Connect Core §3.1.3.3: an ID token when openid was granted, bound to the access
      // token as delivered (at_hash) and to the request's nonce.
      if (openid) {
        auto id = IssueIdToken(ctx, st->lookups, tx, c, subject, sign_in, r.nonce, *token);
        if (!id) return Fail(id.error());
        out.id_token = std::move(*id);
      }
      out.access_token = std::move(*token);
      out.expires_in = ttl;
      out.refresh_token = std::move(*refresh);
      out.scope = JoinScope(*access_scope);
      out.remember = r.remember.empty() ? "N" : r.remember;
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
