#pragma once
// DeviceGrantStore over the store driver (table device_grants), for SQLite and PostgreSQL.
// The user's decision and the redemption are each one conditional UPDATE, so concurrent calls,
// from this instance or another sharing the database, have exactly one winner. Borrows `db`,
// which must outlive it; thread-safe.

#include "oauth/device/device_store.h"
#include "store/db.h"

namespace portcullis::store {

class SqlDeviceGrantStore final : public oauth::DeviceGrantStore {
 public:
  explicit SqlDeviceGrantStore(Database& db) : db_(db) {}

  Result<bool> Insert(const oauth::DeviceGrant& grant) override;
  Result<std::optional<oauth::DeviceGrant>> FindByUserCode(
      std::string_view user_code_hash) override;
  Result<bool> Decide(std::string_view user_code_hash, bool approve,
                      const oauth::DeviceApproval& who, int64_t now) override;
  Result<std::optional<oauth::DeviceGrant>> Lock(Tx& tx,
                                                 std::string_view device_code_hash) override;
  Status RecordPoll(Tx& tx, std::string_view device_code_hash, int64_t now,
                    int64_t interval) override;
  Result<std::optional<oauth::DeviceGrant>> Consume(Tx& tx, std::string_view device_code_hash,
                                                    std::string_view client_id,
                                                    int64_t now) override;
  Status ExpireForUser(Tx& tx, std::string_view user_id, int64_t now) override;
  Status ExpireForUserClient(Tx& tx, std::string_view user_id, std::string_view client_id,
                             int64_t now) override;
  Status PurgeExpired(Tx& tx, int64_t cutoff) override;

 private:
  Database& db_;
};

}  // namespace portcullis::store
