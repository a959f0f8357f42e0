// urn:ietf:params:oauth:grant-type:device_code (RFC 8628 §3.4, §3.5): the device polls with its
// device code until the user decided on the verification page. One transaction per poll, with
// the grant's row locked: the poll is counted (slow_down when it came sooner than the interval,
// which then grows by 5 s for good), and an approved grant is consumed by a single-winner
// conditional update, so of concurrent redemptions on any instances exactly one gets tokens.
// Tokens are those of the code flow: access and refresh token for the user, whose account is
// read again (a locked or deleted user gets nothing) and whose roles filter the scope.

#include <algorithm>
#include <boost/json/object.hpp>
#include <memory>
#include <optional>

#include "common/log.h"
#include "oauth/credentials/token_hash.h"
#include "oauth/device/device_store.h"
#include "oauth/token/device_authorization.h"
#include "oauth/token/grant.h"
#include "oauth/token/grants/user_tokens.h"
#include "oauth/token/token_errors.h"
#include "oauth/token/token_service.h"
#include "oauth/token/user_scope.h"
#include "store/db.h"

namespace portcullis::oauth {
namespace {

constexpr std::string_view kParameters[] = {"device_code", "resource", "audience"};
// RFC 8628 §3.5: "the interval MUST be increased by 5 seconds for this and all subsequent
// requests".
constexpr int64_t kSlowDownStep = 5;

Error Polling(std::string oauth_error, std::string description) {
  return Error::OAuth(400, std::move(oauth_error), std::move(description));
}

class DeviceCodeGrant final : public Grant {
 public:
  DeviceCodeGrant()
      // RFC 8628 targets clients that cannot keep a secret: public clients may use it, but only
      // when they list it (public_by_default false; the device authorization endpoint requires
      // the explicit listing from every client).
      : Grant(kDeviceCodeGrant, {.needs_client_authentication = false, .public_by_default = false},
              kParameters) {}

  GrantNeeds Needs(const TokenRequest&) const override { return GrantNeeds::kStore; }

