// Federation over a fake provider store and an in-process HTTP peer (verify/fake_http_server.h).
#include "oauth/provider/federation.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <ctime>
#include <fstream>
#include <future>
#include <thread>

#include "jose/key.h"
#include "oauth/provider/memory_provider_store.h"
#include "store/fake_database.h"
#include "verify/fake_http_server.h"

namespace portcullis::oauth {
namespace {

using verify::testing::FakeHttpServer;
using verify::testing::FakeRequest;
using verify::testing::FakeResponse;

std::string Certificate(int64_t not_before, int64_t not_after) {
  auto key = jose::Key::Generate(jose::Alg::kES256).value();
  return key.SelfSignedCertificatePem("peer", not_before, not_after).value();
}

class FederationTest : public ::testing::Test {
 protected:
  void Register(const std::string& id, const std::string& server_url) {
    auto st = db_.Transact("test", [&](store::Tx& tx) {
      return providers_.Insert(tx, Provider{id, server_url, "/oauth2/key", "peer"});
    });
    ASSERT_TRUE(st);
  }

  // The peers here are plain-http fakes on loopback: allowed only with the opt-in.
  static Federation::Options Loopback() {
    Federation::Options o;
    o.allow_http_loopback = true;
    return o;
  }

  store::FakeDatabase db_;
  MemoryProviderStore providers_;
  ManualClock clock_;
};

TEST(IsValidKid, AlphanumericUpTo64) {
  EXPECT_TRUE(IsValidKid("05abcXYZ09"));
  EXPECT_TRUE(IsValidKid(std::string(64, 'a')));
  EXPECT_FALSE(IsValidKid(""));
  EXPECT_FALSE(IsValidKid(std::string(65, 'a')));
  for (const char* bad : {"05/../x", "05%2F", "05 a", "05?x", "05.k", "05-k"}) {
    EXPECT_FALSE(IsValidKid(bad)) << bad;
  }
}

TEST_F(FederationTest, FetchesAndCachesACurrentCertificate) {
  int64_t now = std::time(nullptr);
  std::string pem = Certificate(now - 60, now + 3600);
  std::atomic<int> hits{0};
  std::string target;
  FakeHttpServer peer([&](const FakeRequest& r) {
    ++hits;
    target = r.target;
    return FakeResponse{.body = pem};
  });
  Register("07", "http://127.0.0.1:" + std::to_string(peer.port()));
  Federation federation(providers_, clock_, Loopback());

  auto got = federation.Certificate("07kid1");
  ASSERT_TRUE(got) << got.error().detail;
  EXPECT_EQ(*got, pem);
  // The peer's unauthenticated federation path: its own prefix replaced by 00.
  EXPECT_EQ(target, "/oauth2/key/00kid1");
  got = federation.Certificate("07kid1");
  ASSERT_TRUE(got);
  EXPECT_EQ(hits.load(), 1);  // cached
  EXPECT_EQ(providers_.reads(), 1);

  clock_.Advance(601);  // past cache_seconds
  ASSERT_TRUE(federation.Certificate("07kid1"));
  EXPECT_EQ(hits.load(), 2);
}

TEST_F(FederationTest, RefusesExpiredCertificatesAndCachesTheFailure) {
  int64_t now = std::time(nullptr);
  std::string expired = Certificate(now - 7200, now - 3600);
  std::atomic<int> hits{0};
  FakeHttpServer peer([&](const FakeRequest&) {
    ++hits;
    return FakeResponse{.body = expired};
  });
  Register("07", "http://127.0.0.1:" + std::to_string(peer.port()));
  Federation federation(providers_, clock_, Loopback());
  for (int i = 0; i < 3; ++i) {
    auto got = federation.Certificate("07old");
    ASSERT_FALSE(got);
    EXPECT_EQ(got.error().code, "ERR12017");
  }
  EXPECT_EQ(hits.load(), 1);  // the failure is cached for negative_cache_seconds
  clock_.Advance(31);
  EXPECT_FALSE(federation.Certificate("07old"));
  EXPECT_EQ(hits.load(), 2);
}

TEST_F(FederationTest, MalformedKidsNeverReachTheStore) {
  Federation federation(providers_, clock_, Loopback());
  for (const char* kid : {"07/../../admin", "07", "07a b", ""}) {
    auto got = federation.Certificate(kid);
    ASSERT_FALSE(got);
    EXPECT_EQ(got.error().code, "ERR12030") << kid;
  }
  EXPECT_EQ(providers_.reads(), 0);
  EXPECT_EQ(federation.cache_size(), 0u);
}

TEST_F(FederationTest, UnknownProvidersAndStoreFailures) {
  Federation federation(providers_, clock_, Loopback());
  auto got = federation.Certificate("42kid");
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, "ERR12017");

