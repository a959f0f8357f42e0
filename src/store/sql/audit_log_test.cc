// Contract: the SQL audit log and the in-memory fake answer the same queries the same way, on
// SQLite and PostgreSQL.
#include "store/sql/audit_log.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "store/sql/backend_test_fixture.h"

namespace portcullis::store {
namespace {

using oauth::audit::AuditLog;
using oauth::audit::Entry;
using oauth::audit::MemoryAuditLog;

class AuditLogContract : public BackendTest {
 protected:
  void Fill(AuditLog& log) {
    auto st = db().Transact("test", [&](Tx& tx) -> Status {
      for (int i = 0; i < 5; ++i) {
        Entry e{"client:admin",
                i % 2 ? "client.update" : "user.create",
                i % 2 ? "client" : "user",
                "id" + std::to_string(i),
                std::nullopt,
                boost::json::parse(R"({"name":"x","clientSecret":"s3cret"})")};
        if (auto r = log.Record(tx, 100 + i, std::move(e)); !r) return r;
      }
      return {};
    });
    ASSERT_TRUE(st) << st.error().detail;
  }
};

TEST_P(AuditLogContract, SqlAndMemoryAgreeOnFiltersPagingAndScrubbing) {
  SqlAuditLog sql(db());
  MemoryAuditLog memory;
  Fill(sql);
  Fill(memory);
  for (const oauth::audit::Query& q :
       {oauth::audit::Query{}, oauth::audit::Query{.entity_kind = "client"},
        oauth::audit::Query{.action = "user."}, oauth::audit::Query{.since = 101, .until = 104},
        oauth::audit::Query{.offset = 1, .limit = 2}}) {
    auto a = sql.List(q);
    auto b = memory.List(q);
    ASSERT_TRUE(a && b);
    EXPECT_EQ(a->total, b->total);
    ASSERT_EQ(a->entries.size(), b->entries.size());
    for (size_t i = 0; i < a->entries.size(); ++i) {
      EXPECT_EQ(a->entries[i].at, b->entries[i].at);
      EXPECT_EQ(a->entries[i].action, b->entries[i].action);
      EXPECT_EQ(a->entries[i].entity_id, b->entries[i].entity_id);
      EXPECT_EQ(a->entries[i].after_json, b->entries[i].after_json);
      EXPECT_EQ(a->entries[i].after_json.find("s3cret"), std::string::npos);
    }
  }
}

TEST_P(AuditLogContract, ARolledBackChangeLeavesNoEntry) {
  SqlAuditLog sql(db());
  auto st = db().Transact("test", [&](Tx& tx) -> Status {
    if (auto r = sql.Record(tx, 1, Entry{"a", "client.delete", "client", "c1", {}, {}}); !r) {
      return r;
    }
    return Fail(Error::Internal("roll back"));
  });
  ASSERT_FALSE(st);
  auto page = sql.List({});
  ASSERT_TRUE(page);
  EXPECT_EQ(page->total, 0);
}

PORTCULLIS_INSTANTIATE_BACKENDS(AuditLogContract);

}  // namespace
}  // namespace portcullis::store
