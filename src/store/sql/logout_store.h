#pragma once
// LogoutStore over the store driver (tables logout_participants and logout_outbox), for SQLite
// and PostgreSQL. Thread-safe; borrows `db`, which must outlive it.

#include "oauth/logout/logout_store.h"
#include "store/db.h"

namespace portcullis::store {

class SqlLogoutStore final : public oauth::LogoutStore {
 public:
  explicit SqlLogoutStore(Database& db) : db_(db) {}

  Status AddParticipant(const oauth::LogoutParticipant& p) override;
  Result<std::vector<oauth::LogoutParticipant>> TakeParticipants(Tx& tx, std::string_view sid,
                                                                 int64_t now) override;
  Result<std::vector<oauth::LogoutParticipant>> TakeParticipantsOfUser(Tx& tx,
                                                                       std::string_view user_id,
                                                                       int64_t now) override;
  Status Enqueue(Tx& tx, const oauth::LogoutDelivery& d) override;
  Result<std::optional<oauth::LogoutDelivery>> Claim(int64_t now, int64_t lease_s) override;
  Status Remove(std::string_view id) override;
  Status Reschedule(std::string_view id, int64_t next_attempt_at) override;
  Result<int64_t> Purge(int64_t now) override;

 private:
  Database& db_;
};

}  // namespace portcullis::store
