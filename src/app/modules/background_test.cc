// The background loop without a thread: RunOnce with a manual clock, a lease in memory.
#include "app/modules/background.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "oauth/schedule/memory_job_lease.h"

namespace portcullis::app {
namespace {

TEST(Background, ChangesReachOnlyTheHandlersOfTheirKindOncePerId) {
  oauth::MemoryJobLease lease;
  ManualClock clock(1000);
  Background bg(lease, clock, 5);
  std::vector<std::string> clients;
  int keys = 0, full = 0;
  bg.OnChange("client", "clients.refresh", [&](std::string_view id) -> Status {
    clients.emplace_back(id);
    return {};
  });
  bg.OnAnyChange("key", "keys.reload", [&]() -> Status {
    ++keys;
    return {};
  });
  bg.OnFullReload("all", [&]() -> Status {
    ++full;
    return {};
  });
  bg.RunOnce(1000);  // the first pass is a full reload
  EXPECT_EQ(full, 1);

  bg.Changed("client", "a");
  bg.Changed("client", "b");
  bg.Changed("client", "a");
  bg.Changed("key", "100");
  bg.Changed("key", "101");
  bg.Changed("service", "s1");  // nobody listens: ignored
  bg.RunOnce(1001);
  EXPECT_EQ(clients, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(keys, 1);
  EXPECT_EQ(full, 1);

  bg.RunOnce(1002);  // nothing pending
  EXPECT_EQ(clients.size(), 2u);
  EXPECT_EQ(keys, 1);

  bg.Changed("*", "");  // notifications may have been missed: reload everything
  bg.Changed("client", "c");
  bg.RunOnce(1003);
  EXPECT_EQ(full, 2);
  EXPECT_EQ(clients.size(), 2u);  // covered by the full reload
  bg.RunOnce(1061);               // a minute after the last full reload
  EXPECT_EQ(full, 2);
  bg.RunOnce(1064);
  EXPECT_EQ(full, 3);
}

TEST(Background, TheFullReloadComesEveryFullReloadSeconds) {
  oauth::MemoryJobLease lease;
  ManualClock clock(1000);
  Background bg(lease, clock, 5, 300);
  int full = 0;
  bg.OnFullReload("all", [&]() -> Status {
    ++full;
    return {};
  });
  bg.RunOnce(1000);
  bg.RunOnce(1061);
  bg.RunOnce(1299);
  EXPECT_EQ(full, 1);
  bg.RunOnce(1300);
  EXPECT_EQ(full, 2);
}

// Two instances share a store: each job runs on one of them, the lease holder; a job only one
// instance runs has that instance as its runner even when the other holds other leases.
TEST(Background, EachJobRunsOnTheHolderOfItsLease) {
  oauth::MemoryJobLease lease;
  ManualClock clock(1000);
  Background a(lease, clock, 5), b(lease, clock, 5);
  int a_tick = 0, b_tick = 0, b_purge = 0;
  a.AddJob("keys.tick", 0, [&]() -> Status {
    ++a_tick;
    return {};
  });
  b.AddJob("keys.tick", 0, [&]() -> Status {
    ++b_tick;
    return {};
  });
  b.AddJob("token.purge", 60, [&]() -> Status {
    ++b_purge;
    return {};
  });
  for (int64_t now = 1000; now < 1100; ++now) {
    a.RunOnce(now);
    b.RunOnce(now);
  }
  // a took keys.tick first and renews it every 5 s; b never runs it.
  EXPECT_EQ(a_tick, 20);
  EXPECT_EQ(b_tick, 0);
  // token.purge is b's alone: at 1000 and 1060.
  EXPECT_EQ(b_purge, 2);

  // a stops: once its lease has lapsed, b takes keys.tick over.
  for (int64_t now = 1100; now < 1130; ++now) b.RunOnce(now);
  EXPECT_EQ(b_tick, 3);  // 1115, 1120, 1125: a's last renewal (1095) ran until 1110
}

// A local job (the instance heartbeat) runs on every instance, lease or not, and takes none.
TEST(Background, LocalJobsRunOnEveryInstance) {
  oauth::MemoryJobLease lease;
  ManualClock clock(1000);
  Background a(lease, clock, 5), b(lease, clock, 5);
  int a_beats = 0, b_beats = 0;
  a.AddLocalJob("instance.heartbeat", 10, [&]() -> Status {
    ++a_beats;
    return {};
  });
  b.AddLocalJob("instance.heartbeat", 10, [&]() -> Status {
    ++b_beats;
    return {};
  });
  for (int64_t now = 1000; now < 1030; ++now) {
    a.RunOnce(now);
    b.RunOnce(now);
  }
  EXPECT_EQ(a_beats, 3);  // 1000, 1010, 1020
  EXPECT_EQ(b_beats, 3);
  EXPECT_NE(a.instance_id(), b.instance_id());
  // Nobody holds a lease named after it: a leased job of that name is still free.
  auto held = lease.Hold("instance.heartbeat", "other", 1030, 1045);
  ASSERT_TRUE(held);
  EXPECT_TRUE(*held);
}

TEST(Background, AFailingJobIsRetriedOnItsNextRun) {
  oauth::MemoryJobLease lease;
  ManualClock clock(1000);
  Background bg(lease, clock, 5);
  int runs = 0;
  bg.AddJob("flaky", 10, [&]() -> Status {
    ++runs;
    return Fail(Error::Internal("store down"));
  });
  bg.RunOnce(1000);
  bg.RunOnce(1005);
  bg.RunOnce(1010);
  EXPECT_EQ(runs, 2);
}

// Work queued by any instance (a logout's tokens) is delivered at once by the lease holder,
// not at its next tick; an instance that does not hold the lease leaves it to the holder.
TEST(Background, ANotificationRunsItsJobBeforeTheNextTick) {
  oauth::MemoryJobLease lease;
  ManualClock clock(1000);
  Background holder(lease, clock, 5), other(lease, clock, 5);
  int holder_runs = 0, other_runs = 0;
  holder.AddJob("logout.deliver", 0, [&]() -> Status {
    ++holder_runs;
    return {};
  });
  other.AddJob("logout.deliver", 0, [&]() -> Status {
    ++other_runs;
    return {};
  });
  holder.RunJobOn("logout", "logout.deliver");
  other.RunJobOn("logout", "logout.deliver");
  holder.RunOnce(1000);  // takes the lease and runs on the tick
  other.RunOnce(1000);
  EXPECT_EQ(holder_runs, 1);
  EXPECT_EQ(other_runs, 0);
  holder.RunOnce(1001);  // between ticks, nothing queued: idle
  EXPECT_EQ(holder_runs, 1);
  holder.Changed("logout", "");
  other.Changed("logout", "");
  holder.RunOnce(1002);
  other.RunOnce(1002);
  EXPECT_EQ(holder_runs, 2);
  EXPECT_EQ(other_runs, 0);
  // Only the holder's tick wrote the lease: wake-ups between ticks write nothing.
  EXPECT_EQ(lease.holds(), 2);
  holder.Changed("client", "c1");  // another kind wakes nothing
  holder.RunOnce(1003);
  EXPECT_EQ(holder_runs, 2);
  holder.RunOnce(1005);  // the tick still comes
  EXPECT_EQ(holder_runs, 3);
}

}  // namespace
}  // namespace portcullis::app