  Result<IssuedToken> Issue(GrantContext& ctx, const TokenRequest& req,
                            const Client& c) const override {
    std::string_view device_code = req.params().Value("device_code");
    if (device_code.empty()) return Fail(InvalidRequest("device_code is required."));
    auto target = ctx.ResolveTarget(req);
    if (!target) return Fail(target.error());
    auto st = ctx.Store("token.device_code");
    if (!st) return Fail(st.error());
    if (st->stores.devices == nullptr) return Fail(Error::Internal("no device grant store"));
    DeviceGrantStore& devices = *st->stores.devices;
    const std::string hash = TokenHash(device_code);
    const int64_t now = ctx.clock().Now();
    std::optional<Error> outcome;
    IssuedToken out;

    auto s = st->db.Transact("token.device_code", [&](store::Tx& tx) -> Status {
      auto row = devices.Lock(tx, hash);
      if (!row) return Fail(row.error());
      // Another client's code is as unknown as a made-up one (RFC 8628 §3.4: bound to client).
      if (!*row || (*row)->client_id != c.client_id) {
        outcome = InvalidGrant("ERR12052", "The device code is not found.");
        return {};
      }
      const DeviceGrant& g = **row;
      if (g.state == DeviceGrantState::kConsumed) {
        outcome = InvalidGrant("ERR12052", "The device code was already used.");
        log::Warn("token.device_code_replay", {{"client_id", c.client_id}});
        return {};
      }
      if (g.expires_at <= now) {
        outcome = Polling("expired_token", "The device code has expired; start again.");
        return {};
      }
      if (g.state == DeviceGrantState::kDenied) {
        outcome = Polling("access_denied", "The user denied the request.");
        return {};
      }
      if (g.state == DeviceGrantState::kPending) {
        const bool too_fast = g.last_poll_at && now - *g.last_poll_at < g.interval;
        const int64_t interval = too_fast ? g.interval + kSlowDownStep : g.interval;
        if (auto r = devices.RecordPoll(tx, hash, now, interval); !r) return r;
        outcome = too_fast ? Polling("slow_down",
                                     "Poll every " + std::to_string(interval) + " seconds at most.")
                           : Polling("authorization_pending", "The user has not decided yet.");
        return {};
      }
      auto won = devices.Consume(tx, hash, c.client_id, now);
      if (!won) return Fail(won.error());
      if (!*won) {
        outcome = InvalidGrant("ERR12052", "The device code was already used.");
        return {};
      }
      const DeviceGrant& a = **won;
      TokenSubject subject{a.user.user_id, a.user.user_type, a.user.roles, true};
      // Where the approving user was signed in, as the code grant reads it: the user store
      // ("users", read again) or another authenticator, whose roles from the sign-in stand (a
      // same-named account of the user store is someone else). Grants approved before it was
      // recorded: as before.
      subject.user_source = !a.user.user_source.empty()    ? a.user.user_source
                            : c.authenticate_class.empty() ? "users"
                                                           : "";
      auto current = ReadUserAgain(st->lookups, tx, subject);
      if (!current) return Fail(current.error());
      if (!*current) {
        outcome = InvalidGrant("ERR12052", "The user may no longer sign in.");
        return {};
      }
      // Approved with the password alone before the user's roles or realm needed a second
      // factor (README "Second factor").
      if (LacksRequiredSecondFactor(ctx.settings(), subject, a.user.amr)) {
        outcome =
            InvalidGrant("ERR12052", "This user now signs in with a second factor: sign in again.");
        return {};
      }
      std::vector<std::string> scope = StillAllowed(SplitScope(a.scope), c);
      scope = ScopeForUser(scope, subject.roles);
      auto access_scope = GrantContext::NarrowToTarget(*target, scope, false);
      if (!access_scope) {
        outcome = access_scope.error();
        return {};
      }
      const int64_t ttl = ctx.TtlFor(c);
      const bool openid = std::ranges::find(scope, "openid") != scope.end();
      auto m = ctx.Mint(c, subject, *access_scope, target->audience, ttl, {});
      if (!m) return Fail(m.error());
      // The sign-in on the verification page, kept in the refresh family so a refresh issues
      // the same auth_time/sid/amr (OpenID Connect Core §12.2).
      SignIn sign_in{a.user.auth_time, a.user.sid, a.user.amr, a.user.acr, ""};
      auto refresh = InsertRefresh(st->stores.refresh_tokens, tx, ctx.random(), now,
                                   ctx.settings().refresh_token_ttl, c, subject, scope, "N",
                                   ctx.random().Token(16), "", sign_in, ctx.dpop_jkt(),
                                   ctx.certificate_thumbprint());
      if (!refresh) return Fail(refresh.error());
      auto token = ctx.Deliver(c, *m, &tx);
      if (!token) return Fail(token.error());
      // An ID token for openid, as from the code flow (no nonce: the device request has none).
      if (openid && a.user.auth_time > 0) {
        auto id = IssueIdToken(ctx, st->lookups, tx, c, subject, sign_in, "", *token);
        if (!id) return Fail(id.error());
        out.id_token = std::move(*id);
      }
      out.access_token = std::move(*token);
      out.expires_in = ttl;
      out.refresh_token = std::move(*refresh);
      out.scope = JoinScope(*access_scope);
      out.remember = "N";
      log::Info("token.device_code", {{"client_id", c.client_id}, {"user_id", subject.user_id}});
      return {};
    });
    if (!s) return Fail(s.error());
    if (outcome) return Fail(*outcome);
    return out;
  }
};

}  // namespace

std::unique_ptr<const Grant> MakeDeviceCodeGrant() { return std::make_unique<DeviceCodeGrant>(); }

}  // namespace portcullis::oauth
