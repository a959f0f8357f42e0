#pragma once
// GrantLookups over SQL: the three reads grants make in other domains' tables (users,
// delegation_policies, services and service_endpoints). LEAD: swap at merge: each becomes a call
// to that domain's store (UserStore::Find(tx, id), DelegationStore::Find(client_id, audience), a
// ServiceStore read), and this file goes. Thread-safe; borrows `db`, which must outlive it.

#include "oauth/token/grant.h"

namespace portcullis::oauth {

class SqlGrantLookups final : public GrantLookups {
 public:
  explicit SqlGrantLookups(store::Database& db) : db_(db) {}

  Result<std::optional<CurrentUser>> FindUser(store::Tx& tx, std::string_view user_id) override;
  Result<std::optional<ExchangePolicy>> FindDelegation(std::string_view client_id,
                                                       std::string_view audience) override;
  Result<std::optional<std::vector<std::string>>> ServiceScopes(
      std::string_view service_id) override;

 private:
  store::Database& db_;
};

}  // namespace portcullis::oauth
