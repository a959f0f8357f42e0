#include "oauth/token/revocation_list.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "oauth/token/memory_token_state_store.h"

// Counts this thread's allocations, so a test can show that a lookup makes none.
namespace {
thread_local int64_t allocations = 0;
}  // namespace

void* operator new(std::size_t n) {
  ++allocations;
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace portcullis::oauth {
namespace {

// A deny-list store that fails on demand.
class FailingDenyList final : public DenyListStore {
 public:
  Status Add(std::string_view, int64_t) override { return Fail(Error::Unavailable("store down")); }
  Result<std::vector<std::pair<std::string, int64_t>>> LoadSince(int64_t) override {
    return Fail(Error::Unavailable("store down"));
  }
  Status PurgeExpired(store::Tx&, int64_t) override { return {}; }
};

TEST(RevocationListTest, AddStoresAndRemembers) {
  MemoryDenyList store;
  ManualClock clock(1000);
  RevocationList list(store, clock, 60);
  EXPECT_FALSE(list.Contains("j1"));
  ASSERT_TRUE(list.Add("j1", 1100));
  EXPECT_TRUE(list.Contains("j1"));
  EXPECT_FALSE(list.Contains("j"));
  EXPECT_FALSE(list.Contains("j1 "));
  EXPECT_EQ(store.size(), 1u);
  EXPECT_EQ(list.retention_s(), 60);
}

TEST(RevocationListTest, ContainsAllocatesNothing) {
  MemoryDenyList store;
  ManualClock clock(1000);
  RevocationList list(store, clock);
  list.Remember("a-jti-long-enough-to-defeat-the-small-string-buffer", 1100);
  const std::string_view hit = "a-jti-long-enough-to-defeat-the-small-string-buffer";
  const std::string_view miss = "another-jti-long-enough-to-defeat-the-small-string-buffer";
  int64_t before = allocations;
  bool found = list.Contains(hit);
  bool missing = list.Contains(miss);
  int64_t after = allocations;
  EXPECT_TRUE(found);
  EXPECT_FALSE(missing);
  EXPECT_EQ(after - before, 0);
}

TEST(RevocationListTest, AFailedStoreWriteRemembersNothing) {
  FailingDenyList store;
  ManualClock clock(1000);
  RevocationList list(store, clock);
  EXPECT_FALSE(list.Add("j1", 1100));
  EXPECT_FALSE(list.Contains("j1"));
  EXPECT_FALSE(list.Reload());
}

TEST(RevocationListTest, RememberDoesNotWriteTheStore) {
  MemoryDenyList store;
  ManualClock clock(1000);
  RevocationList list(store, clock);
  list.Remember("j1", 1100);
  EXPECT_TRUE(list.Contains("j1"));
  EXPECT_EQ(store.size(), 0u);
}

TEST(RevocationListTest, EntriesAreSortedAndWithinRetention) {
  MemoryDenyList store;
  ManualClock clock(1000);
  RevocationList list(store, clock, 60);
  list.Remember("b", 1100);
  list.Remember("a", 945);   // past exp, within retention
  list.Remember("c", 940);   // 940 + 60 = now: dropped
  list.Remember("b", 1200);  // remembered again: the later exp wins
  auto entries = list.Entries();
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0], std::make_pair(std::string("a"), int64_t{945}));
  EXPECT_EQ(entries[1], std::make_pair(std::string("b"), int64_t{1200}));
  EXPECT_TRUE(list.Contains("c")) << "Contains ignores retention; verification checks exp";
}

TEST(RevocationListTest, ReloadReplacesTheSetWithTheStoresEntriesWithinRetention) {
  MemoryDenyList store;
  ManualClock clock(1000);
  ASSERT_TRUE(store.Add("stored", 1100));
  ASSERT_TRUE(store.Add("stale", 940));  // expires_at must be > now - retention
  RevocationList list(store, clock, 60);
  list.Remember("local-only", 1100);
  ASSERT_TRUE(list.Reload());
  EXPECT_TRUE(list.Contains("stored"));
  EXPECT_FALSE(list.Contains("stale"));
  EXPECT_FALSE(list.Contains("local-only"));
}

TEST(RevocationListTest, DenyListRetentionIsAtLeastTheResourceServerLeeway) {
  EXPECT_EQ(DenyListRetention(0), kResourceServerLeeway);
  EXPECT_EQ(DenyListRetention(30), 60);
  EXPECT_EQ(DenyListRetention(300), 300);
}

// Readers never see a torn set: every jti a writer added before a reader looked is found, and
// jtis never added are never found, while writers add and reload concurrently.
TEST(RevocationListTest, ConcurrentReadersWhileWritersAddAndReload) {
  MemoryDenyList store;
  ManualClock clock(1000);
  RevocationList list(store, clock, 60);
  constexpr int kWriters = 2, kPerWriter = 400, kReaders = 4;
  std::atomic<int> added[kWriters] = {};
  std::atomic<bool> done{false};
  std::atomic<int64_t> misses{0}, false_hits{0}, reads{0};

  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      for (int i = 0; i < kPerWriter; ++i) {
        ASSERT_TRUE(list.Add("w" + std::to_string(w) + "-" + std::to_string(i), 2000));
        added[w].store(i + 1, std::memory_order_release);
        // Reload reads the store, which holds every Add that returned: nothing is lost.
        if (i % 50 == 0) {
          ASSERT_TRUE(list.Reload());
        }
      }
    });
  }
  for (int r = 0; r < kReaders; ++r) {
    threads.emplace_back([&, r] {
      int i = 0;
      while (!done.load(std::memory_order_acquire)) {
        int w = (r + i++) % kWriters;
        int n = added[w].load(std::memory_order_acquire);
        if (n > 0) {
          std::string jti = "w" + std::to_string(w) + "-" + std::to_string(i % n);
          if (!list.Contains(jti)) misses.fetch_add(1);
        }
        if (list.Contains("never-added")) false_hits.fetch_add(1);
        (void)list.Entries().size();
        reads.fetch_add(1);
      }
    });
  }
  for (int w = 0; w < kWriters; ++w) threads[w].join();
  done.store(true, std::memory_order_release);
  for (size_t t = kWriters; t < threads.size(); ++t) threads[t].join();

  EXPECT_EQ(misses.load(), 0);
  EXPECT_EQ(false_hits.load(), 0);
  EXPECT_GT(reads.load(), 0);
  EXPECT_EQ(list.Entries().size(), static_cast<size_t>(kWriters * kPerWriter));
}

}  // namespace
}  // namespace portcullis::oauth
