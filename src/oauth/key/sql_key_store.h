#pragma once
// KeyStore over the store driver (table signing_keys), for both SQLite and PostgreSQL.
// State changes are compare-and-set (WHERE state = from), so instances sharing one database
// never both apply the same transition.

#include "oauth/key/key_store.h"
#include "store/db.h"

namespace portcullis::oauth {

class SqlKeyStore final : public KeyStore {
 public:
  explicit SqlKeyStore(store::Database& db) : db_(db) {}

  Status Create(const SigningKeyRecord& record) override;
  Result<std::vector<SigningKeyRecord>> List() override;
  Status UpdateState(std::string_view kid, const KeyStateChange& change) override;

 private:
  store::Database& db_;
};

}  // namespace portcullis::oauth
