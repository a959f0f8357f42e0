#pragma once
// SQL fragments that differ by dialect, shared by the SQL stores.

#include <string>

#include "store/db.h"

namespace portcullis::store {

// " COLLATE BINARY" (SQLite) or " COLLATE \"C\"" (PostgreSQL): ids sort by bytes on both
// backends (PostgreSQL would otherwise sort by locale), so pages and fakes agree.
inline std::string ByteOrder(Dialect d) {
  return d == Dialect::kPostgres ? " COLLATE \"C\"" : " COLLATE BINARY";
}

// " FOR UPDATE" on PostgreSQL; SQLite's BEGIN IMMEDIATE already serializes writers.
inline std::string ForUpdate(Dialect d) { return d == Dialect::kPostgres ? " FOR UPDATE" : ""; }

}  // namespace portcullis::store
