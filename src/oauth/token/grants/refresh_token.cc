// refresh_token (RFC 6749 §6): rotation in one transaction with one winner; a rotated token
// presented again revokes its family (RFC 9700 §4.14.2). Profile fapi2 clients keep their token
// (no rotation, FAPI 2.0 §5.3.2.1).

#include <algorithm>
#include <boost/json/object.hpp>
#include <memory>
#include <optional>

#include "common/log.h"
#include "oauth/credentials/token_hash.h"
#include "oauth/token/grant.h"
#include "oauth/token/grants/user_tokens.h"
#include "oauth/token/token_errors.h"
#include "oauth/token/token_service.h"
#include "oauth/token/user_scope.h"
#include "store/db.h"

namespace portcullis::oauth {
namespace {

namespace json = boost::json;

constexpr std::string_view kParameters[] = {"refresh_token", "scope", "resource", "audience",
                                            "csrf"};

class RefreshTokenGrant final : public Grant {
 public:
  RefreshTokenGrant()
      : Grant("refresh_token", {.needs_client_authentication = false, .public_by_default = true},
              kParameters) {}

  GrantNeeds Needs(const TokenRequest&) const override { return GrantNeeds::kStore; }

  Result<IssuedToken> Issue(GrantContext& ctx, const TokenRequest& req,
                            const Client& c) const override {
    const Params& p = req.params();
    std::string_view presented = p.Value("refresh_token");
    if (presented.empty()) return Fail(InvalidGrant("ERR12029", "refresh_token is required."));
    auto target = ctx.ResolveTarget(req);
    if (!target) return Fail(target.error());
    auto st = ctx.Store("token.refresh_token");
    if (!st) return Fail(st.error());
    RefreshTokenStore& refresh_tokens = st->stores.refresh_tokens;
    const std::string hash = TokenHash(presented);
    const int64_t now = ctx.clock().Now();
    std::optional<Error> outcome;
    IssuedToken out;

    auto s = st->db.Transact("token.refresh_token", [&](store::Tx& tx) -> Status {
      auto row = refresh_tokens.Find(tx, hash);
      if (!row) return Fail(row.error());
      if (!*row) {
        outcome = InvalidGrant("ERR12029", "The refresh token is not found.");
        return {};
      }
      const RefreshToken& r = **row;
      // Checked before anything changes, so another client cannot destroy the token (§18.3).
      if (r.client_id != c.client_id) {
        outcome = Error::Status("ERR12028");
        return {};
      }
      // RFC 8705 §4: a token bound to a certificate needs that certificate, and leaves the token
      // alone otherwise (the holder of the certificate may still use it).
      if (!r.cert_thumbprint.empty() && r.cert_thumbprint != ctx.certificate_thumbprint()) {
        outcome = InvalidGrant("ERR12029",
                               "The refresh token is bound to another TLS client certificate.");
        return {};
      }
      if (r.state != "active") {
        // A rotated token presented again means it leaked: revoke its family (RFC 9700 §4.14.2).
        if (r.state == "rotated") {
          log::Warn("token.refresh_reuse", {{"client_id", c.client_id}});
          if (auto v = refresh_tokens.RevokeFamily(tx, r.family_id, std::nullopt); !v) return v;
        }
        outcome = InvalidGrant("ERR12029", "The refresh token is no longer valid.");
        return {};
      }
      if (r.expires_at <= now) {
        outcome = InvalidGrant("ERR12029", "The refresh token has expired.");
        return {};
      }
      // RFC 9449 §5: a bound token (public clients) is refreshed only with a proof by its key.
      // Checked before rotation: a thief without the key cannot burn the token.
      if (!r.dpop_jkt.empty() && r.dpop_jkt != ctx.dpop_jkt()) {
        outcome = InvalidGrant("ERR12029", "The refresh token is bound to another DPoP key.");
        return {};
      }
      // Rights once cut stay cut: the user's type and roles come from the user store as it is
      // now, and the scope is what was granted and the client may still have. The new refresh
      // token stores the cut values, so a later widening of the client does not bring them back.
      TokenSubject subject{r.user_id, r.user_type, r.roles, !r.user_id.empty()};
      subject.user_source = r.user_source;
      auto current = ReadUserAgain(st->lookups, tx, subject);
      if (!current) return Fail(current.error());
      if (!*current) {
        if (auto v = refresh_tokens.RevokeFamily(tx, r.family_id, std::nullopt); !v) return v;
        outcome = InvalidGrant("ERR12029", "The user may no longer sign in.");
        return {};
      }
      // A family signed in without a second factor ends once the user's roles or realm need
      // one: rotation carries amr forward, so it would never gain one (README "Second factor").
      if (LacksRequiredSecondFactor(ctx.settings(), subject, r.amr)) {
        log::Info("totp.refresh_refused", {{"client_id", c.client_id}, {"user_id", r.user_id}});
        if (auto v = refresh_tokens.RevokeFamily(tx, r.family_id, std::nullopt); !v) return v;
        outcome =
            InvalidGrant("ERR12029", "This user now signs in with a second factor: sign in again.");
        return {};
      }
      const auto previous = SplitScope(r.scope);
      const auto allowed = StillAllowed(previous, c);
      if (allowed.empty() && !previous.empty()) {
        outcome =
            InvalidGrant("ERR12029", "None of the token's scopes is still allowed for the client.");
        return {};
      }
      auto granted = ctx.GrantedScope(req.scope(), allowed);
      if (!granted) {
        outcome = granted.error();
        return {};
      }
      // subject.roles is current here, so the role rule sees today's roles.
      if (subject.is_user) *granted = ScopeForUser(*granted, subject.roles);
      const bool openid = std::ranges::find(*granted, "openid") != granted->end();
      // Checked before rotation, so a wrong resource does not cost the client its token.
      auto scope = GrantContext::NarrowToTarget(*target, std::move(*granted), req.ScopeRequested());
      if (!scope) {
        outcome = scope.error();
        return {};
      }
      // FAPI 2.0 §5.3.2.1 asks for no rotation, or rotation with a retry window: a fapi2
      // client (always confidential, its token usable only with its private key or certificate)
      // keeps its refresh token, which keeps its expiry (README "FAPI 2.0 profile").
      const bool rotate = !c.IsFapi2();
      // The single winner of concurrent rotations: only one UPDATE finds the row active.
      if (rotate) {
        auto n = refresh_tokens.Rotate(tx, hash, now);
        if (!n) return Fail(n.error());
        if (!*n) {
          if (auto v = refresh_tokens.RevokeFamily(tx, r.family_id, std::nullopt); !v) return v;
          outcome = InvalidGrant("ERR12029", "The refresh token is no longer valid.");
          return {};
        }
      }
      json::object extra;
      if (p.Has("csrf")) extra["csrf"] = std::string(p.Value("csrf"));
      AddUserinfoClaims(extra, openid, r.claims);
      int64_t ttl = ctx.TtlFor(c);
      auto m = ctx.Mint(c, subject, *scope, target->audience, ttl, extra);
      if (!m) return Fail(m.error());
      // The sign-in travels to the new token unchanged (OpenID Connect Core §12.2).
      SignIn sign_in{r.auth_time, r.sid, r.amr, r.acr, r.claims};
      std::string refresh(presented);
      if (rotate) {
        auto fresh = InsertRefresh(
            refresh_tokens, tx, ctx.random(), now, ctx.settings().refresh_token_ttl, c, subject,
            allowed, r.remember, r.family_id, hash, sign_in, ctx.dpop_jkt(), r.cert_thumbprint);
        if (!fresh) return Fail(fresh.error());
        refresh = std::move(*fresh);
      } else if (JoinScope(allowed) != r.scope) {
        // The kept token stores the cut-down scope too, in this transaction: a later widening
        // of the client must not bring back what was taken away.
        if (auto v = refresh_tokens.SetScope(tx, hash, JoinScope(allowed)); !v) return v;
      }
      auto token = ctx.Deliver(c, *m, &tx);
      if (!token) return Fail(token.error());
      // §12.2: a new ID token with the original sub, auth_time, sid, acr and amr, a new iat, and
      // no nonce. Only for grants that came from a sign-in (the code flow records auth_time).
      if (openid && subject.is_user && r.auth_time > 0) {
        auto id = IssueIdToken(ctx, st->lookups, tx, c, subject, sign_in, "", *token);
        if (!id) return Fail(id.error());
        out.id_token = std::move(*id);
      }
      out.access_token = std::move(*token);
      out.expires_in = ttl;
      out.refresh_token = std::move(refresh);
      out.scope = JoinScope(*scope);
      out.remember = r.remember.empty() ? "N" : r.remember;
      return {};
    });
    if (!s) return Fail(s.error());
    if (outcome) return Fail(*outcome);
    return out;
  }
};

}  // namespace

std::unique_ptr<const Grant> MakeRefreshTokenGrant() {
  return std::make_unique<RefreshTokenGrant>();
}

}  // namespace portcullis::oauth
