#pragma once
// The "Sign in with ..." flow (README "Upstream OpenID Connect providers"), without HTTP:
//
//   Start:  a fresh state, nonce and PKCE verifier; the pending flow is stored under
//           TokenHash(state) with the authorization request to continue and TokenHash of the
//           browser's binding cookie (made here when the browser has none); the answer is the
//           provider's authorization URL. One cookie holds at most flows_per_browser open
//           flows: the oldest goes first.
//   Finish: the callback's state is taken from the store (single winner: a state works once,
//           for 10 minutes, and only in the browser that started it); an error answer, an `iss`
//           parameter (RFC 9207) other than the issuer, or a missing code ends it; the code is
//           redeemed and the ID token checked (oidc_provider.h); the identity is mapped to a
//           local account (MapAccount).
//
// Account rules (MapAccount), in one transaction:
//   1. A linked identity (authenticator, sub) signs in as its linked user. A locked user is
//      refused. Accounts this provider created get their roles from the claim table again.
//   2. link_claim: email links an identity without a link to the one local account whose
//      e-mail equals the `email` claim, only when `email_verified` is true, never to an admin
//      account, never when several accounts match. link_claim: <claim> with link_attribute:
//      user_id links it to the account whose user id is exactly the claim's string value, with
//      the same refusals (admin, locked, second factor). Both rules share the candidate lookup.
//   3. create_users: a new local account <user_id_prefix><sub> (sub hashed when it has other
//      characters or is too long), type user_type, roles from the claim table, no usable
//      password; an existing account of that id is never taken over (refused).
//   4. Otherwise: refused (no account).
//
// Ownership: borrows the stores, the database, clock and random (they must outlive it); owns
// the providers. Thread-safe after the providers are added; Start and Finish block (store,
// network): call them from the store pool.

#include <functional>
#include <map>
#include <memory>

#include <string>
#include <string_view>
#include "oauth/login/throttle.h"

#include "common/clock.h"
#include "common/error.h"
#include "common/random.h"
#include "oauth/login/authenticator.h"
#include "oauth/upstream/oidc_provider.h"
#include "oauth/upstream/upstream_store.h"

namespace portcullis::store {
class Database;
}
namespace portcullis::oauth {
class UserStore;
}

namespace portcullis::oauth::upstream {

// How long a started flow may take to come back.
inline constexpr int64_t kFlowTtl = 600;

struct StartedFlow {
  std::string url;             // the provider's authorization endpoint, with our parameters
  std::string binding_cookie;  // to set (again) in the browser: renewed on every start
};

struct FinishedFlow {
  std::string authenticator;
  std::string request;  // the authorization request to continue (query string)
  AuthenticatedUser user;
  std::optional<int64_t> auth_time;  // the upstream ID token's auth_time, when a number
  int64_t started_at = 0;            // when the flow started (unix seconds)
};

class UpstreamFlows {
 public:
  // `default_redirect_uri`: where providers without their own redirect_uri send the browser.
  UpstreamFlows(UpstreamStore& store, store::Database& db, UserStore& users, const Clock& clock,
                Random& random, std::string default_redirect_uri);

  void Add(std::shared_ptr<OidcProvider> provider);
  // Whether a local account has an active second factor (realm ""): such an account is never
  // linked (by e-mail or claim), since a provider cannot give its code. Set before serving;
  // blocking.
  using FactorCheck = std::function<Result<bool>(std::string_view user_id)>;
  void SetFactorCheck(FactorCheck check) { has_factor_ = std::move(check); }
  // The provider named `name`, or null.
  OidcProvider* Find(std::string_view name) const;

  // Each start stores a pending flow for kFlowTtl, so starts are rate-limited per client
  // address (`remote_ip`, resolved through trusted proxies): kStartsPerIp in a burst, refilled
  // over kFlowTtl; past it 429 slow_down with retry_after, and nothing is stored.
  Result<StartedFlow> Start(std::string_view name, std::string request,
                            std::string_view binding_cookie, bool prompt_login,
                            std::string_view remote_ip = {},
                            std::optional<int64_t> max_age = std::nullopt);
  // For a client that asked for max_age or prompt=login: the upstream must say when the user
  // signed in (auth_time), no longer than max_age ago, and for prompt=login not before the flow
  // started (each with the provider's clock_skew_s). Else 400 access_denied.
  Status CheckAuthTime(const FinishedFlow& flow, std::optional<int64_t> max_age,
                       bool prompt_login) const;
  static constexpr int kStartsPerIp = 30;
  // Open flows one binding cookie (one browser) may hold (code.upstream_flows_per_browser):
  // each start beyond it drops that browser's oldest open flow, so a user who retries is never
  // locked out, while one cookie cannot fill upstream_flows. Set before serving.
  static constexpr int64_t kDefaultFlowsPerBrowser = 10;
  void SetFlowsPerBrowser(int64_t n) { flows_per_browser_ = n; }
  Result<FinishedFlow> Finish(std::string_view state, std::string_view code, std::string_view error,
                              std::optional<std::string_view> iss, std::string_view binding_cookie);
  Result<AuthenticatedUser> MapAccount(const OidcProvider& provider,
                                       const UpstreamIdentity& identity);
  Status Purge();

  std::string RedirectUri(const OidcProvider& p) const;

 private:
  UpstreamStore& store_;
  store::Database& db_;
  UserStore& users_;
  const Clock& clock_;
  Random& random_;
  std::string default_redirect_uri_;
  std::map<std::string, std::shared_ptr<OidcProvider>, std::less<>> providers_;
  LoginThrottle starts_;
  int64_t flows_per_browser_ = kDefaultFlowsPerBrowser;
  FactorCheck has_factor_;  // per-address start budget (its IP buckets; in memory, per instance)
};

// Roles from the identity's claims by `settings` (default_roles, then the table's roles for
// each value of roles_claim), space-separated, each once.
std::string RolesFor(const UpstreamSettings& settings, const boost::json::object& claims);
// The local user id an identity gets when its account is created.
std::string NewUserId(const UpstreamSettings& settings, std::string_view sub);

}  // namespace portcullis::oauth::upstream
