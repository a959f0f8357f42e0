#pragma once
// DelegationStore over the store driver (table delegation_policies; reads services for
// AudienceExists), for both SQLite and PostgreSQL.

#include "oauth/client/delegation_store.h"
#include "store/db.h"

namespace portcullis::store {

class SqlDelegationStore final : public oauth::DelegationStore {
 public:
  // `db` must outlive the store.
  explicit SqlDelegationStore(Database& db) : db_(db) {}

  Result<std::optional<oauth::DelegationPolicy>> Find(std::string_view client_id,
                                                      std::string_view audience) override;
  Result<std::vector<oauth::DelegationPolicy>> List(Tx& tx, std::string_view client_id) override;
  Status Replace(Tx& tx, std::string_view client_id,
                 const std::vector<oauth::DelegationPolicy>& policies) override;
  Status Delete(Tx& tx, std::string_view client_id) override;
  Result<bool> AudienceExists(Tx& tx, std::string_view audience) override;

 private:
  Database& db_;
};

}  // namespace portcullis::store
