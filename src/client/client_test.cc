// libportcullis-client with a fake clock and a fake token endpoint: caching, background renewal
// ahead of expiry (with jitter), single flight, back-off, the deadline, token exchange, the
// header helpers, private_key_jwt assertions and DPoP proofs.

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/json.hpp>
#include <deque>
#include <map>
#include <thread>

#include "common/encoding.h"
#include "jose/key.h"
#include "jose/signature.h"
#include "portcullis/client.h"
#include "verify/fake_http_server.h"

namespace portcullis::client {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

// Steady time that moves only when the test says so. Waiters re-check their predicate every
// 100 us of real time, so advancing the clock wakes them without any notification.
class FakeClock final : public Clock {
 public:
  SteadyTime Now() const override { return SteadyTime(std::chrono::nanoseconds(ns_.load())); }
  int64_t WallSeconds() const override { return 1'700'000'000 + ns_.load() / 1'000'000'000; }
  void WaitUntil(std::condition_variable& cv, std::unique_lock<std::mutex>& lock, SteadyTime until,
                 const std::function<bool()>& done) const override {
    uint64_t id;
    {
      std::lock_guard l(mu_);
      id = next_id_++;
      waits_[id] = Wait{until, 0};
    }
    for (;;) {
      bool finished = done() || Now() >= until;
      {
        std::lock_guard l(mu_);
        ++waits_[id].polls;  // a check made under the caller's lock
        if (finished) {
          waits_.erase(id);
          return;
        }
      }
      cv.wait_for(lock, 100us);
    }
  }
  void Advance(std::chrono::nanoseconds d) { ns_ += d.count(); }

  size_t waiters() const {
    std::lock_guard l(mu_);
    return waits_.size();
  }
  // True when some thread waits, every waiter waits for a time still ahead, and every one of
  // them has re-checked its predicate (under its own lock) after this call began and still
  // waits: then all of them have seen the current time and every change made before the call.
  bool Settled() const {
    std::map<uint64_t, Wait> before;
    {
      std::lock_guard l(mu_);
      before = waits_;
    }
    if (before.empty()) return false;
    for (const auto& [id, w] : before) {
      if (w.until <= Now()) return false;
    }
    auto end = std::chrono::steady_clock::now() + 5s;
    for (;;) {
      {
        std::lock_guard l(mu_);
        bool all = true;
        for (const auto& [id, w] : before) {
          auto it = waits_.find(id);
          if (it == waits_.end()) return false;  // it woke up: not settled yet
          if (it->second.polls <= w.polls) all = false;
        }
        if (all) return true;
      }
      if (std::chrono::steady_clock::now() > end) return false;
      std::this_thread::sleep_for(50us);
    }
  }

 private:
  struct Wait {
    SteadyTime until;
    uint64_t polls = 0;
  };
  std::atomic<int64_t> ns_{1'000'000'000'000};
  mutable std::mutex mu_;
  mutable uint64_t next_id_ = 0;
  mutable std::map<uint64_t, Wait> waits_;
};

// Polls `cond` for up to 10 s of real time.
bool Eventually(const std::function<bool()>& cond) {
  auto end = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < end) {
    if (cond()) return true;
    std::this_thread::sleep_for(1ms);
  }
  return cond();
}

// A scripted token endpoint. Each request gets `reply(n, request)` (n counts from 1); while
// `held`, requests block until Release().
class FakeEndpoint {
 public:
  std::function<std::expected<HttpResponse, std::string>(int, const HttpRequest&)> reply =
      [](int n, const HttpRequest&) -> std::expected<HttpResponse, std::string> {
    return Ok("t" + std::to_string(n), 100);
  };

  static HttpResponse Ok(std::string token, int64_t expires_in, std::string type = "Bearer") {
    json::object o{{"access_token", token}, {"token_type", type}, {"expires_in", expires_in}};
    return HttpResponse{200, {{"content-type", "application/json"}}, json::serialize(o)};
  }
  static HttpResponse Err(int status, std::string error, Headers headers = {}) {
    return HttpResponse{status, std::move(headers),
                        json::serialize(json::object{{"error", error}})};
  }

