#pragma once
// ConsentStore over the store driver (table consents), for SQLite and PostgreSQL.
// Thread-safe; borrows `db`, which must outlive it.

#include "oauth/code/consent_store.h"
#include "store/db.h"

namespace portcullis::store {

class SqlConsentStore final : public oauth::ConsentStore {
 public:
  explicit SqlConsentStore(Database& db) : db_(db) {}

  Result<std::optional<oauth::Consent>> Find(std::string_view realm, std::string_view user_id,
                                             std::string_view client_id) override;
  Result<std::optional<oauth::Consent>> Find(Tx& tx, std::string_view realm,
                                             std::string_view user_id,
                                             std::string_view client_id) override;
  Status Widen(std::string_view realm, std::string_view user_id, std::string_view client_id,
               const std::vector<std::string>& scope, int64_t now) override;
  Result<bool> Delete(Tx& tx, std::string_view realm, std::string_view user_id,
                      std::string_view client_id) override;
  Result<std::vector<oauth::Consent>> List(std::string_view realm,
                                           std::string_view user_id) override;

 private:
  Database& db_;
};

}  // namespace portcullis::store
