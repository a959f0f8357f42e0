// Random::System serves small requests from a per-thread buffer (random.cc): every draw must
// still be fresh, within a thread, across threads, and across buffer refills.

#include "common/random.h"

#include <gtest/gtest.h>

#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/encoding.h"

namespace portcullis {
namespace {

TEST(SystemRandom, TokensAreUniqueAcrossRefillsAndThreads) {
  std::mutex mu;
  std::set<std::string> seen;
  size_t drawn = 0;
  auto draw = [&] {
    std::vector<std::string> mine;
    // 16-byte jtis, and odd sizes that leave partial buffers, over many 1 KiB refills.
    for (int i = 0; i < 3000; ++i) mine.push_back(Random::System().Token(i % 5 == 0 ? 33 : 16));
    std::lock_guard lock(mu);
    for (auto& t : mine) seen.insert(std::move(t));
    drawn += 3000;
  };
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) threads.emplace_back(draw);
  for (auto& t : threads) t.join();
  EXPECT_EQ(seen.size(), drawn);
}

TEST(SystemRandom, SizesAroundTheBufferedLimit) {
  for (size_t n : {0, 1, 16, 63, 64, 65, 1000, 5000}) {
    std::string a(n, '\0'), b(n, '\0');
    Random::System().Fill(a.data(), n);
    Random::System().Fill(b.data(), n);
    EXPECT_EQ(Random::System().Token(n).size(), Base64UrlEncode(a).size());
    if (n >= 16) {
      EXPECT_NE(a, b) << n;
      // Not all zero (what an unfilled buffer would hold).
      EXPECT_NE(a, std::string(n, '\0')) << n;
    }
  }
}

}  // namespace
}  // namespace portcullis