  Transport transport() {
    return [this](const HttpRequest& r) {
      int n;
      {
        std::unique_lock l(mu_);
        requests_.push_back(r);
        n = static_cast<int>(requests_.size());
        ++in_progress_;
        cv_.wait(l, [&] { return !held_; });
        --in_progress_;
      }
      return reply(n, r);
    };
  }
  void Hold() {
    std::lock_guard l(mu_);
    held_ = true;
  }
  void Release() {
    {
      std::lock_guard l(mu_);
      held_ = false;
    }
    cv_.notify_all();
  }
  int count() const {
    std::lock_guard l(mu_);
    return static_cast<int>(requests_.size());
  }
  int in_progress() const {
    std::lock_guard l(mu_);
    return in_progress_;
  }
  HttpRequest request(int i) const {
    std::lock_guard l(mu_);
    return requests_.at(i);
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<HttpRequest> requests_;
  bool held_ = false;
  int in_progress_ = 0;
};

// An Executor on one worker thread that knows when it has nothing left to run.
class TestExecutor {
 public:
  TestExecutor() : worker_([this] { Run(); }) {}
  ~TestExecutor() {
    {
      std::lock_guard l(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    worker_.join();
  }
  Executor executor() {
    return [this](std::function<void()> task) {
      {
        std::lock_guard l(mu_);
        tasks_.push_back(std::move(task));
        ++pending_;
      }
      cv_.notify_all();
    };
  }
  bool idle() const {
    std::lock_guard l(mu_);
    return pending_ == 0;
  }

 private:
  void Run() {
    std::unique_lock l(mu_);
    for (;;) {
      cv_.wait(l, [&] { return stop_ || !tasks_.empty(); });
      if (tasks_.empty()) return;
      auto task = std::move(tasks_.front());
      tasks_.pop_front();
      l.unlock();
      task();
      l.lock();
      --pending_;
    }
  }
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  int pending_ = 0;
  bool stop_ = false;
  std::thread worker_;
};

std::string HeaderValue(const Headers& h, std::string_view name) {
  for (const auto& [k, v] : h) {
    if (k == name) return v;
  }
  return {};
}

std::map<std::string, std::string> Form(std::string_view body) {
  std::map<std::string, std::string> out;
  FormFields fields = ParseForm(body).value();
  for (auto& [k, v] : fields) out[k] = v;
  return out;
}

json::object Part(std::string_view jws, int i) {
  size_t a = jws.find('.'), b = jws.rfind('.');
  std::string_view s = i == 0 ? jws.substr(0, a) : jws.substr(a + 1, b - a - 1);
  return json::parse(Base64UrlDecode(s).value()).as_object();
}

bool SignatureValid(std::string_view jws, const jose::Key& key, jose::Alg alg) {
  size_t b = jws.rfind('.');
  return jose::VerifySignature(key, alg, jws.substr(0, b),
                               Base64UrlDecode(jws.substr(b + 1)).value());
}

class ClientTest : public ::testing::Test {
 protected:
  Options Base() {
    Options o;
    o.token_url = "https://auth.example.com/oauth2/token";
    o.client_id = "svc-a";
    o.client_secret = "s3cret";
    o.clock = &clock_;
    o.transport = endpoint_.transport();
    o.renew_jitter = 0;
    o.random = [this] { return random_.load(); };
    o.deadline = 5s;
    o.backoff_initial = 1s;
    o.backoff_max = 8s;
    return o;
  }
  std::unique_ptr<Client> Make(Options o) { return Client::Create(std::move(o)).value(); }
  std::unique_ptr<Client> Make() { return Make(Base()); }

  FakeClock clock_;
  FakeEndpoint endpoint_;
  std::atomic<double> random_{1.0};
};

TEST_F(ClientTest, ClientCredentialsWithPercentEncodedBasicAuth) {
  Options o = Base();
  o.client_id = "svc:a";
  o.client_secret = "p%ss w+rd";
  auto c = Make(std::move(o));
  auto t = c->GetToken("svc-b", "orders.write orders.read");
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_EQ((*t)->access_token, "t1");
  EXPECT_EQ((*t)->AuthorizationValue(), "Bearer t1");
  EXPECT_EQ((*t)->scope, "orders.read orders.write");  // none in the answer: as asked
  HttpRequest r = endpoint_.request(0);
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.url, "https://auth.example.com/oauth2/token");
  // RFC 6749 §2.3.1: id and secret form-urlencoded, then Basic.
  EXPECT_EQ(HeaderValue(r.headers, "Authorization"),
            "Basic " + Base64Encode("svc%3Aa:p%25ss%20w%2Brd"));
  auto f = Form(r.body);
  EXPECT_EQ(f["grant_type"], "client_credentials");
  EXPECT_EQ(f["audience"], "svc-b");
  EXPECT_EQ(f["scope"], "orders.read orders.write");
  EXPECT_FALSE(f.contains("client_secret"));
}

TEST_F(ClientTest, CachesPerAudienceAndScope) {
  auto c = Make();
  ASSERT_EQ((*c->GetToken("b", "x y"))->access_token, "t1");
  EXPECT_EQ((*c->GetToken("b", "y x"))->access_token, "t1");  // same scope set
  EXPECT_EQ((*c->GetToken("b", " x  y x"))->access_token, "t1");
  EXPECT_EQ((*c->GetToken("c", "x y"))->access_token, "t2");  // another audience
  EXPECT_EQ((*c->GetToken("b", "x"))->access_token, "t3");    // another scope
  EXPECT_EQ(endpoint_.count(), 3);
  EXPECT_EQ(c->stats().cache_hits, 2u);
}

TEST_F(ClientTest, RenewsAheadOfExpiryInTheBackgroundWithoutBlockingCallers) {
  random_ = 0.5;  // jitter term 0
  Options o = Base();
  o.renew_at = 0.75;
  o.renew_jitter = 0.1;
  auto c = Make(std::move(o));
  ASSERT_EQ((*c->GetToken("b", "x"))->access_token, "t1");  // expires in 100 s, renew at 75 s
  clock_.Advance(74s);
  ASSERT_TRUE(Eventually([&] { return clock_.Settled(); }));
  EXPECT_EQ(c->stats().token_requests, 1u);
  endpoint_.Hold();
  clock_.Advance(2s);
  ASSERT_TRUE(Eventually([&] { return endpoint_.in_progress() == 1; }));
  // While the renewal is in flight, callers get the old (still valid) token at once.
  EXPECT_EQ((*c->GetToken("b", "x", 0ms))->access_token, "t1");
  endpoint_.Release();
  ASSERT_TRUE(Eventually([&] { return (*c->GetToken("b", "x"))->access_token == "t2"; }));
  EXPECT_EQ(c->stats().renewals, 1u);
  EXPECT_EQ(endpoint_.count(), 2);
}

TEST_F(ClientTest, JitterMovesTheRenewal) {
  Options o = Base();
  o.renew_at = 0.75;
  o.renew_jitter = 0.1;
  random_ = 0.0;  // earliest: 65 s into a 100 s token
  auto c = Make(std::move(o));
  ASSERT_TRUE(c->GetToken("b", "x"));
  clock_.Advance(64s);
  ASSERT_TRUE(Eventually([&] { return clock_.Settled(); }));
  EXPECT_EQ(endpoint_.count(), 1);
  clock_.Advance(2s);
  ASSERT_TRUE(Eventually([&] { return endpoint_.count() == 2; }));
}

TEST_F(ClientTest, AnUnusedTokenLapsesInsteadOfBeingRenewedForever) {
  auto c = Make();  // renew at 75 s of 100 s
  ASSERT_TRUE(c->GetToken("b", "x"));
  clock_.Advance(76s);  // used once: renewed
  ASSERT_TRUE(Eventually([&] { return endpoint_.count() == 2; }));
  ASSERT_TRUE(Eventually([&] { return clock_.Settled(); }));
  clock_.Advance(80s);  // not used since: not renewed again
  ASSERT_TRUE(Eventually([&] { return clock_.Settled(); }));
  clock_.Advance(100s);
  ASSERT_TRUE(Eventually([&] { return clock_.Settled(); }));
  EXPECT_EQ(endpoint_.count(), 2);
  EXPECT_EQ((*c->GetToken("b", "x"))->access_token, "t3");  // the next caller asks again
}

TEST_F(ClientTest, HundredConcurrentCallersShareOneRequest) {
  auto c = Make();
  endpoint_.Hold();
  std::atomic<int> started{0}, ok{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 100; ++i) {
    threads.emplace_back([&] {
      ++started;
      auto t = c->GetToken("b", "x");
      if (t && (*t)->access_token == "t1") ++ok;
    });
  }
  ASSERT_TRUE(Eventually([&] { return started == 100 && endpoint_.in_progress() == 1; }));
  // Most callers are waiting now (the renewal thread is the one other waiter).
  ASSERT_TRUE(Eventually([&] { return clock_.waiters() > 50; }));
  endpoint_.Release();
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok, 100);
  EXPECT_EQ(endpoint_.count(), 1);
  EXPECT_EQ(c->stats().token_requests, 1u);
}

TEST_F(ClientTest, BacksOffOnFailureAndServesTheStillValidToken) {
  endpoint_.reply = [](int n, const HttpRequest&) -> std::expected<HttpResponse, std::string> {
    if (n == 1) return FakeEndpoint::Ok("t1", 100);
    if (n <= 4) return FakeEndpoint::Err(503, "temporarily_unavailable");
    return FakeEndpoint::Ok("t" + std::to_string(n), 100);
  };
  auto c = Make();  // back-off 1 s, 2 s, 4 s (random 1.0: no halving), cap 8 s
  ASSERT_TRUE(c->GetToken("b", "x"));
  clock_.Advance(75s);  // renewal due: request 2 fails
  ASSERT_TRUE(Eventually([&] { return c->stats().token_failures == 1; }));
  EXPECT_EQ((*c->GetToken("b", "x"))->access_token, "t1");  // still valid: served
  ASSERT_TRUE(Eventually([&] { return clock_.Settled(); }));
  clock_.Advance(900ms);  // within the first back-off
  ASSERT_TRUE(Eventually([&] { return clock_.Settled(); }));
  EXPECT_EQ(endpoint_.count(), 2);
  clock_.Advance(200ms);  // 1.1 s after the failure: request 3 (fails), next in 2 s
  ASSERT_TRUE(Eventually([&] { return c->stats().token_failures == 2; }));
  ASSERT_TRUE(Eventually([&] { return clock_.Settled(); }));
  clock_.Advance(1900ms);
  ASSERT_TRUE(Eventually([&] { return clock_.Settled(); }));
  EXPECT_EQ(endpoint_.count(), 3);
  clock_.Advance(200ms);  // request 4 (fails), next in 4 s
  ASSERT_TRUE(Eventually([&] { return c->stats().token_failures == 3; }));
  EXPECT_EQ((*c->GetToken("b", "x"))->access_token, "t1");
  ASSERT_TRUE(Eventually([&] { return clock_.Settled(); }));
  clock_.Advance(3900ms);
  ASSERT_TRUE(Eventually([&] { return clock_.Settled(); }));
  EXPECT_EQ(endpoint_.count(), 4);
  clock_.Advance(200ms);  // request 5 succeeds
  ASSERT_TRUE(Eventually([&] { return (*c->GetToken("b", "x"))->access_token == "t5"; }));
  EXPECT_EQ(c->stats().token_failures, 3u);
}

TEST_F(ClientTest, WithoutAValidTokenBackOffFailsFastAndHonoursRetryAfter) {
  endpoint_.reply = [](int n, const HttpRequest&) -> std::expected<HttpResponse, std::string> {
    if (n == 1) return FakeEndpoint::Err(429, "slow_down", {{"retry-after", "5"}});
    if (n == 2) return std::unexpected(std::string("connect: refused"));
    return FakeEndpoint::Ok("t" + std::to_string(n), 100);
  };
  auto c = Make();
  auto t = c->GetToken("b", "x");
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().kind, Error::Kind::kUnavailable);
  EXPECT_EQ(t.error().http_status, 429);
  // Back-off is at least Retry-After (5 s), not the initial 1 s: callers fail fast, no request.
  clock_.Advance(4s);
  t = c->GetToken("b", "x");
  ASSERT_FALSE(t);
  EXPECT_NE(t.error().message.find("backing off"), std::string::npos);
  EXPECT_EQ(endpoint_.count(), 1);
  clock_.Advance(1100ms);
  t = c->GetToken("b", "x");  // request 2: transport error
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().kind, Error::Kind::kUnavailable);
  EXPECT_NE(t.error().message.find("connect: refused"), std::string::npos);
  clock_.Advance(2100ms);  // second back-off: 2 s
  EXPECT_EQ((*c->GetToken("b", "x"))->access_token, "t3");
}

