// ClientJwksCache with an injected clock and a fake fetcher: cache lifetimes from the HTTP
// headers (clamped), the one rate-limited refetch on an unknown kid, stale-on-error, a changed
// jwksUri, and the URL rules of the HTTP fetcher.
#include "oauth/token/client_jwks.h"

#include <gtest/gtest.h>

#include "common/log.h"

namespace portcullis::oauth {
namespace {

// RFC 7517 appendix A.1's P-256 public key under the kid given.
std::string Jwks(std::string_view kid) {
  return R"({"keys":[{"kty":"EC","crv":"P-256","kid":")" + std::string(kid) +
         R"(","x":"MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4",)"
         R"("y":"4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM"}]})";
}

class ClientJwksCacheTest : public ::testing::Test {
 protected:
  void SetUp() override { log::Configure(log::Level::kOff, log::Format::kText); }

  ClientJwksCache Make() {
    return ClientJwksCache(
        [this](std::string_view url) -> Result<FetchedJwks> {
          ++calls;
          last_url = std::string(url);
          if (fail) return Fail(Error::Unavailable("connection refused"));
          return FetchedJwks{body, ttl};
        },
        clock, options);
  }

  ManualClock clock;
  ClientJwksCache::Options options;  // defaults: 300 s, [60, 86400], refetch every 60 s
  std::string body = Jwks("k1");
  std::optional<int64_t> ttl;
  bool fail = false;
  int calls = 0;
  std::string last_url;
};

constexpr std::string_view kUri = "https://rp.example/jwks";

TEST_F(ClientJwksCacheTest, FetchesOnceAndHonoursMaxAge) {
  ttl = 120;
  auto cache = Make();
  auto a = cache.Keys("c1", kUri);
  ASSERT_TRUE(a);
  EXPECT_NE((*a)->Find("k1"), nullptr);
  EXPECT_EQ(last_url, kUri);
  clock.Advance(119);
  ASSERT_TRUE(cache.Keys("c1", kUri));
  EXPECT_EQ(calls, 1);
  clock.Advance(1);  // max-age passed
  body = Jwks("k2");
  auto b = cache.Keys("c1", kUri);
  ASSERT_TRUE(b);
  EXPECT_EQ(calls, 2);
  EXPECT_NE((*b)->Find("k2"), nullptr);
  EXPECT_EQ(cache.fetches(), 2u);
}

TEST_F(ClientJwksCacheTest, LifetimeIsClampedAndDefaulted) {
  auto cache = Make();
  ttl = 1;  // below min_ttl_s (60)
  ASSERT_TRUE(cache.Keys("short", kUri));
  clock.Advance(59);
  ASSERT_TRUE(cache.Keys("short", kUri));
  EXPECT_EQ(calls, 1);
  clock.Advance(1);
  ASSERT_TRUE(cache.Keys("short", kUri));
  EXPECT_EQ(calls, 2);

  ttl = 10LL * 86400;  // above max_ttl_s (86400)
  ASSERT_TRUE(cache.Keys("long", kUri));
  clock.Advance(86400);
  ASSERT_TRUE(cache.Keys("long", kUri));
  EXPECT_EQ(calls, 4);

  ttl.reset();  // no cache headers: default_ttl_s (300)
  ASSERT_TRUE(cache.Keys("plain", kUri));
  clock.Advance(299);
  ASSERT_TRUE(cache.Keys("plain", kUri));
  EXPECT_EQ(calls, 5);
  clock.Advance(1);
  ASSERT_TRUE(cache.Keys("plain", kUri));
  EXPECT_EQ(calls, 6);
}

TEST_F(ClientJwksCacheTest, UnknownKidRefetchesOnceThenIsRateLimited) {
  auto cache = Make();
  auto first = cache.Keys("c1", kUri);
  ASSERT_TRUE(first);
  body = Jwks("k2");  // the client rotated
  auto again = cache.RefetchForUnknownKid("c1", kUri, *first);
  ASSERT_TRUE(again);
  ASSERT_TRUE(again->has_value());
  EXPECT_NE((**again)->Find("k2"), nullptr);
  EXPECT_EQ(calls, 2);
  // Keys now answers the new set from the cache.
  auto now_keys = cache.Keys("c1", kUri);
  ASSERT_TRUE(now_keys);
  EXPECT_EQ(*now_keys, **again);
  // A flood of made-up kids within the interval fetches nothing more.
  for (int i = 0; i < 50; ++i) {
    auto r = cache.RefetchForUnknownKid("c1", kUri, *now_keys);
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->has_value());
  }
  EXPECT_EQ(calls, 2);
  clock.Advance(60);
  auto later = cache.RefetchForUnknownKid("c1", kUri, *now_keys);
  ASSERT_TRUE(later);
  EXPECT_TRUE(later->has_value());
  EXPECT_EQ(calls, 3);
  // Another client has its own budget.
  auto c2 = cache.Keys("c2", kUri);
  ASSERT_TRUE(c2);
  auto other = cache.RefetchForUnknownKid("c2", kUri, *c2);
  ASSERT_TRUE(other);
  EXPECT_TRUE(other->has_value());
  EXPECT_EQ(calls, 5);
}

TEST_F(ClientJwksCacheTest, SetReplacedByAnotherThreadIsReturnedWithoutFetching) {
  auto cache = Make();
  auto old_set = cache.Keys("c1", kUri);
  ASSERT_TRUE(old_set);
  auto seen = *old_set;
  clock.Advance(300);  // expired: the next Keys refetches
  ASSERT_TRUE(cache.Keys("c1", kUri));
  EXPECT_EQ(calls, 2);
  auto r = cache.RefetchForUnknownKid("c1", kUri, seen);
  ASSERT_TRUE(r);
  ASSERT_TRUE(r->has_value());
  EXPECT_NE(**r, seen);
  EXPECT_EQ(calls, 2);
}

