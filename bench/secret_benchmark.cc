// Micro-benchmark: what one credential check costs.
//
//   client secret (keyed digest, HMAC-SHA-256 with the pepper)   the token hot path
//   legacy light-oauth2 PBKDF2-HMAC-SHA1 (1000 iterations)        imported rows, until upgraded
//   user password (argon2id, OWASP: 19 MiB, t=2, p=1)             logins, on the hash pool
//
// Build: cmake --build build/release --target secret_benchmark
// Run:   build/release/src/oauth/credentials/secret_benchmark [--json]
// Prints the median and the 99th percentile of single checks, in microseconds.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "oauth/credentials/secret_hash.h"

namespace {

using portcullis::Secret;
namespace oauth = portcullis::oauth;

struct Stats {
  const char* name;
  int runs;
  double median_us;
  double p99_us;
  double mean_us;
};

volatile bool g_sink = false;  // keeps the checks from being optimised away

Stats Measure(const char* name, int runs, const std::function<bool()>& check) {
  for (int i = 0; i < std::max(1, runs / 20); ++i) g_sink = check();  // warm-up
  std::vector<double> us;
  us.reserve(runs);
  double total = 0;
  for (int i = 0; i < runs; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    bool ok = check();
    auto t1 = std::chrono::steady_clock::now();
    if (!ok) {
      std::fprintf(stderr, "%s: check failed\n", name);
      std::exit(1);
    }
    double d = std::chrono::duration<double, std::micro>(t1 - t0).count();
    us.push_back(d);
    total += d;
  }
  std::sort(us.begin(), us.end());
  return Stats{name, runs, us[us.size() / 2], us[std::min(us.size() - 1, us.size() * 99 / 100)],
               total / runs};
}

}  // namespace

int main(int argc, char** argv) {
  bool json = argc > 1 && std::strcmp(argv[1], "--json") == 0;
  oauth::SecretHasher hasher(Secret(std::string(32, 'p')));
  const std::string secret = "hJ1x9w1c0Zq7oQe3y4Kq8m2YtVb6nR5sUd0aLkPzXcE";  // 43 chars, 256 bits
  const std::string digest = hasher.Digest(secret);
  const std::string legacy = oauth::HashPbkdf2ForTest(
      "f6h1FTI8Q3-7UScPZDzfXA", "[73, -66, -69, 116, 126, 62, 78, 4, -78, -115, -53]", 1000);
  const std::string password = "correct horse battery staple";
  const std::string argon = oauth::HashPassword(password).value();

  std::vector<Stats> all;
  all.push_back(
      Measure("client_secret_hmac_sha256", 200000, [&] { return hasher.Verify(secret, digest); }));
  all.push_back(Measure("client_secret_legacy_pbkdf2_sha1_1000", 2000,
                        [&] { return hasher.Verify("f6h1FTI8Q3-7UScPZDzfXA", legacy); }));
  all.push_back(Measure("password_argon2id_19MiB_t2", 40,
                        [&] { return oauth::VerifyPassword(password, argon); }));

  if (json) {
    std::printf("[");
    for (size_t i = 0; i < all.size(); ++i) {
      std::printf(
          "%s{\"name\":\"%s\",\"runs\":%d,\"median_us\":%.3f,\"p99_us\":%.3f,"
          "\"mean_us\":%.3f}",
          i ? "," : "", all[i].name, all[i].runs, all[i].median_us, all[i].p99_us, all[i].mean_us);
    }
    std::printf("]\n");
  } else {
    std::printf("%-40s %10s %12s %12s %12s\n", "check", "runs", "median_us", "p99_us", "mean_us");
    for (const auto& s : all) {
      std::printf("%-40s %10d %12.3f %12.3f %12.3f\n", s.name, s.runs, s.median_us, s.p99_us,
                  s.mean_us);
    }
    std::printf("argon2id / client secret: %.0fx\n", all[2].median_us / all[0].median_us);
  }
  return 0;
}
