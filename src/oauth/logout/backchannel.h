#pragma once
// OpenID Connect Back-Channel Logout 1.0: who to tell when a session ends, and telling them.
//
//   Record        a code was issued to a client within session `sid` (a participant, §2.1);
//   EndSession    inside the sign-out's transaction: every participant of the session whose
//                 client registered a backchannelLogoutUri gets an outbox row (§2.5);
//   EndUser       the same for every session of a user (locked or deleted);
//   DeliverDue    the "logout.deliver" job: claims due rows (one deliverer per row across
//                 instances, LogoutStore::Claim), signs a fresh logout token per attempt
//                 (logout_token.h) and POSTs it as application/x-www-form-urlencoded
//                 `logout_token=...` to the client's URI as registered at that moment (§2.5);
//   Purge         drops expired participants and outbox rows.
//
// Delivery semantics: 2xx is delivered; a network error, 429 or 5xx is retried with exponential
// backoff (retry_base_s × 2^(attempt-1), capped at retry_max_s) up to max_attempts claims or the
// row's expiry; any other status (§2.8: the RP answers 400 when it rejects the token, and the
// same token would be rejected again; 3xx: redirects are not followed) gives up. A client
// deleted or without a URI by then is given up too. Each attempt is logged (client_id, attempt,
// status or error; never the token).
//
// The URL comes only from the client's registration, validated there (https, or http to
// loopback; no fragment, no userinfo); nothing in the end-session request steers it. The
// transport (`HttpPost`) is bounded: one deadline per request, no redirects, capped response.
//
// Ownership: borrows `store`, `clients`, `clock` and `random`; they must outlive it.
// Thread-safety: every member may be called from any thread; calls block (store, network):
// never on an I/O thread.

#include <cstdint>
#include <expected>
#include <functional>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/error.h"
#include "common/random.h"
#include "oauth/logout/logout_store.h"

namespace portcullis::store {
class Tx;
}

namespace portcullis::oauth {

class ClientCatalog;
struct Client;

// The store notification a transaction that queued logout tokens sends at commit.
inline constexpr std::string_view kLogoutQueuedKind = "logout";

struct BackchannelSettings {
  std::string issuer;
  int64_t token_ttl_s = 120;               // logout token exp - iat
  int64_t participant_ttl_s = 30 * 86400;  // the longest SSO session
  int max_attempts = 6;
  int64_t retry_base_s = 10;
  int64_t retry_max_s = 600;
  int64_t outbox_ttl_s = 3600;  // a row not delivered by then is dropped
  int64_t lease_s = 60;         // a claimed row is another instance's again after this
  int batch = 20;               // rows per DeliverDue call at most
  // A DeliverDue call claims no further row once this long has passed, so one slow receiver
  // does not hold the background thread (and the jobs after it) for batch × timeout.
  int64_t pass_budget_s = 10;
};

// Queues a logout token for every participant of every session of `user_id`, inside `tx`: the
// user's sessions end because the account was locked or deleted or its password changed
// (GrantRevocation::OnUserSessionsEnd). It runs wherever the user registry does, without the
// client catalog, so participants are not filtered here: a row for a client without a
// backchannelLogoutUri is dropped when its turn comes. The number of rows queued.
Result<int> QueueUserLogout(LogoutStore& store, store::Tx& tx, std::string_view user_id,
                            const Clock& clock, Random& random, int64_t outbox_ttl_s);
// QueueUserLogout as a GrantRevocation::OnUserSessionsEnd hook. Borrows `store`, `clock` and
// `random`; they must outlive it.
std::function<Status(store::Tx&, std::string_view)> UserLogoutHook(LogoutStore& store,
                                                                   const Clock& clock,
                                                                   Random& random,
                                                                   int64_t outbox_ttl_s);

// The same for the participants of one session `sid` (an administrator ended that session:
// oauth/user/user_access.h), unfiltered as above. Borrows `store`, `clock` and `random`.
Result<int> QueueSessionLogout(LogoutStore& store, store::Tx& tx, std::string_view sid,
                               const Clock& clock, Random& random, int64_t outbox_ttl_s);
std::function<Status(store::Tx&, std::string_view)> SessionLogoutHook(LogoutStore& store,
                                                                      const Clock& clock,
                                                                      Random& random,
                                                                      int64_t outbox_ttl_s);

class BackchannelLogout {
 public:
  // The HTTP status of the POST, or an error text (network, TLS, timeout) for the log.
  using HttpPost = std::function<std::expected<int, std::string>(const std::string& url,
                                                                 const std::string& form_body)>;
  // Signs the claims JSON as a JWS with typ logout+jwt; `alg` is the client's
  // idTokenSignedResponseAlg (empty: the default), which the signer may honour.
  using Sign =
      std::function<Result<std::string>(std::string_view claims_json, std::string_view alg)>;

  BackchannelLogout(LogoutStore& store, const ClientCatalog& clients, Sign sign, HttpPost post,
                    const Clock& clock, Random& random, BackchannelSettings settings);

  Status Record(std::string_view sid, std::string_view client_id, std::string_view user_id);
  // The number of logout tokens queued.
  Result<int> EndSession(store::Tx& tx, std::string_view sid);
  Result<int> EndUser(store::Tx& tx, std::string_view user_id);

  struct Pass {
    int delivered = 0, retried = 0, abandoned = 0;
  };
  Result<Pass> DeliverDue();
  Status Purge();

  const BackchannelSettings& settings() const { return settings_; }

 private:
  Result<int> Queue(store::Tx& tx, const std::vector<LogoutParticipant>& participants);
  enum class Outcome { kDelivered, kRetry, kAbandon };
  Outcome Deliver(const LogoutDelivery& d);

  LogoutStore& store_;
  const ClientCatalog& clients_;
  Sign sign_;
  HttpPost post_;
  const Clock& clock_;
  Random& random_;
  BackchannelSettings settings_;
};

}  // namespace portcullis::oauth