  providers_.fail_next_calls(1);
  got = federation.Certificate("43kid");
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().http_status, 503);
}

TEST_F(FederationTest, TheCacheIsBoundedUnderAFloodOfKids) {
  Register("07", "http://127.0.0.1:1");  // nothing listens: every fetch fails fast
  Federation::Options o = Loopback();
  o.max_entries = 3;
  o.timeout_ms = 500;
  Federation federation(providers_, clock_, o);
  for (int i = 0; i < 10; ++i) {
    EXPECT_FALSE(federation.Certificate("07k" + std::to_string(i)));
    EXPECT_LE(federation.cache_size(), 3u);
  }
  EXPECT_EQ(federation.cache_size(), 3u);
}

TEST_F(FederationTest, FetchesPerProviderAreCapped) {
  int64_t now = std::time(nullptr);
  std::string pem = Certificate(now - 60, now + 3600);
  std::promise<void> entered, release;
  auto released = release.get_future().share();
  std::atomic<int> hits{0};
  FakeHttpServer peer([&](const FakeRequest&) {
    if (hits++ == 0) {
      entered.set_value();
      released.wait();
    }
    return FakeResponse{.body = pem};
  });
  Register("07", "http://127.0.0.1:" + std::to_string(peer.port()));
  Federation::Options o = Loopback();
  o.max_in_flight = 1;
  Federation federation(providers_, clock_, o);
  auto first = std::async(std::launch::async, [&] { return federation.Certificate("07one"); });
  entered.get_future().wait();  // the first fetch is running at the peer
  auto second = federation.Certificate("07two");
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().http_status, 503);
  release.set_value();
  auto got = first.get();
  ASSERT_TRUE(got) << got.error().detail;
  EXPECT_EQ(*got, pem);
  // The slot is free again.
  EXPECT_TRUE(federation.Certificate("07three"));
  EXPECT_EQ(hits.load(), 2);
}

TEST_F(FederationTest, ABadRegisteredUrlIsNotFetched) {
  // A URL with user-info would let a registered value steer the request elsewhere.
  Register("07", "http://user@127.0.0.1:1");
  Federation federation(providers_, clock_, Loopback());
  auto got = federation.Certificate("07kid");
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, "ERR12017");
}

TEST_F(FederationTest, PlainHttpIsFetchedOnlyFromLoopbackWithTheOptIn) {
  int64_t now = std::time(nullptr);
  std::string pem = Certificate(now - 60, now + 3600);
  std::atomic<int> hits{0};
  FakeHttpServer peer([&](const FakeRequest&) {
    ++hits;
    return FakeResponse{.body = pem};
  });
  // A row written around registration (an import, an older version): plain http is refused
  // before any request, so the certificate never travels unencrypted.
  Register("07", "http://127.0.0.1:" + std::to_string(peer.port()));
  Federation strict(providers_, clock_, {});
  auto got = strict.Certificate("07kid");
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, "ERR12017");
  EXPECT_EQ(hits.load(), 0);
  // The opt-in allows loopback only.
  Register("08", "http://peer.example:" + std::to_string(peer.port()));
  Federation loopback(providers_, clock_, Loopback());
  EXPECT_FALSE(loopback.Certificate("08kid"));
  ASSERT_TRUE(loopback.Certificate("07kid"));
  EXPECT_EQ(hits.load(), 1);
}

TEST_F(FederationTest, FetchesOverVerifiedTls) {
  int64_t now = std::time(nullptr);
  std::string pem = Certificate(now - 60, now + 3600);
  auto server_key = jose::Key::Generate(jose::Alg::kES256).value();
  std::string server_cert =
      server_key.SelfSignedCertificatePem("localhost", now - 60, now + 3600).value();
  // Per process: tests run concurrently, each in its own process.
  std::string ca_file =
      ::testing::TempDir() + "/federation-ca-" + std::to_string(::getpid()) + ".pem";
  std::ofstream(ca_file) << server_cert;
  std::atomic<int> hits{0};
  FakeHttpServer peer(
      [&](const FakeRequest&) {
        ++hits;
        return FakeResponse{.body = pem};
      },
      server_cert, std::string(server_key.PrivatePem().value().Reveal()));
  Register("07", "https://localhost:" + std::to_string(peer.port()));
  // No opt-in needed for https; the peer is verified against ca_file.
  Federation::Options o;
  o.ca_file = ca_file;
  Federation federation(providers_, clock_, o);
  auto got = federation.Certificate("07kid");
  ASSERT_TRUE(got) << got.error().detail;
  EXPECT_EQ(*got, pem);
  // Without that CA the handshake fails: nothing is served.
  Federation untrusting(providers_, clock_, {});
  EXPECT_FALSE(untrusting.Certificate("07kid"));
  EXPECT_EQ(hits.load(), 1);
}

}  // namespace
}  // namespace portcullis::oauth