TEST_F(ClientTest, RefusalsAreReportedWithTheOAuthError) {
  endpoint_.reply = [](int, const HttpRequest&) -> std::expected<HttpResponse, std::string> {
    return FakeEndpoint::Err(401, "invalid_client");
  };
  auto c = Make();
  auto t = c->GetToken("b", "x");
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().kind, Error::Kind::kRefused);
  EXPECT_EQ(t.error().error, "invalid_client");
  EXPECT_EQ(t.error().http_status, 401);
}

TEST_F(ClientTest, BadAnswersAreNotTokens) {
  endpoint_.reply = [](int n, const HttpRequest&) -> std::expected<HttpResponse, std::string> {
    if (n == 1) return HttpResponse{200, {}, "not json"};
    if (n == 2) return FakeEndpoint::Ok("t", 100, "mac");
    return FakeEndpoint::Ok("a b", 100);
  };
  Options o = Base();
  o.backoff_initial = 1ms;
  o.backoff_max = 1ms;
  auto c = Make(std::move(o));
  for (int i = 0; i < 3; ++i) {
    auto t = c->GetToken("b", "x");
    ASSERT_FALSE(t);
    EXPECT_EQ(t.error().kind, Error::Kind::kBadResponse);
    clock_.Advance(2ms);
  }
}

TEST_F(ClientTest, TheDeadlineBoundsTheWaitAndTheRequestCarriesOn) {
  auto c = Make();
  endpoint_.Hold();
  std::optional<Result<TokenPtr>> out;
  std::thread caller([&] { out = c->GetToken("b", "x", 200ms); });
  ASSERT_TRUE(Eventually([&] { return endpoint_.in_progress() == 1 && clock_.waiters() == 2; }));
  clock_.Advance(199ms);
  ASSERT_TRUE(Eventually([&] { return clock_.Settled(); }));
  clock_.Advance(2ms);
  caller.join();
  ASSERT_FALSE(*out);
  EXPECT_EQ(out->error().kind, Error::Kind::kDeadline);
  EXPECT_EQ(c->stats().deadline_exceeded, 1u);
  endpoint_.Release();
  // The request finished in the background; its token serves the next call.
  ASSERT_TRUE(Eventually([&] { return c->GetToken("b", "x", 0ms).has_value(); }));
  EXPECT_EQ(endpoint_.count(), 1);
}

