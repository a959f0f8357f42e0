#pragma once
// UpstreamStore over the store driver (tables upstream_flows, upstream_links; users for the
// e-mail lookup), for SQLite and PostgreSQL. Thread-safe; borrows `db`, which must outlive it.

#include "oauth/upstream/upstream_store.h"
#include "store/db.h"

namespace portcullis::store {

class SqlUpstreamStore final : public oauth::upstream::UpstreamStore {
 public:
  explicit SqlUpstreamStore(Database& db) : db_(db) {}

  Status SaveFlow(const oauth::upstream::PendingFlow& flow) override;
  Result<std::optional<oauth::upstream::PendingFlow>> TakeFlow(std::string_view state_hash,
                                                               int64_t now) override;
  Status PurgeFlows(int64_t now) override;
  Status CapFlows(std::string_view binding_hash, int64_t keep, int64_t now) override;
  Result<std::optional<oauth::upstream::Link>> FindLink(Tx& tx, std::string_view authenticator,
                                                        std::string_view subject) override;
  Result<bool> InsertLink(Tx& tx, const oauth::upstream::Link& link) override;
  Result<std::vector<std::string>> UsersWithEmail(Tx& tx, std::string_view email) override;

 private:
  Database& db_;
};

}  // namespace portcullis::store
