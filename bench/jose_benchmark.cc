// Sign and verify throughput of pc_jose, per algorithm, single- and multi-threaded.
//   jose_benchmark --benchmark_filter=Sign
// Results on the 2-core dev machine are in the module report (see the commit message).

#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "common/clock.h"
#include "jose/signer.h"
#include "jose/verifier.h"

namespace portcullis::jose {
namespace {

constexpr char kClaims[] =
    R"({"iss":"urn:com:networknt:oauth2:v1","aud":"urn:com.networknt","exp":1700000600,)"
    R"("jti":"0123456789abcdef","iat":1700000000,"nbf":1699999880,"version":"1.0",)"
    R"("client_id":"f7d42348-c647-4efb-a52d-4c5787421e72","scope":["petstore.r","petstore.w"]})";

struct Fixture {
  std::vector<Signer> signers;
  ManualClock clock{1'700'000'000};
  std::unique_ptr<Verifier> verifier;
  std::vector<std::string> tokens;

  Fixture() {
    KeySet keys;
    for (Alg alg : {Alg::kRS256, Alg::kPS256, Alg::kES256, Alg::kEdDSA}) {
      Key key = Key::Generate(alg).value();
      std::string kid(AlgName(alg));
      signers.push_back(Signer::Create(key, alg, kid).value());
      (void)keys.Add(kid, key, alg);
      tokens.push_back(signers.back().Sign(kClaims).value());
    }
    VerifyOptions options;
    options.issuer = "urn:com:networknt:oauth2:v1";
    options.audience = "urn:com.networknt";
    verifier = std::make_unique<Verifier>(std::move(keys), options, clock);
  }
};

Fixture& F() {
  static Fixture fixture;
  return fixture;
}

void BM_Sign(benchmark::State& state) {
  const Signer& signer = F().signers[state.range(0)];
  state.SetLabel(std::string(AlgName(signer.alg())));
  for (auto _ : state) benchmark::DoNotOptimize(signer.Sign(kClaims));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Sign)->DenseRange(0, 3)->UseRealTime();
BENCHMARK(BM_Sign)->DenseRange(0, 3)->Threads(2)->UseRealTime();

void BM_Verify(benchmark::State& state) {
  const std::string& token = F().tokens[state.range(0)];
  state.SetLabel(std::string(AlgName(F().signers[state.range(0)].alg())));
  for (auto _ : state) {
    auto r = F().verifier->Verify(token);
    if (!r) state.SkipWithError("verification failed");
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Verify)->DenseRange(0, 3)->UseRealTime();
BENCHMARK(BM_Verify)->DenseRange(0, 3)->Threads(2)->UseRealTime();

}  // namespace
}  // namespace portcullis::jose

BENCHMARK_MAIN();