TEST_F(ClientTest, TheDeadlineHoldsInRealTime) {
  Options o = Base();
  o.clock = nullptr;  // the system clock
  auto c = Make(std::move(o));
  endpoint_.Hold();
  auto start = std::chrono::steady_clock::now();
  auto t = c->GetToken("b", "x", 100ms);
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().kind, Error::Kind::kDeadline);
  EXPECT_GE(took, 100ms);
  EXPECT_LT(took, 2s);
  endpoint_.Release();
}

// Call: one deadline for the token, the request and the DPoP nonce retry. Each attempt gets
// only the time left (capped by http_timeout), as HttpRequest::timeout.
TEST_F(ClientTest, CallGivesEachAttemptOnlyTheTimeLeft) {
  auto key = jose::Key::Generate(jose::Alg::kES256).value();
  std::vector<std::chrono::milliseconds> timeouts;  // of the resource requests
  std::chrono::milliseconds first_takes = 300ms;
  endpoint_.reply = [&](int, const HttpRequest& r) -> std::expected<HttpResponse, std::string> {
    if (r.url.ends_with("/oauth2/token")) return FakeEndpoint::Ok("t", 100, "DPoP");
    timeouts.push_back(r.timeout);
    if (timeouts.size() % 2 == 1) {
      clock_.Advance(first_takes);
      return HttpResponse{401,
                          {{"www-authenticate", "DPoP error=\"use_dpop_nonce\""},
                           {"dpop-nonce", "n" + std::to_string(timeouts.size())}},
                          "{}"};
    }
    return HttpResponse{200, {}, "done"};
  };
  Options o = Base();
  o.dpop_key_pem = std::string(key.PrivatePem().value().Reveal());
  o.deadline = 1s;
  o.http_timeout = 3s;
  auto c = Make(std::move(o));
  Outbound out;
  out.url = "https://c.example/orders";
  out.audience = "svc-c";
  out.scope = "orders.read";
  auto r = c->Call(out);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->body, "done");
  // The token request runs in the background: http_timeout, not the caller's deadline.
  EXPECT_EQ(endpoint_.request(0).timeout, 3s);
  ASSERT_EQ(timeouts.size(), 2u);
  EXPECT_EQ(timeouts[0], 1000ms);  // the whole deadline (less than http_timeout)
  EXPECT_EQ(timeouts[1], 700ms);   // what the first attempt left
  EXPECT_EQ(c->stats().dpop_nonce_retries, 1u);

  // A first attempt that uses up the deadline: no retry, kDeadline (not the 401).
  first_takes = 2s;
  out.deadline = 400ms;
  endpoint_.reply = [&](int, const HttpRequest& r) -> std::expected<HttpResponse, std::string> {
    timeouts.push_back(r.timeout);
    clock_.Advance(first_takes);
    return HttpResponse{
        401, {{"www-authenticate", "DPoP error=\"use_dpop_nonce\""}, {"dpop-nonce", "m"}}, "{}"};
  };
  auto late = c->Call(out);
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error().kind, Error::Kind::kDeadline);
  ASSERT_EQ(timeouts.size(), 3u);  // the retry was never sent
  EXPECT_EQ(timeouts[2], 400ms);   // Outbound::deadline overrides Options::deadline

  // A transport that gives up when its budget, cut by the deadline, runs out: kDeadline. One
  // that fails at once: kUnavailable.
  endpoint_.reply = [&](int, const HttpRequest& r) -> std::expected<HttpResponse, std::string> {
    clock_.Advance(r.timeout);
    return std::unexpected(std::string("receive: timeout"));
  };
  auto timed_out = c->Call(out);
  ASSERT_FALSE(timed_out);
  EXPECT_EQ(timed_out.error().kind, Error::Kind::kDeadline);
  EXPECT_NE(timed_out.error().message.find("receive: timeout"), std::string::npos);
  endpoint_.reply = [&](int, const HttpRequest&) -> std::expected<HttpResponse, std::string> {
    return std::unexpected(std::string("connection refused"));
  };
  EXPECT_EQ(c->Call(out).error().kind, Error::Kind::kUnavailable);
  // Sign keeps its deadline the same way.
  endpoint_.reply = [&](int, const HttpRequest& r) -> std::expected<HttpResponse, std::string> {
    timeouts.push_back(r.timeout);
    clock_.Advance(r.timeout);
    return std::unexpected(std::string("receive: timeout"));
  };
  auto sign = c->Sign("{}", {}, 300s, 250ms);
  ASSERT_FALSE(sign);
  EXPECT_EQ(sign.error().kind, Error::Kind::kDeadline);
  EXPECT_EQ(timeouts.back(), 250ms);
  EXPECT_EQ(c->Sign("{}").error().kind, Error::Kind::kDeadline);
  EXPECT_EQ(timeouts.back(), 1000ms);  // Options::deadline
}

// A loopback server that accepts connections and never answers.
class SilentServer {
 public:
  SilentServer() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::listen(fd_, 16);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] {
      while (!stop_) {
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, 20) <= 0) continue;
        int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (c >= 0) {
          std::lock_guard l(mu_);
          held_.push_back(c);  // read nothing, answer nothing, close at the end
        }
      }
    });
  }
  ~SilentServer() {
    stop_ = true;
    thread_.join();
    for (int c : held_) ::close(c);
    ::close(fd_);
  }
  std::string url(std::string_view path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + std::string(path);
  }
  size_t accepted() const {
    std::lock_guard l(mu_);
    return held_.size();
  }

 private:
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::vector<int> held_;
  std::thread thread_;
};

