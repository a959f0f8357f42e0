#include "oauth/logout/backchannel.h"

#include <algorithm>
#include <vector>

#include "common/encoding.h"
#include "common/log.h"
#include "oauth/client/client_catalog.h"
#include "oauth/logout/logout_token.h"
#include "store/db.h"

namespace portcullis::oauth {

namespace {

LogoutDelivery NewDelivery(const LogoutParticipant& p, int64_t now, Random& random,
                           int64_t outbox_ttl_s) {
  LogoutDelivery d;
  d.id = random.Token(16);
  d.client_id = p.client_id;
  d.sub = p.user_id;
  d.sid = p.sid;
  d.next_attempt_at = now;
  d.created_at = now;
  d.expires_at = now + outbox_ttl_s;
  return d;
}

// Queues one logout token per participant and, at commit, wakes the instance that delivers
// (the lease holder of logout.deliver), so clients hear of the logout at once, not at the
// next tick.
Result<int> EnqueueEach(LogoutStore& store, store::Tx& tx,
                        const std::vector<LogoutParticipant>& participants, int64_t now,
                        Random& random, int64_t outbox_ttl_s) {
  for (const auto& p : participants) {
    if (auto st = store.Enqueue(tx, NewDelivery(p, now, random, outbox_ttl_s)); !st) {
      return Fail(std::move(st.error()));
    }
  }
  if (participants.empty()) return 0;
  if (auto st = tx.Notify(kLogoutQueuedKind, ""); !st) return Fail(std::move(st.error()));
  return static_cast<int>(participants.size());
}

}  // namespace

Result<int> QueueUserLogout(LogoutStore& store, store::Tx& tx, std::string_view user_id,
                            const Clock& clock, Random& random, int64_t outbox_ttl_s) {
  const int64_t now = clock.Now();
  auto taken = store.TakeParticipantsOfUser(tx, user_id, now);
  if (!taken) return Fail(std::move(taken.error()));
  return EnqueueEach(store, tx, *taken, now, random, outbox_ttl_s);
}

std::function<Status(store::Tx&, std::string_view)> UserLogoutHook(LogoutStore& store,
                                                                   const Clock& clock,
                                                                   Random& random,
                                                                   int64_t outbox_ttl_s) {
  return
      [&store, &clock, &random, outbox_ttl_s](store::Tx& tx, std::string_view user_id) -> Status {
        auto n = QueueUserLogout(store, tx, user_id, clock, random, outbox_ttl_s);
        if (!n) return Fail(std::move(n.error()));
        if (*n > 0)
          log::Info("logout.user_sessions_ended", {{"user_id", user_id}, {"backchannel", *n}});
        return {};
      };
}

Result<int> QueueSessionLogout(LogoutStore& store, store::Tx& tx, std::string_view sid,
                               const Clock& clock, Random& random, int64_t outbox_ttl_s) {
  if (sid.empty()) return 0;
  const int64_t now = clock.Now();
  auto taken = store.TakeParticipants(tx, sid, now);
  if (!taken) return Fail(std::move(taken.error()));
  return EnqueueEach(store, tx, *taken, now, random, outbox_ttl_s);
}

std::function<Status(store::Tx&, std::string_view)> SessionLogoutHook(LogoutStore& store,
                                                                      const Clock& clock,
                                                                      Random& random,
                                                                      int64_t outbox_ttl_s) {
  return [&store, &clock, &random, outbox_ttl_s](store::Tx& tx, std::string_view sid) -> Status {
    auto n = QueueSessionLogout(store, tx, sid, clock, random, outbox_ttl_s);
    if (!n) return Fail(std::move(n.error()));
    return {};
  };
}

BackchannelLogout::BackchannelLogout(LogoutStore& store, const ClientCatalog& clients, Sign sign,
                                     HttpPost post, const Clock& clock, Random& random,
                                     BackchannelSettings settings)
    : store_(store),
      clients_(clients),
      sign_(std::move(sign)),
      post_(std::move(post)),
      clock_(clock),
      random_(random),
      settings_(std::move(settings)) {}

Status BackchannelLogout::Record(std::string_view sid, std::string_view client_id,
                                 std::string_view user_id) {
  if (sid.empty()) return {};  // a code without a session (e.g. HTTP Basic): nothing to end
  return store_.AddParticipant({std::string(sid), std::string(client_id), std::string(user_id),
                                clock_.Now() + settings_.participant_ttl_s});
}

Result<int> BackchannelLogout::EndSession(store::Tx& tx, std::string_view sid) {
  if (sid.empty()) return 0;
  auto taken = store_.TakeParticipants(tx, sid, clock_.Now());
  if (!taken) return Fail(std::move(taken.error()));
  return Queue(tx, *taken);
}

Result<int> BackchannelLogout::EndUser(store::Tx& tx, std::string_view user_id) {
  auto taken = store_.TakeParticipantsOfUser(tx, user_id, clock_.Now());
  if (!taken) return Fail(std::move(taken.error()));
  return Queue(tx, *taken);
}

Result<int> BackchannelLogout::Queue(store::Tx& tx,
                                     const std::vector<LogoutParticipant>& participants) {
  std::vector<LogoutParticipant> told;
  for (const auto& p : participants) {
    // Only clients that asked to be told (§2.2); the URI itself is read again when sending.
    auto client = clients_.Find(p.client_id);
    if (client && !client->backchannel_logout_uri.empty()) told.push_back(p);
  }
  return EnqueueEach(store_, tx, told, clock_.Now(), random_, settings_.outbox_ttl_s);
}

Result<BackchannelLogout::Pass> BackchannelLogout::DeliverDue() {
  Pass pass;
  const int64_t start = clock_.Now();
  for (int i = 0; i < settings_.batch; ++i) {
    const int64_t now = clock_.Now();
    if (now - start >= settings_.pass_budget_s) break;
    auto claimed = store_.Claim(now, settings_.lease_s);
    if (!claimed) return Fail(std::move(claimed.error()));
    if (!*claimed) break;
    const LogoutDelivery& d = **claimed;
    Status st;
    switch (Deliver(d)) {
      case Outcome::kDelivered:
        ++pass.delivered;
        st = store_.Remove(d.id);
        break;
      case Outcome::kAbandon:
        ++pass.abandoned;
        st = store_.Remove(d.id);
        break;
      case Outcome::kRetry: {
        if (d.attempts >= settings_.max_attempts) {
          log::Warn("logout.backchannel_gave_up",
                    {{"client_id", d.client_id}, {"attempt", d.attempts}, {"reason", "attempts"}});
          ++pass.abandoned;
          st = store_.Remove(d.id);
          break;
        }
        // Exponential backoff: base, 2×base, 4×base, ... capped.
        int64_t delay = settings_.retry_base_s;
        for (int a = 1; a < d.attempts && delay < settings_.retry_max_s; ++a) delay *= 2;
        delay = std::min(delay, settings_.retry_max_s);
        ++pass.retried;
        st = store_.Reschedule(d.id, clock_.Now() + delay);
        break;
      }
    }
    if (!st) return Fail(std::move(st.error()));
  }
  return pass;
}

BackchannelLogout::Outcome BackchannelLogout::Deliver(const LogoutDelivery& d) {
  auto client = clients_.Find(d.client_id);
  if (!client || client->backchannel_logout_uri.empty()) {
    // Deleted, or never registered a URI (QueueUserLogout does not filter): nothing to tell.
    log::Debug("logout.backchannel_gave_up",
               {{"client_id", d.client_id}, {"attempt", d.attempts}, {"reason", "no_uri"}});
    return Outcome::kAbandon;
  }
  const int64_t now = clock_.Now();
  LogoutTokenClaims claims;
  claims.issuer = settings_.issuer;
  claims.client_id = d.client_id;
  claims.sub = d.sub;
  claims.sid = d.sid;
  claims.jti = random_.Token(16);  // a fresh token per attempt: each one is unique (§2.4 jti)
  claims.iat = now;
  claims.exp = now + settings_.token_ttl_s;
  auto token = sign_(LogoutTokenJson(claims), client->id_token_signed_response_alg);
  if (!token) {
    log::Warn("logout.backchannel_failed", {{"client_id", d.client_id},
                                            {"attempt", d.attempts},
                                            {"error", token.error().description}});
    return Outcome::kRetry;  // e.g. no signing key yet
  }
  auto status = post_(client->backchannel_logout_uri, "logout_token=" + PercentEncode(*token));
  if (!status) {
    log::Warn("logout.backchannel_failed",
              {{"client_id", d.client_id}, {"attempt", d.attempts}, {"error", status.error()}});
    return Outcome::kRetry;
  }
  const int code = *status;
  if (code >= 200 && code < 300) {
    log::Info("logout.backchannel_delivered",
              {{"client_id", d.client_id}, {"attempt", d.attempts}, {"status", code}});
    return Outcome::kDelivered;
  }
  if (code == 429 || code >= 500) {
    log::Warn("logout.backchannel_failed",
              {{"client_id", d.client_id}, {"attempt", d.attempts}, {"status", code}});
    return Outcome::kRetry;
  }
  log::Warn("logout.backchannel_gave_up", {{"client_id", d.client_id},
                                           {"attempt", d.attempts},
                                           {"status", code},
                                           {"reason", "refused"}});
  return Outcome::kAbandon;
}

Status BackchannelLogout::Purge() {
  auto n = store_.Purge(clock_.Now());
  if (!n) return Fail(std::move(n.error()));
  if (*n > 0) log::Warn("logout.backchannel_expired", {{"dropped", *n}});
  return {};
}

}  // namespace portcullis::oauth
