#pragma once
// Tests only: counts rows of a table over the driver, for tests that check what a store wrote
// (e.g. CountRows(db, "clients WHERE host = 'h'")). Header-only, so a test target needs only
// pc_store.

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "store/db.h"

namespace portcullis::store {

inline int64_t CountRows(Database& db, const std::string& from_where) {
  auto row = db.QueryRow("SELECT count(*) FROM " + from_where);
  EXPECT_TRUE(row) << row.error().detail;
  return row && *row ? (**row).Int(0) : -1;
}

}  // namespace portcullis::store
