#pragma once
// KeyStore over the store driver (table signing_keys), for both SQLite and PostgreSQL.
// State changes are compare-and-set (WHERE state = from), so instances sharing one database
// never both apply the same transition.

#include "oauth/key/key_store.h"
#include "store/db.h"

namespace portcullis::store {

class SqlKeyStore final : public oauth::KeyStore {
 public:
  explicit SqlKeyStore(Database& db) : db_(db) {}

  Status Create(const oauth::SigningKeyRecord& record) override;
  Result<std::vector<oauth::SigningKeyRecord>> List() override;
  Status UpdateState(std::string_view kid, const oauth::KeyStateChange& change) override;

 private:
  Database& db_;
};

}  // namespace portcullis::store
