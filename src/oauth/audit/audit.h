#pragma once
// The admin audit trail: who changed what, when, with the state before and after. Every
// registry write records its entry inside its own transaction, so a change and its audit row
// commit or roll back together. Entries never hold secrets: the models' JSON forms carry none,
// and Record scrubs secret-named members again before writing.
//
// Thread-safety: free functions over a store; safe from any thread, blocking (store pool only).

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "common/error.h"
#include "store/db.h"

namespace portcullis::oauth::audit {

struct Entry {
  std::string actor;        // "client:<id>", "user:<id>", "cli:<login>", "import", "bootstrap"
  std::string action;       // e.g. "client.create", "client.link", "user.password"
  std::string entity_kind;  // "client", "service", "user", "provider", "refresh_token", ...
  std::string entity_id;
  std::optional<boost::json::value> before;  // nullopt: the entity did not exist
  std::optional<boost::json::value> after;   // nullopt: the entity no longer exists
};

// Removes members whose names denote secrets (clientSecret, password, ...), at any depth.
void Scrub(boost::json::value& value);

struct Row {
  int64_t id = 0;
  int64_t at = 0;
  std::string actor;
  std::string action;
  std::string entity_kind;
  std::string entity_id;
  std::string before_json;  // empty: none
  std::string after_json;
};

struct Query {
  std::string entity_kind;  // empty: any
  std::string entity_id;
  std::string actor;
  std::string action;            // exact action, or a prefix ending in '.', e.g. "client."
  std::optional<int64_t> since;  // at >= since
  std::optional<int64_t> until;  // at < until
  int64_t offset = 0;
  int64_t limit = 50;
};

struct Page {
  std::vector<Row> entries;  // newest first
  int64_t total = 0;         // entries matching the filters
};

// The audit trail's store (SQL: store/sql/audit_log.h; fake: MemoryAuditLog below).
// Thread-safe; calls block (store pool only).
class AuditLog {
 public:
  virtual ~AuditLog() = default;
  // Writes `entry` (scrubbed of secrets first) at time `now` (unix seconds) inside the caller's
  // transaction `tx`, so the change and its audit row commit or roll back together.
  virtual Status Record(store::Tx& tx, int64_t now, Entry entry) = 0;
  // Entries matching `query`, newest first, with the total count.
  virtual Result<Page> List(const Query& query) = 0;
};

// In-memory AuditLog for unit tests over fake stores (ignores `tx`; no rollback).
class MemoryAuditLog final : public AuditLog {
 public:
  Status Record(store::Tx& tx, int64_t now, Entry entry) override;
  Result<Page> List(const Query& query) override;

 private:
  std::mutex mu_;
  std::vector<Row> rows_;
};

// The JSON text an entry stores for a before/after value: scrubbed, or empty for none.
std::string StoredJson(const std::optional<boost::json::value>& v);

// {"id","at","actor","action","entityKind","entityId","before","after"}; before/after are the
// recorded JSON objects or null.
boost::json::object RowToJson(const Row& row);

}  // namespace portcullis::oauth::audit
