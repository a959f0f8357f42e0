#pragma once
// ProviderStore over the store driver (table providers), for both SQLite and PostgreSQL.
// Holds a reference to `db`, which must outlive it. Thread-safe.

#include "oauth/provider/provider_store.h"
#include "store/db.h"

namespace portcullis::store {

class SqlProviderStore final : public oauth::ProviderStore {
 public:
  explicit SqlProviderStore(Database& db) : db_(db) {}

  Status Insert(Tx& tx, const oauth::Provider& provider) override;
  Result<std::optional<oauth::Provider>> LoadForUpdate(Tx& tx,
                                                       std::string_view provider_id) override;
  Status Update(Tx& tx, const oauth::Provider& provider) override;
  Status Delete(Tx& tx, std::string_view provider_id) override;

  Result<std::optional<oauth::Provider>> Get(std::string_view provider_id) override;
  Result<std::vector<oauth::Provider>> List() override;

 private:
  Database& db_;
};

}  // namespace portcullis::store
