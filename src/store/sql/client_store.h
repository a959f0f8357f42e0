#pragma once
// ClientStore over the store driver (tables clients, client_endpoints; reads services and
// service_endpoints for link targets), for both SQLite and PostgreSQL. The one column list of
// the clients table lives in client_store.cc: Insert, InsertIfAbsent (the light-oauth2
// importer's path), Update and every read are built from it.

#include "oauth/client/client_store.h"
#include "store/db.h"

namespace portcullis::store {

class SqlClientStore final : public oauth::ClientStore {
 public:
  // `db` must outlive the store.
  explicit SqlClientStore(Database& db) : db_(db) {}

  Result<std::optional<oauth::Client>> Find(std::string_view client_id) override;
  Result<std::vector<oauth::Client>> FindAll() override;
  Result<std::optional<oauth::Client>> Load(Tx& tx, std::string_view client_id) override;
  Result<std::optional<oauth::Client>> LoadForUpdate(Tx& tx, std::string_view client_id) override;
  Status Insert(Tx& tx, const oauth::Client& c) override;
  Result<bool> InsertIfAbsent(Tx& tx, const oauth::Client& c) override;
  Result<bool> Update(Tx& tx, const oauth::Client& c) override;
  Result<bool> UpdateSecretHash(Tx& tx, std::string_view client_id, std::string_view secret_hash,
                                int64_t now) override;
  Result<bool> ReplaceSecretHash(Tx& tx, std::string_view client_id, std::string_view from,
                                 std::string_view to, int64_t now) override;
  Result<bool> Delete(Tx& tx, std::string_view client_id) override;
  Result<std::vector<oauth::Client>> List(Tx& tx, const oauth::ClientListQuery& q) override;
  Result<int64_t> Count(Tx& tx, std::string_view host_prefix) override;
  Result<oauth::ClientLinkMap> Links(Tx& tx, std::string_view client_id) override;
  Result<std::vector<std::string>> ServiceLinks(Tx& tx, std::string_view client_id,
                                                std::string_view service_id) override;
  Status ReplaceServiceLinks(Tx& tx, std::string_view client_id, std::string_view service_id,
                             const std::vector<std::string>& endpoints) override;
  Status DeleteLinks(Tx& tx, std::string_view client_id,
                     std::optional<std::string_view> service_id) override;
  Result<std::vector<std::string>> ClientsLinkedTo(Tx& tx, std::string_view service_id) override;
  Result<std::vector<std::string>> LinkedScope(Tx& tx, std::string_view client_id) override;
  Status SetScope(Tx& tx, std::string_view client_id, const std::vector<std::string>& scope,
                  int64_t now) override;
  Result<bool> LockService(Tx& tx, std::string_view service_id) override;
  Result<bool> EndpointExists(Tx& tx, std::string_view service_id,
                              std::string_view endpoint) override;

 private:
  Database& db_;
};

}  // namespace portcullis::store
