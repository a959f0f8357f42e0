#pragma once
// Persistence for OpenID Connect Back-Channel Logout 1.0: which clients took part in an SSO
// session (participants), and the logout tokens still to be delivered (the outbox).
//
// SQL implementation: store/sql/logout_store.h (SqlLogoutStore, tables logout_participants and
// logout_outbox, migration 0008_logout.sql); in-memory fake for unit tests:
// memory_logout_store.h. Implementations are thread-safe; calls block (store pool or background
// thread only). Methods taking a `store::Tx&` run inside the caller's transaction, so the
// outbox rows commit together with the sign-out that caused them; the others run on their own.
//
// Several instances may share one store: Claim is a single-winner conditional update, so a row
// is delivered by one instance at a time.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace portcullis::store {
class Tx;
}

namespace portcullis::oauth {

// A client that received a code within the SSO session `sid` of `user_id`.
struct LogoutParticipant {
  std::string sid;
  std::string client_id;
  std::string user_id;
  int64_t expires_at = 0;
};

// One logout token to deliver to `client_id`'s backchannel_logout_uri (read from the client
// when it is sent, so a changed or removed URI is honoured).
struct LogoutDelivery {
  std::string id;  // random, unique
  std::string client_id;
  std::string sub;
  std::string sid;   // empty: none
  int attempts = 0;  // claims so far (a claim counts as an attempt, so a crash is one too)
  int64_t next_attempt_at = 0;
  int64_t created_at = 0;
  int64_t expires_at = 0;
};

class LogoutStore {
 public:
  virtual ~LogoutStore() = default;

  // Records (or extends to the later expiry) that `p.client_id` took part in session `p.sid`.
  virtual Status AddParticipant(const LogoutParticipant& p) = 0;
  // The unexpired participants of a session, and removes every participant row of it.
  virtual Result<std::vector<LogoutParticipant>> TakeParticipants(store::Tx& tx,
                                                                  std::string_view sid,
                                                                  int64_t now) = 0;
  // The same for every session of a user (the user was locked or deleted).
  virtual Result<std::vector<LogoutParticipant>> TakeParticipantsOfUser(store::Tx& tx,
                                                                        std::string_view user_id,
                                                                        int64_t now) = 0;

  virtual Status Enqueue(store::Tx& tx, const LogoutDelivery& d) = 0;
  // The single winner among instances: a row due at `now` (next_attempt_at <= now, unexpired),
  // with attempts incremented and next_attempt_at moved to `now + lease_s`, so nobody else
  // claims it while it is being sent. nullopt when nothing is due.
  virtual Result<std::optional<LogoutDelivery>> Claim(int64_t now, int64_t lease_s) = 0;
  // Delivered or given up.
  virtual Status Remove(std::string_view id) = 0;
  // Not delivered yet: try again at `next_attempt_at`.
  virtual Status Reschedule(std::string_view id, int64_t next_attempt_at) = 0;
  // Deletes expired outbox rows and participants (expires_at <= now); the number of outbox rows
  // dropped, for the log.
  virtual Result<int64_t> Purge(int64_t now) = 0;
};

}  // namespace portcullis::oauth