// The real thing: the built-in transport, the system clock, a token from a loopback token
// endpoint and a callee that accepts and never answers. http_timeout is 60 s: only the
// deadline can end the call.
TEST_F(ClientTest, CallAndSignReturnAtTheDeadlineWhenTheCalleeNeverAnswers) {
  verify::testing::FakeHttpServer token_endpoint([](const verify::testing::FakeRequest&) {
    return verify::testing::FakeResponse{
        .headers = {{"Content-Type", "application/json"}},
        .body = R"({"access_token":"tok","token_type":"Bearer","expires_in":300})"};
  });
  SilentServer callee;
  Options o;
  o.token_url = token_endpoint.url("/oauth2/token");
  o.client_id = "svc-a";
  o.client_secret = "s3cret";
  o.signing_url = callee.url("/oauth2/signing");
  o.http_timeout = 60s;
  o.deadline = 300ms;
  auto c = Make(std::move(o));
  ASSERT_TRUE(c->GetToken("svc-b", "x", 10s));  // warm: the deadline is all the callee's
  Outbound out;
  out.url = callee.url("/v1/orders");
  out.audience = "svc-b";
  out.scope = "x";
  auto start = std::chrono::steady_clock::now();
  auto r = c->Call(out);
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, Error::Kind::kDeadline) << r.error().message;
  EXPECT_TRUE(Eventually([&] { return callee.accepted() == 1; }));  // connected, never answered
  EXPECT_LT(took, 20s);  // generous: catches waiting for http_timeout (60 s)
  start = std::chrono::steady_clock::now();
  auto s = c->Sign(R"({"order":1})");
  took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().kind, Error::Kind::kDeadline) << s.error().message;
  EXPECT_LT(took, 20s);
  EXPECT_EQ(c->stats().deadline_exceeded, 2u);
}

// The built-in transport resends a request once when a reused connection closes before any
// answer only if the library built it (its client_credentials and token-exchange requests): a
// host's own POST to the token URL through Call (a refresh_token grant, say) goes once, since
// a resent grant would look like token reuse to the server.
TEST_F(ClientTest, OnlyTheLibrarysOwnTokenRequestsAreResent) {
  std::atomic<int> seen{0};
  std::atomic<int> drop_at{0};  // the n-th request (1-based) is dropped without an answer
  verify::testing::FakeHttpServer token_endpoint([&](const verify::testing::FakeRequest&) {
    return verify::testing::FakeResponse{
        .headers = {{"Content-Type", "application/json"}},
        .body = R"({"access_token":"tok","token_type":"Bearer","expires_in":300})",
        .drop = ++seen == drop_at};
  });
  token_endpoint.set_keep_alive(true);
  Options o;
  o.token_url = token_endpoint.url("/oauth2/token");
  o.client_id = "svc-a";
  o.client_secret = "s3cret";
  auto c = Make(std::move(o));
  ASSERT_TRUE(c->GetToken("svc-b", "x", 10s));  // 1: its connection is pooled
  drop_at = 2;
  Outbound out;
  out.method = "POST";
  out.url = token_endpoint.url("/oauth2/token");
  out.audience = "svc-b";
  out.scope = "x";
  out.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
  out.body = "grant_type=refresh_token&refresh_token=r1";
  auto r = c->Call(out);  // 2, on the pooled connection, dropped
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, Error::Kind::kUnavailable) << r.error().message;
  EXPECT_EQ(seen.load(), 2);  // never resent
  EXPECT_EQ(token_endpoint.connections(), 1);

  drop_at = 4;
  ASSERT_TRUE(c->GetToken("svc-c", "x", 10s));  // 3, on a new connection, then pooled
  auto t = c->GetToken("svc-d", "x", 10s);      // 4 dropped on it, resent as 5
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_EQ(seen.load(), 5);
  EXPECT_EQ(token_endpoint.connections(), 3);
}

TEST_F(ClientTest, ExchangeIsCachedPerSubjectAudienceAndScope) {
  auto c = Make();
  auto a = c->Exchange("Bearer user-token-1", "svc-c", "orders.read");
  ASSERT_TRUE(a) << a.error().message;
  auto f = Form(endpoint_.request(0).body);
  EXPECT_EQ(f["grant_type"], "urn:ietf:params:oauth:grant-type:token-exchange");
  EXPECT_EQ(f["subject_token"], "user-token-1");
  EXPECT_EQ(f["subject_token_type"], "urn:ietf:params:oauth:token-type:access_token");
  EXPECT_EQ(f["audience"], "svc-c");
  EXPECT_EQ(f["scope"], "orders.read");
  EXPECT_EQ((*c->Exchange("user-token-1", "svc-c", "orders.read"))->access_token,
            (*a)->access_token);
  EXPECT_NE((*c->Exchange("user-token-2", "svc-c", "orders.read"))->access_token,
            (*a)->access_token);
  EXPECT_NE((*c->Exchange("user-token-1", "svc-d", "orders.read"))->access_token,
            (*a)->access_token);
  EXPECT_EQ(c->stats().exchange_requests, 3u);
  // Exchanged tokens are not renewed in the background; after expiry the next call asks again.
  clock_.Advance(95s);
  ASSERT_TRUE(Eventually([&] { return clock_.Settled(); }));
  EXPECT_EQ(endpoint_.count(), 3);
  EXPECT_EQ((*c->Exchange("user-token-1", "svc-c", "orders.read"))->access_token, "t4");
  EXPECT_FALSE(c->Exchange("", "svc-c", "x"));
  EXPECT_FALSE(c->Exchange("t", "", "x"));
}

TEST_F(ClientTest, ExchangeCacheIsBounded) {
  Options o = Base();
  o.max_exchange_entries = 3;
  auto c = Make(std::move(o));
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(c->Exchange("u" + std::to_string(i), "c", "s"));
    clock_.Advance(1ms);  // least recently used: the oldest
  }
  EXPECT_TRUE(c->Exchange("u9", "c", "s"));  // recent: cached
  EXPECT_EQ(endpoint_.count(), 10);
  EXPECT_TRUE(c->Exchange("u0", "c", "s"));  // evicted: asked again
  EXPECT_EQ(endpoint_.count(), 11);
}

TEST_F(ClientTest, HeaderHelpers) {
  auto c = Make();
  auto s = c->ServiceHeaders("b", "x", "GET", "https://b/x");
  ASSERT_TRUE(s);
  EXPECT_EQ(*s, (Headers{{"Authorization", "Bearer t1"}}));
  // light-4j: the user's token passes through, the service's own rides in X-Scope-Token.
  auto two = c->TwoTokenHeaders("Bearer user-jwt", "b", "x");
  ASSERT_TRUE(two);
  EXPECT_EQ(*two, (Headers{{"Authorization", "Bearer user-jwt"}, {"X-Scope-Token", "Bearer t1"}}));
  auto alone = c->TwoTokenHeaders("", "b", "x");
  EXPECT_EQ(*alone, (Headers{{"X-Scope-Token", "Bearer t1"}}));
  EXPECT_FALSE(c->TwoTokenHeaders("Bearer a\r\nX-Evil: 1", "b", "x"));
  auto d = c->DelegatedHeaders("Bearer user-jwt", "c", "x", "GET", "https://c/x");
  ASSERT_TRUE(d);
  EXPECT_EQ(*d, (Headers{{"Authorization", "Bearer t2"}}));
}

