#pragma once
// InstanceStore over the store driver (table instances), for SQLite and PostgreSQL.
// Thread-safe; borrows `db`, which must outlive it.

#include "oauth/instance/instance_store.h"
#include "store/db.h"

namespace portcullis::store {

class SqlInstanceStore final : public oauth::InstanceStore {
 public:
  explicit SqlInstanceStore(Database& db) : db_(db) {}

  Status Beat(const oauth::Instance& instance) override;
  Result<std::vector<oauth::Instance>> List() override;
  Status Remove(std::string_view instance_id) override;
  Result<int64_t> Purge(int64_t before) override;

 private:
  Database& db_;
};

}  // namespace portcullis::store
