// Warm verification throughput of libportcullis-verify (the resource-server side), per
// algorithm, one thread and two: Verify() (signature + claims + identity) and Authorize()
// (plus endpoint match and scope check). Compare with the raw OpenSSL rate:
//   openssl speed -seconds 3 rsa2048 ecdsap256
//   verify_benchmark --benchmark_min_time=3
// Keys are static (warm cache: no fetch ever happens on this path).
//
// Dev machine (2 cores shared with other builds, load 3-6), Release, one thread, CPU time per
// verification (openssl speed also reports CPU time):
//   RS256  Verify ~24.5 us (~40.8k/s per core)   openssl speed rsa2048 verify   45.7k-52.7k/s
//   ES256  Verify ~83.6 us (~12.0k/s per core)   openssl speed ecdsap256 verify 11.9k-13.6k/s
// i.e. ~85% of raw RSA and ~94% of raw ECDSA; the rest is base64url, two JSON parses and the
// identity. Authorize() adds the endpoint match and scope check (within noise here).

#include <benchmark/benchmark.h>

#include <memory>
#include <string>

#include <boost/json.hpp>

#include "common/clock.h"
#include "jose/key.h"
#include "jose/signer.h"
#include "portcullis/verify.h"

namespace {

namespace json = boost::json;
namespace pv = portcullis::verify;
using portcullis::jose::Alg;

struct Fixture {
  std::unique_ptr<pv::Verifier> verifier;
  std::string rs256, es256;

  Fixture() {
    int64_t now = portcullis::SystemClock::Instance().Now();
    json::object claims{{"iss", "https://auth.example.com"},
                        {"aud", "urn:com.networknt"},
                        {"exp", now + 86400},
                        {"iat", now},
                        {"nbf", now - 120},
                        {"version", "1.0"},
                        {"jti", "0123456789abcdef"},
                        {"client_id", "f7d42348-c647-4efb-a52d-4c5787421e72"},
                        {"scope", json::array{"petstore.r", "petstore.w"}}};
    json::array jwks;
    for (auto [alg, kid, out] :
         {std::tuple{Alg::kRS256, "rs", &rs256}, std::tuple{Alg::kES256, "es", &es256}}) {
      auto key = portcullis::jose::Key::Generate(alg).value();
      jwks.push_back(key.ToPublicJwk(kid, alg).value());
      *out = portcullis::jose::Signer::Create(key, alg, kid)
                 .value()
                 .Sign(json::serialize(claims))
                 .value();
    }
    pv::Options o;
    o.jwks_json = json::serialize(json::object{{"keys", jwks}});
    o.issuer = "https://auth.example.com";
    o.audience = "urn:com.networknt";
    o.endpoints_json = R"([{"endpoint":"/v1/pets@get","scope":"petstore.r"},)"
                       R"({"endpoint":"/v1/pets/{petId}@get","scope":"petstore.r"},)"
                       R"({"endpoint":"/v1/pets@post","scope":"petstore.w"}])";
    verifier = pv::Verifier::Create(std::move(o)).value();
    rs256 = "Bearer " + rs256;
    es256 = "Bearer " + es256;
  }
};

Fixture& F() {
  static Fixture fixture;
  return fixture;
}

void BM_Verify(benchmark::State& state) {
  const std::string& token = state.range(0) == 0 ? F().rs256 : F().es256;
  state.SetLabel(state.range(0) == 0 ? "RS256" : "ES256");
  for (auto _ : state) {
    auto d = F().verifier->Verify(token);
    if (!d.allowed()) state.SkipWithError("not allowed");
    benchmark::DoNotOptimize(d);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Verify)->DenseRange(0, 1)->UseRealTime();
BENCHMARK(BM_Verify)->DenseRange(0, 1)->Threads(2)->UseRealTime();

void BM_Authorize(benchmark::State& state) {
  const std::string& token = state.range(0) == 0 ? F().rs256 : F().es256;
  state.SetLabel(state.range(0) == 0 ? "RS256" : "ES256");
  for (auto _ : state) {
    auto d = F().verifier->Authorize("GET", "/v1/pets/42", token);
    if (!d.allowed()) state.SkipWithError("not allowed");
    benchmark::DoNotOptimize(d);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Authorize)->DenseRange(0, 1)->UseRealTime();
BENCHMARK(BM_Authorize)->DenseRange(0, 1)->Threads(2)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