TEST_F(ClientTest, PrivateKeyJwtSignsAFreshAssertionPerRequest) {
  auto key = jose::Key::Generate(jose::Alg::kES256).value();
  Options o = Base();
  o.auth_method = AuthMethod::kPrivateKeyJwt;
  o.client_secret.clear();
  o.private_key_pem = std::string(key.PrivatePem().value().Reveal());
  o.key_id = "k1";
  auto c = Make(std::move(o));
  ASSERT_TRUE(c->GetToken("b", "x"));
  ASSERT_TRUE(c->GetToken("c", "x"));
  std::string jtis[2];
  for (int i = 0; i < 2; ++i) {
    HttpRequest r = endpoint_.request(i);
    EXPECT_EQ(HeaderValue(r.headers, "Authorization"), "");
    auto f = Form(r.body);
    EXPECT_EQ(f["client_id"], "svc-a");
    EXPECT_EQ(f["client_assertion_type"], "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
    const std::string& a = f["client_assertion"];
    EXPECT_TRUE(SignatureValid(a, key, jose::Alg::kES256));
    auto h = Part(a, 0);
    EXPECT_EQ(h["alg"], "ES256");
    EXPECT_EQ(h["kid"], "k1");
    auto claims = Part(a, 1);
    EXPECT_EQ(claims["iss"], "svc-a");
    EXPECT_EQ(claims["sub"], "svc-a");
    EXPECT_EQ(claims["aud"], "https://auth.example.com/oauth2/token");
    EXPECT_EQ(claims["exp"].as_int64() - claims["iat"].as_int64(), 60);
    jtis[i] = std::string(claims["jti"].as_string());
  }
  EXPECT_NE(jtis[0], jtis[1]);
}

TEST_F(ClientTest, DpopProofsAndTheNonceRetry) {
  auto key = jose::Key::Generate(jose::Alg::kES256).value();
  endpoint_.reply = [](int n, const HttpRequest&) -> std::expected<HttpResponse, std::string> {
    if (n == 1) return FakeEndpoint::Err(400, "use_dpop_nonce", {{"dpop-nonce", "n-1"}});
    return FakeEndpoint::Ok("t" + std::to_string(n), 100, "DPoP");
  };
  Options o = Base();
  o.dpop_key_pem = std::string(key.PrivatePem().value().Reveal());
  auto c = Make(std::move(o));
  auto h = c->ServiceHeaders("b", "x", "POST", "https://b.example/orders?q=1");
  ASSERT_TRUE(h) << h.error().message;
  EXPECT_EQ(endpoint_.count(), 2);  // retried once with the nonce
  EXPECT_EQ(HeaderValue(*h, "Authorization"), "DPoP t2");
  for (int i = 0; i < 2; ++i) {
    std::string proof = HeaderValue(endpoint_.request(i).headers, "DPoP");
    EXPECT_TRUE(SignatureValid(proof, key, jose::Alg::kES256));
    auto header = Part(proof, 0);
    EXPECT_EQ(header["typ"], "dpop+jwt");
    EXPECT_FALSE(header["jwk"].as_object().contains("d"));
    auto claims = Part(proof, 1);
    EXPECT_EQ(claims["htm"], "POST");
    EXPECT_EQ(claims["htu"], "https://auth.example.com/oauth2/token");
    EXPECT_FALSE(claims.contains("ath"));
    EXPECT_EQ(claims.contains("nonce"), i == 1);
  }
  // The proof for the resource: htm, htu, ath = base64url(SHA-256(token)), a fresh jti.
  std::string proof = HeaderValue(*h, "DPoP");
  auto claims = Part(proof, 1);
  EXPECT_EQ(claims["htm"], "POST");
  EXPECT_EQ(claims["htu"], "https://b.example/orders");  // RFC 9449 §4.2: no query
  EXPECT_EQ(claims["ath"], "xER0A41FnkDkcUr--nv42un5g0si9ejsHdQ07LYrUS4");  // SHA-256("t2")
  EXPECT_FALSE(claims.contains("nonce"));
  c->RememberDpopNonce("https://B.example:443/other", "rs-nonce");
  auto again = c->ServiceHeaders("b", "x", "GET", "https://b.example/orders");
  auto claims2 = Part(HeaderValue(*again, "DPoP"), 1);
  EXPECT_EQ(claims2["nonce"], "rs-nonce");
  EXPECT_NE(claims2["jti"], claims["jti"]);
  // Neither query nor fragment reaches htu; the nonce still follows the origin.
  for (std::string url : {"https://b.example/a/b?x=1&y=2#frag", "https://b.example/a/b#frag",
                          "https://b.example/a/b?", "https://b.example/a/b"}) {
    auto p = Part(c->DpopProof("GET", url, "t2").value(), 1);
    EXPECT_EQ(p["htu"], "https://b.example/a/b") << url;
    EXPECT_EQ(p["nonce"], "rs-nonce") << url;
  }
  // The X-Scope-Token of the two-token pattern cannot be DPoP-bound.
  EXPECT_EQ(c->TwoTokenHeaders("Bearer u", "b", "x").error().kind, Error::Kind::kInvalidArgument);
}

// Call: the token attached, a proof per request, one retry on the resource's use_dpop_nonce.
TEST_F(ClientTest, CallAttachesTheTokenAndRetriesOnceWithTheResourceNonce) {
  auto key = jose::Key::Generate(jose::Alg::kES256).value();
  std::atomic<int> resource_calls{0};
  endpoint_.reply = [&](int n, const HttpRequest& r) -> std::expected<HttpResponse, std::string> {
    if (r.url.ends_with("/oauth2/token"))
      return FakeEndpoint::Ok("t" + std::to_string(n), 100, "DPoP");
    int k = ++resource_calls;
    auto claims = Part(HeaderValue(r.headers, "DPoP"), 1);
    if (!claims.contains("nonce")) {
      return HttpResponse{401,
                          {{"www-authenticate", "DPoP error=\"use_dpop_nonce\""},
                           {"dpop-nonce", "rs-" + std::to_string(k)}},
                          "{}"};
    }
    return HttpResponse{200, {}, json::value_to<std::string>(claims["nonce"])};
  };
  Options o = Base();
  o.dpop_key_pem = std::string(key.PrivatePem().value().Reveal());
  auto c = Make(std::move(o));
  Outbound out;
  out.method = "POST";
  out.url = "https://c.example/orders?id=7";
  out.audience = "svc-c";
  out.scope = "orders.write";
  out.headers = {{"Content-Type", "application/json"}};
  out.body = "{}";
  auto r = c->Call(out);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "rs-1");       // the second try carried the nonce of the first answer
  EXPECT_EQ(endpoint_.count(), 3);  // one token request, two resource requests
  HttpRequest first = endpoint_.request(1), second = endpoint_.request(2);
  EXPECT_EQ(HeaderValue(first.headers, "Authorization"), "DPoP t1");
  EXPECT_EQ(HeaderValue(first.headers, "Content-Type"), "application/json");
  EXPECT_EQ(second.body, "{}");
  auto p1 = Part(HeaderValue(first.headers, "DPoP"), 1);
  auto p2 = Part(HeaderValue(second.headers, "DPoP"), 1);
  EXPECT_NE(p1["jti"], p2["jti"]);  // a fresh proof per request
  EXPECT_EQ(p2["htm"], "POST");
  EXPECT_EQ(p2["htu"], "https://c.example/orders");                     // without the query
  EXPECT_EQ(p2["ath"], "YotJ2W3N6XpDDdT1l3BYmeCalo95NJHktwTK4zpA3AI");  // SHA-256("t1")
  // The nonce is kept: the next call needs no retry.
  ASSERT_EQ(c->Call(out)->body, "rs-1");
  EXPECT_EQ(resource_calls.load(), 3);

  // Only once: a resource that keeps asking gets its 401 back to the caller.
  resource_calls = 0;
  endpoint_.reply = [&](int, const HttpRequest&) -> std::expected<HttpResponse, std::string> {
    ++resource_calls;
    return HttpResponse{
        401,
        {{"www-authenticate", "DPoP error=\"use_dpop_nonce\""}, {"dpop-nonce", "again"}},
        "{}"};
  };
  auto refused = c->Call(out);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 401);
  EXPECT_EQ(resource_calls.load(), 2);
  // No answer at all: kUnavailable, named as the call's.
  out.url = "http://down.example/x";
  endpoint_.reply = [](int, const HttpRequest&) -> std::expected<HttpResponse, std::string> {
    return std::unexpected(std::string("connection refused"));
  };
  auto down = c->Call(out);
  ASSERT_FALSE(down);
  EXPECT_EQ(down.error().kind, Error::Kind::kUnavailable);
  EXPECT_NE(down.error().message.find("call: connection refused"), std::string::npos);
}

