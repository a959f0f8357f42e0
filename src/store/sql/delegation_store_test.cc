// Contract: SqlDelegationStore on SQLite and PostgreSQL, and MemoryDelegationStore, answer the
// same calls the same way.
#include "store/sql/delegation_store.h"

#include <gtest/gtest.h>

#include <functional>

#include "oauth/client/memory_delegation_store.h"
#include "store/fake_database.h"
#include "store/sql/backend_test_fixture.h"

namespace portcullis::store {
namespace {

using oauth::DelegationPolicy;
using oauth::DelegationStore;

class DelegationStoreContract : public BackendTest {
 protected:
  // Runs `body` on the SQL store over this backend (clients c1, c2 and services S1, S2 exist),
  // then on the fake (audiences S1, S2 declared).
  void OnBoth(const std::function<void(DelegationStore&, Database&)>& body) {
    {
      SCOPED_TRACE(GetParam());
      for (const char* id : {"c1", "c2"}) {
        ASSERT_TRUE(db().Exec(
            "INSERT INTO clients (client_id, client_type, client_profile, client_name, owner_id, "
            "host, created_at, updated_at) VALUES ($1, 'confidential', 'service', $1, 'admin', "
            "'h', 1, 1)",
            {std::string(id)}));
      }
      for (const char* id : {"S1", "S2"}) {
        ASSERT_TRUE(db().Exec(
            "INSERT INTO services (service_id, service_type, service_name, owner_id, host, "
            "created_at, updated_at) VALUES ($1, 'openapi', $1, 'admin', 'h', 1, 1)",
            {std::string(id)}));
      }
      SqlDelegationStore sql(db());
      body(sql, db());
    }
    {
      SCOPED_TRACE("memory");
      FakeDatabase fake;
      oauth::MemoryDelegationStore memory;
      memory.AddAudience("S1");
      memory.AddAudience("S2");
      body(memory, fake);
    }
  }
};

TEST_P(DelegationStoreContract, ReplaceListFindAndDelete) {
  OnBoth([](DelegationStore& s, Database& db) {
    EXPECT_FALSE(*s.Find("c1", "S1"));
    ASSERT_TRUE(db.Transact("test", [&](Tx& tx) -> Status {
      EXPECT_TRUE(*s.AudienceExists(tx, "S1"));
      EXPECT_FALSE(*s.AudienceExists(tx, "nope"));
      if (auto st = s.Replace(tx, "c1",
                              {DelegationPolicy{"ignored", "S2", {"b.r"}, 3},
                               DelegationPolicy{"", "S1", {"a.r", "a.w"}, std::nullopt}});
          !st) {
        return st;
      }
      return s.Replace(tx, "c2", {DelegationPolicy{"", "S1", {"x.r"}, 1}});
    }));
    auto p = s.Find("c1", "S2");
    ASSERT_TRUE(p && *p);
    EXPECT_EQ((*p)->client_id, "c1");
    EXPECT_EQ((*p)->audience, "S2");
    EXPECT_EQ((*p)->scopes, (std::vector<std::string>{"b.r"}));
    EXPECT_EQ((*p)->max_depth, 3);
    auto open = s.Find("c1", "S1");
    ASSERT_TRUE(open && *open);
    EXPECT_EQ((*open)->scopes, (std::vector<std::string>{"a.r", "a.w"}));
    EXPECT_FALSE((*open)->max_depth);  // the configured default applies
    EXPECT_FALSE(*s.Find("c2", "S2"));

    ASSERT_TRUE(db.Transact("test", [&](Tx& tx) -> Status {
      auto list = s.List(tx, "c1");
      EXPECT_EQ(list->size(), 2u);
      EXPECT_EQ(list->at(0).audience, "S1");  // sorted by audience
      EXPECT_EQ(list->at(1).audience, "S2");
      // Replace drops what the new list does not name.
      if (auto st = s.Replace(tx, "c1", {DelegationPolicy{"", "S2", {"b.w"}, 2}}); !st) {
        return st;
      }
      EXPECT_EQ(s.List(tx, "c1")->size(), 1u);
      EXPECT_EQ(s.List(tx, "c2")->size(), 1u);
      return s.Delete(tx, "c1");
    }));
    EXPECT_FALSE(*s.Find("c1", "S2"));
    EXPECT_TRUE(*s.Find("c2", "S1"));
  });
}

PORTCULLIS_INSTANTIATE_BACKENDS(DelegationStoreContract);

}  // namespace
}  // namespace portcullis::store
