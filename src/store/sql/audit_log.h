#pragma once
// AuditLog over the store driver (table audit_log), for both SQLite and PostgreSQL.

#include "oauth/audit/audit.h"
#include "store/db.h"

namespace portcullis::store {

class SqlAuditLog final : public oauth::audit::AuditLog {
 public:
  explicit SqlAuditLog(Database& db) : db_(db) {}

  Status Record(Tx& tx, int64_t now, oauth::audit::Entry entry) override;
  Result<oauth::audit::Page> List(const oauth::audit::Query& query) override;

 private:
  Database& db_;
};

}  // namespace portcullis::store
