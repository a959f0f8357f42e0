#pragma once
// ServiceStore over the store driver (tables services, service_endpoints; the client links in
// client_endpoints that hang off removed endpoints), for both SQLite and PostgreSQL.
// Holds a reference to `db`, which must outlive it. Thread-safe.

#include "oauth/service/service_store.h"
#include "store/db.h"

namespace portcullis::store {

class SqlServiceStore final : public oauth::ServiceStore {
 public:
  explicit SqlServiceStore(Database& db) : db_(db) {}

  Status Insert(Tx& tx, const oauth::Service& service) override;
  Result<std::optional<oauth::Service>> LoadForUpdate(Tx& tx, std::string_view service_id) override;
  Status Update(Tx& tx, const oauth::Service& service) override;
  Status Delete(Tx& tx, std::string_view service_id) override;
  Result<std::vector<oauth::Endpoint>> Endpoints(Tx& tx, std::string_view service_id) override;
  Status ReplaceEndpoints(Tx& tx, std::string_view service_id,
                          const std::vector<oauth::Endpoint>& endpoints) override;

  Result<std::optional<oauth::Service>> Get(std::string_view service_id) override;
  Result<oauth::ServicePage> List(std::string_view host_prefix, int64_t offset,
                                  int64_t limit) override;
  Result<std::vector<oauth::Endpoint>> ListEndpoints(std::string_view service_id) override;
  Result<std::vector<oauth::ServiceEntry>> LoadAll() override;
  Result<std::optional<oauth::ServiceEntry>> LoadEntry(std::string_view service_id) override;
  Result<std::optional<std::vector<std::string>>> DeclaredScopes(
      std::string_view service_id) override;

 private:
  Database& db_;
};

}  // namespace portcullis::store
