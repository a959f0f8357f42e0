// Contract: the SQL job lease (both backends) and the in-memory one follow the same rules: one
// holder at a time, renewal by the holder, takeover only after the lease has lapsed.
#include "store/sql/job_lease.h"

#include <gtest/gtest.h>

#include "oauth/schedule/memory_job_lease.h"
#include "store/sql/backend_test_fixture.h"

namespace portcullis::store {
namespace {

using oauth::JobLease;

void ExpectLeaseRules(JobLease& lease) {
  auto hold = [&](std::string_view name, std::string_view holder, int64_t now) {
    auto r = lease.Hold(name, holder, now, now + 15);
    EXPECT_TRUE(r) << r.error().detail;
    return r && *r;
  };
  EXPECT_TRUE(hold("keys.tick", "a", 100));    // free: taken
  EXPECT_FALSE(hold("keys.tick", "b", 105));   // a's lease runs until 115
  EXPECT_TRUE(hold("keys.tick", "a", 110));    // renewed until 125
  EXPECT_FALSE(hold("keys.tick", "b", 120));   // still a's after the renewal
  EXPECT_FALSE(hold("keys.tick", "b", 125));   // lapses only strictly after expires_at
  EXPECT_TRUE(hold("keys.tick", "b", 126));    // lapsed: b takes over
  EXPECT_FALSE(hold("keys.tick", "a", 127));   // and a is now the outsider
  EXPECT_TRUE(hold("token.purge", "a", 127));  // leases by name are independent
  EXPECT_FALSE(hold("token.purge", "b", 128));
}

class JobLeaseContract : public BackendTest {};

TEST_P(JobLeaseContract, OneHolderRenewalAndTakeoverAfterLapse) {
  SqlJobLease lease(db());
  ExpectLeaseRules(lease);
}

// Two "instances" (two connections to one database) see one lease.
TEST_P(JobLeaseContract, InstancesSharingAStoreSeeOneLease) {
  auto other = OpenDatabase(url());
  ASSERT_TRUE(other) << other.error().detail;
  SqlJobLease a(db()), b(**other);
  auto first = a.Hold("scheduler", "a", 100, 115);
  ASSERT_TRUE(first);
  EXPECT_TRUE(*first);
  auto second = b.Hold("scheduler", "b", 101, 116);
  ASSERT_TRUE(second);
  EXPECT_FALSE(*second);
}

TEST(MemoryJobLease, FollowsTheSameRules) {
  oauth::MemoryJobLease lease;
  ExpectLeaseRules(lease);
}

PORTCULLIS_INSTANTIATE_BACKENDS(JobLeaseContract);

}  // namespace
}  // namespace portcullis::store