TEST_F(ClientTest, CallWithBearerTokensActsForTheCallerAndNeverRetries) {
  std::atomic<int> resource_calls{0};
  endpoint_.reply = [&](int n, const HttpRequest& r) -> std::expected<HttpResponse, std::string> {
    if (r.url.ends_with("/oauth2/token")) return FakeEndpoint::Ok("x" + std::to_string(n), 100);
    ++resource_calls;
    return HttpResponse{
        401,
        {{"www-authenticate", "Bearer error=\"invalid_token\""}, {"dpop-nonce", "ignored"}},
        "{}"};
  };
  auto c = Make();
  Outbound out;
  out.url = "http://b.example/v1/orders";
  out.audience = "svc-b";
  out.scope = "orders.read";
  out.incoming = "Bearer user.jwt";
  auto r = c->Call(out);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, 401);
  EXPECT_EQ(resource_calls.load(), 1);
  auto f = Form(endpoint_.request(0).body);
  EXPECT_EQ(f["grant_type"], "urn:ietf:params:oauth:grant-type:token-exchange");
  EXPECT_EQ(f["subject_token"], "user.jwt");
  EXPECT_EQ(HeaderValue(endpoint_.request(1).headers, "Authorization"), "Bearer x1");
  EXPECT_EQ(HeaderValue(endpoint_.request(1).headers, "DPoP"), "");  // bearer: no proof
  // A refused token never reaches the callee.
  endpoint_.reply = [&](int, const HttpRequest& r) -> std::expected<HttpResponse, std::string> {
    if (r.url.ends_with("/oauth2/token")) return FakeEndpoint::Err(400, "invalid_target");
    ++resource_calls;
    return HttpResponse{200, {}, "{}"};
  };
  out.audience = "svc-c";
  auto refused = c->Call(out);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().kind, Error::Kind::kRefused);
  EXPECT_EQ(refused.error().error, "invalid_target");
  EXPECT_EQ(resource_calls.load(), 1);
  out.url = "not a url";
  EXPECT_EQ(c->Call(out).error().kind, Error::Kind::kInvalidArgument);
}

TEST_F(ClientTest, SignAsksTheSigningEndpoint) {
  endpoint_.reply = [](int, const HttpRequest&) -> std::expected<HttpResponse, std::string> {
    return HttpResponse{200, {}, R"({"access_token":"h.p.s","token_type":"Bearer"})"};
  };
  Options o = Base();
  o.client_id = "svc:a";
  auto c = Make(std::move(o));
  auto t = c->Sign(R"({"order":42})", "billing", 120s);
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_EQ(*t, "h.p.s");
  HttpRequest r = endpoint_.request(0);
  EXPECT_EQ(r.url, "https://auth.example.com/oauth2/signing");
  EXPECT_EQ(HeaderValue(r.headers, "Authorization"), "Basic " + Base64Encode("svc%3Aa:s3cret"));
  EXPECT_EQ(json::parse(r.body),
            json::parse(R"({"expires":120,"payload":{"order":42,"event_aud":"billing"}})"));
  EXPECT_EQ(c->stats().signed_events, 1u);
  EXPECT_EQ(c->Sign("[1]").error().kind, Error::Kind::kInvalidArgument);
  endpoint_.reply = [](int, const HttpRequest&) -> std::expected<HttpResponse, std::string> {
    return FakeEndpoint::Err(401, "invalid_client");
  };
  auto refused = c->Sign("{}");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().kind, Error::Kind::kRefused);
  EXPECT_EQ(refused.error().error, "invalid_client");
}

