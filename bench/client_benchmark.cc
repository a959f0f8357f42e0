// Overhead of libportcullis-client per outbound call with a warm cache: GetToken() (cache key,
// one mutex, one shared_ptr copy) and ServiceHeaders() (plus the Authorization header), one
// thread and two. The token endpoint is a fake that answers at once: only the first call of a
// run reaches it.
//   client_benchmark --benchmark_min_time=1
//
// Dev machine (2 cores shared with other builds, load ~4), Release, CPU time per call:
//   GetToken warm        ~0.21 us (1 thread)  ~0.26 us (2 threads)
//   ServiceHeaders warm  ~0.30 us (1 thread)  ~0.31 us (2 threads)
// (wall time 0.6-1.1 us under that load). The cost is the cache key (scope normalisation), one
// mutex and one shared_ptr copy; ServiceHeaders adds the "Bearer <token>" string.
// Same machine, load ~3.4:
//   DelegatedHeaders warm  ~1.4 us  (SHA-256 of the ~800-byte incoming token for the cache key)
//   Call warm              ~0.43 us (token, headers, request and response copies; the
//                                    transport answers at once, so the network is excluded)
// Same machine, load ~4.2 (CPU per call; wall in brackets):
//   ServiceHeaders warm, DPoP  ~27 us (~45 us)  a fresh ES256 proof per request: the P-256
//   Call warm, DPoP            ~28 us (~46 us)  signature is nearly all of it
//   Call, built-in transport   to a loopback HTTP server, load ~4 (/0: the server closes after
//                              each response; /1: keep-alive, the connection is reused):
//                              /0 ~79 us wall (~46 us CPU in the caller), /1 ~23 us (~12 us);
//                              with https reuse also saves a TLS handshake per call.
// All figures but the last use an in-memory transport: they are the library's own cost.

#include <benchmark/benchmark.h>

#include <boost/json.hpp>
#include <memory>
#include <string>

#include "jose/key.h"
#include "portcullis/client.h"
#include "verify/fake_http_server.h"