TEST_F(ClientJwksCacheTest, FailedFetchUsesStillValidOrRecentlyExpiredSet) {
  auto cache = Make();
  auto good = cache.Keys("c1", kUri);
  ASSERT_TRUE(good);
  fail = true;
  // Fresh set, refetch for an unknown kid fails: the error is reported, the set stays.
  EXPECT_FALSE(cache.RefetchForUnknownKid("c1", kUri, *good));
  auto still = cache.Keys("c1", kUri);
  ASSERT_TRUE(still);
  EXPECT_EQ(*still, *good);
  EXPECT_EQ(calls, 2);
  // Expired, the refetch fails: the old set serves up to stale_if_error_s past its lifetime.
  clock.Advance(300);
  auto stale = cache.Keys("c1", kUri);
  ASSERT_TRUE(stale);
  EXPECT_EQ(*stale, *good);
  EXPECT_EQ(calls, 3);
  // ... without a fetch per request: failures back off for refetch_interval_s.
  ASSERT_TRUE(cache.Keys("c1", kUri));
  EXPECT_EQ(calls, 3);
  clock.Advance(options.stale_if_error_s);
  EXPECT_FALSE(cache.Keys("c1", kUri));
  EXPECT_EQ(calls, 4);
  // Recovery once the server answers again (after the back-off).
  fail = false;
  clock.Advance(60);
  EXPECT_TRUE(cache.Keys("c1", kUri));
  EXPECT_EQ(calls, 5);
}

TEST_F(ClientJwksCacheTest, NoCachedSetAndFailureIsAnErrorWithBackOff) {
  fail = true;
  auto cache = Make();
  auto r = cache.Keys("c1", kUri);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "ERR12007");
  EXPECT_FALSE(cache.Keys("c1", kUri));
  EXPECT_FALSE(cache.RefetchForUnknownKid("c1", kUri, nullptr).value_or(std::nullopt));
  EXPECT_EQ(calls, 1);
  fail = false;
  clock.Advance(60);
  EXPECT_TRUE(cache.Keys("c1", kUri));
  EXPECT_EQ(calls, 2);
}

TEST_F(ClientJwksCacheTest, UnreadableDocumentIsAFailure) {
  body = "<html>not a key set</html>";
  auto cache = Make();
  EXPECT_FALSE(cache.Keys("c1", kUri));
}

TEST_F(ClientJwksCacheTest, ChangedUriStartsOver) {
  auto cache = Make();
  ASSERT_TRUE(cache.Keys("c1", kUri));
  body = Jwks("k9");
  auto moved = cache.Keys("c1", "https://rp.example/other-jwks");
  ASSERT_TRUE(moved);
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(last_url, "https://rp.example/other-jwks");
  EXPECT_NE((*moved)->Find("k9"), nullptr);
  // A changed URI also resets the refetch budget: the first unknown kid may refetch.
  auto r = cache.RefetchForUnknownKid("c1", "https://rp.example/other-jwks", *moved);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->has_value());
}

TEST_F(ClientJwksCacheTest, EntriesAreCapped) {
  options.max_entries = 2;
  auto cache = Make();
  ASSERT_TRUE(cache.Keys("a", kUri));
  clock.Advance(1);
  ASSERT_TRUE(cache.Keys("b", kUri));
  clock.Advance(1);
  ASSERT_TRUE(cache.Keys("a", kUri));  // b is now the least recently used
  clock.Advance(1);
  ASSERT_TRUE(cache.Keys("c", kUri));
  EXPECT_EQ(cache.size(), 2u);
  ASSERT_TRUE(cache.Keys("a", kUri));
  EXPECT_EQ(calls, 3);
  ASSERT_TRUE(cache.Keys("b", kUri));  // evicted: fetched again
  EXPECT_EQ(calls, 4);
  cache.Forget("b");
  EXPECT_EQ(cache.size(), 1u);
}

TEST(JwksUriAllowedTest, HttpsAlwaysLoopbackHttpOnlyWhenConfigured) {
  EXPECT_TRUE(JwksUriAllowed("https://rp.example/jwks", false));
  EXPECT_FALSE(JwksUriAllowed("http://127.0.0.1:8080/jwks", false));
  EXPECT_TRUE(JwksUriAllowed("http://127.0.0.1:8080/jwks", true));
  EXPECT_TRUE(JwksUriAllowed("http://localhost/jwks", true));
  EXPECT_TRUE(JwksUriAllowed("http://[::1]:9/jwks", true));
  EXPECT_FALSE(JwksUriAllowed("http://rp.example/jwks", true));
  EXPECT_FALSE(JwksUriAllowed("http://10.0.0.1/jwks", true));
  EXPECT_FALSE(JwksUriAllowed("http://127.0.0.1.nip.io/jwks", true));
  EXPECT_FALSE(JwksUriAllowed("ftp://rp.example/jwks", true));
}

TEST(HttpJwksFetcherTest, RefusesPlainHttpBeforeConnecting) {
  ManualClock clock;
  auto fetch = HttpJwksFetcher(JwksFetchOptions{}, clock);
  auto r = fetch("http://127.0.0.1:1/jwks");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().detail.find("loopback"), std::string::npos);
}

}  // namespace
}  // namespace portcullis::oauth