// Sign() authenticates as the token requests do: a fresh assertion in the JSON body...
TEST_F(ClientTest, SignWithPrivateKeyJwtPutsAFreshAssertionInTheBody) {
  endpoint_.reply = [](int, const HttpRequest&) -> std::expected<HttpResponse, std::string> {
    return HttpResponse{200, {}, R"({"access_token":"h.p.s","token_type":"Bearer"})"};
  };
  auto key = jose::Key::Generate(jose::Alg::kES256).value();
  Options o = Base();
  o.client_secret.clear();
  o.auth_method = AuthMethod::kPrivateKeyJwt;
  o.private_key_pem = std::string(key.PrivatePem().value().Reveal());
  o.key_id = "k1";
  auto c = Make(std::move(o));
  ASSERT_EQ(c->Sign(R"({"order":42})").value(), "h.p.s");
  ASSERT_TRUE(c->Sign(R"({"order":43})"));
  std::string jtis[2];
  for (int i = 0; i < 2; ++i) {
    HttpRequest r = endpoint_.request(i);
    EXPECT_EQ(r.url, "https://auth.example.com/oauth2/signing");
    EXPECT_EQ(HeaderValue(r.headers, "Authorization"), "");  // no Basic credentials
    auto body = json::parse(r.body).as_object();
    EXPECT_EQ(body["client_id"], "svc-a");
    EXPECT_EQ(body["client_assertion_type"],
              "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
    EXPECT_EQ(body["payload"].as_object()["order"], 42 + i);
    std::string assertion(body["client_assertion"].as_string());
    EXPECT_TRUE(SignatureValid(assertion, key, jose::Alg::kES256));
    EXPECT_EQ(Part(assertion, 0)["kid"], "k1");
    auto claims = Part(assertion, 1);
    EXPECT_EQ(claims["iss"], "svc-a");
    EXPECT_EQ(claims["sub"], "svc-a");
    EXPECT_EQ(claims["aud"], "https://auth.example.com/oauth2/token");
    jtis[i] = json::value_to<std::string>(claims["jti"]);
  }
  EXPECT_NE(jtis[0], jtis[1]);  // one assertion per request
}

// ...or the client id alone, the certificate being presented in the TLS handshake (RFC 8705).
TEST_F(ClientTest, SignWithTlsClientAuthSendsTheClientIdOnly) {
  endpoint_.reply = [](int, const HttpRequest&) -> std::expected<HttpResponse, std::string> {
    return HttpResponse{200, {}, R"({"access_token":"h.p.s","token_type":"Bearer"})"};
  };
  Options o = Base();
  o.client_secret.clear();
  o.auth_method = AuthMethod::kTlsClientAuth;
  o.tls_cert_file = "/unused/cert.pem";  // the fake transport opens no connection
  o.tls_key_file = "/unused/key.pem";
  auto c = Make(std::move(o));
  ASSERT_EQ(c->Sign(R"({"order":42})", "billing").value(), "h.p.s");
  HttpRequest r = endpoint_.request(0);
  EXPECT_EQ(HeaderValue(r.headers, "Authorization"), "");
  EXPECT_EQ(json::parse(r.body), json::parse(R"({"expires":300,"client_id":"svc-a",
              "payload":{"order":42,"event_aud":"billing"}})"));
}

TEST_F(ClientTest, OptionsAreChecked) {
  auto bad = [&](auto edit) {
    Options o = Base();
    edit(o);
    return Client::Create(std::move(o)).error();
  };
  EXPECT_NE(bad([](Options& o) { o.token_url = "ftp://x"; }).find("token_url"), std::string::npos);
  EXPECT_NE(bad([](Options& o) { o.client_secret.clear(); }).find("client_secret"),
            std::string::npos);
  EXPECT_NE(bad([](Options& o) {
              o.auth_method = AuthMethod::kPrivateKeyJwt;
              o.private_key_pem = "nope";
            }).find("private_key_pem"),
            std::string::npos);
  EXPECT_NE(
      bad([](Options& o) { o.auth_method = AuthMethod::kTlsClientAuth; }).find("tls_cert_file"),
      std::string::npos);
  EXPECT_NE(bad([](Options& o) { o.renew_at = 1.5; }).find("renew_at"), std::string::npos);
}

// 10,000 calls spread over 10 minutes (one every 60 ms) with 300 s tokens: how many token
// requests? Printed for the note; bounded here.
TEST_F(ClientTest, TenThousandCallsOverTenMinutes) {
  endpoint_.reply = [](int n, const HttpRequest&) -> std::expected<HttpResponse, std::string> {
    return FakeEndpoint::Ok("t" + std::to_string(n), 300);
  };
  TestExecutor executor;  // declared first: outlives the client
  Options o = Base();
  o.renew_jitter = 0.1;
  o.executor = executor.executor();
  random_ = 0.5;
  auto c = Make(std::move(o));
  int failed = 0;
  for (int i = 0; i < 10000; ++i) {
    if (!c->GetToken("svc-b", "orders.read")) ++failed;
    clock_.Advance(60ms);
    // Every 6 s of fake time the renewal thread and the request it started catch up (renewals are
    // due 65 s before the tokens stop being handed out).
    if (i % 100 == 0) {
      ASSERT_TRUE(
          Eventually([&] { return executor.idle() && clock_.Settled() && executor.idle(); }));
    }
  }
  auto s = c->stats();
  std::printf("10000 calls over 600 s with 300 s tokens: %llu token requests (%llu renewals)\n",
              static_cast<unsigned long long>(s.token_requests),
              static_cast<unsigned long long>(s.renewals));
  EXPECT_EQ(failed, 0);
  EXPECT_EQ(s.token_requests, 3u);  // at 0 s, 225 s and 450 s
  EXPECT_EQ(s.renewals, 2u);        // both renewals ahead of expiry: no caller ever waited
  EXPECT_EQ(s.cache_hits, 9999u);
}

}  // namespace
}  // namespace portcullis::client

namespace portcullis::client {
namespace {

TEST_F(ClientTest, RenewsWithTheSystemClock) {
  endpoint_.reply = [](int n, const HttpRequest&) -> std::expected<HttpResponse, std::string> {
    return FakeEndpoint::Ok("t" + std::to_string(n), 20);
  };
  Options o = Base();
  o.clock = nullptr;
  o.renew_at = 0.01;  // 200 ms into a 20 s token
  auto c = Make(std::move(o));
  ASSERT_TRUE(c->GetToken("b", "x"));
  ASSERT_TRUE(Eventually([&] { return endpoint_.count() == 2; }));
  EXPECT_EQ(c->stats().renewals, 1u);
}

}  // namespace
}  // namespace portcullis::client