namespace {

namespace pc = portcullis::client;

// NOTE: the clients below use an in-memory Transport that answers at once, so these figures are
// the library's own CPU per call. The built-in transport (used when Options::transport is
// empty) reuses keep-alive connections: BM_CallLoopbackBuiltInTransport measures it on
// loopback over plain HTTP, against a server that keeps connections open and one that closes.
std::unique_ptr<pc::Client> MakeInMemory(bool dpop) {
  pc::Options o;
  o.token_url = "http://127.0.0.1:1/oauth2/token";
  o.client_id = "svc-a";
  o.client_secret = "s3cret";
  if (dpop) {
    auto key = portcullis::jose::Key::Generate(portcullis::jose::Alg::kES256).value();
    o.dpop_key_pem = std::string(key.PrivatePem().value().Reveal());
  }
  o.transport = [dpop](const pc::HttpRequest& r) -> std::expected<pc::HttpResponse, std::string> {
    if (!r.url.ends_with("/token")) return pc::HttpResponse{200, {}, "{}"};  // a callee (Call)
    // A token of typical size (~800 bytes).
    boost::json::object a{{"access_token", std::string(800, 'x')},
                          {"token_type", dpop ? "DPoP" : "Bearer"},
                          {"expires_in", 3600}};
    return pc::HttpResponse{200, {}, boost::json::serialize(a)};
  };
  return pc::Client::Create(std::move(o)).value();
}

pc::Client& Shared() {
  static std::unique_ptr<pc::Client> client = MakeInMemory(false);
  return *client;
}

// DPoP-bound (ES256): every request carries a fresh proof, a P-256 signature.
pc::Client& SharedDpop() {
  static std::unique_ptr<pc::Client> client = MakeInMemory(true);
  return *client;
}

void BM_GetTokenWarm(benchmark::State& state) {
  pc::Client& c = Shared();
  if (!c.GetToken("svc-b", "orders.read orders.write")) state.SkipWithError("no token");
  for (auto _ : state) {
    auto t = c.GetToken("svc-b", "orders.read orders.write");
    benchmark::DoNotOptimize(t);
  }
}
BENCHMARK(BM_GetTokenWarm)->Threads(1)->Threads(2);

void BM_ServiceHeadersWarm(benchmark::State& state) {
  pc::Client& c = Shared();
  for (auto _ : state) {
    auto h = c.ServiceHeaders("svc-b", "orders.read orders.write", "GET", "http://b/orders/1");
    benchmark::DoNotOptimize(h);
  }
}
BENCHMARK(BM_ServiceHeadersWarm)->Threads(1)->Threads(2);

// Acting for a caller: the cache key hashes the incoming token (SHA-256 of ~800 bytes).
void BM_DelegatedHeadersWarm(benchmark::State& state) {
  pc::Client& c = Shared();
  const std::string incoming = "Bearer " + std::string(800, 'u');
  for (auto _ : state) {
    auto h = c.DelegatedHeaders(incoming, "svc-c", "orders.read", "GET", "http://c/orders/1");
    benchmark::DoNotOptimize(h);
  }
}
BENCHMARK(BM_DelegatedHeadersWarm)->Threads(1)->Threads(2);

// Call() end to end with a transport that answers at once: the library's whole share of an
// outbound call (token, headers, request and response copies), the network excluded.
void BM_CallWarm(benchmark::State& state) {
  pc::Client& c = Shared();
  const pc::Outbound out{.method = "GET",
                         .url = "http://b/orders/1",
                         .audience = "svc-b",
                         .scope = "orders.read orders.write"};
  for (auto _ : state) {
    auto r = c.Call(out);
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_CallWarm)->Threads(1)->Threads(2);

// With DPoP: the headers now include a proof signed per request (htm, htu, ath, jti, iat).
void BM_ServiceHeadersWarmDpop(benchmark::State& state) {
  pc::Client& c = SharedDpop();
  if (!c.GetToken("svc-b", "orders.read orders.write")) state.SkipWithError("no token");
  for (auto _ : state) {
    auto h = c.ServiceHeaders("svc-b", "orders.read orders.write", "GET", "http://b/orders/1");
    benchmark::DoNotOptimize(h);
  }
}
BENCHMARK(BM_ServiceHeadersWarmDpop)->Threads(1)->Threads(2);

void BM_CallWarmDpop(benchmark::State& state) {
  pc::Client& c = SharedDpop();
  const pc::Outbound out{.method = "GET",
                         .url = "http://b/orders/1",
                         .audience = "svc-b",
                         .scope = "orders.read orders.write"};
  for (auto _ : state) {
    auto r = c.Call(out);
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_CallWarmDpop)->Threads(1)->Threads(2);

// Call() through the built-in transport to a loopback HTTP server (one thread, one request per
// connection): a TCP connect, request, response and close per call. Wall time is the figure.
void BM_CallLoopbackBuiltInTransport(benchmark::State& state) {
  portcullis::verify::testing::FakeHttpServer server(
      [](const portcullis::verify::testing::FakeRequest& r) {
        if (r.target == "/oauth2/token") {
          return portcullis::verify::testing::FakeResponse{
              .body = R"({"access_token":")" + std::string(800, 'x') +
                      R"(","token_type":"Bearer","expires_in":3600})"};
        }
        return portcullis::verify::testing::FakeResponse{.body = "{}"};
      });
  server.set_keep_alive(state.range(0) != 0);  // 0: the server closes after each response
  pc::Options o;
  o.token_url = server.url("/oauth2/token");
  o.client_id = "svc-a";
  o.client_secret = "s3cret";
  auto c = pc::Client::Create(std::move(o)).value();
  const pc::Outbound out{.method = "GET",
                         .url = server.url("/v1/orders/1"),
                         .audience = "svc-b",
                         .scope = "orders.read"};
  if (!c->Call(out)) state.SkipWithError("no answer");
  for (auto _ : state) {
    auto r = c->Call(out);
    if (!r || r->status != 200) state.SkipWithError("call failed");
    benchmark::DoNotOptimize(r);
  }
}
// Bounded: with /0 every call leaves a socket in TIME_WAIT.
BENCHMARK(BM_CallLoopbackBuiltInTransport)->Arg(0)->Arg(1)->Iterations(2000)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
