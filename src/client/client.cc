// libportcullis-client (see include/portcullis/client.h for the behaviour).
//
// One State, shared by the Client, the renewal thread and the request tasks (which hold a
// shared_ptr, so a custom Executor may run a task after the Client is gone). One mutex guards
// the cache; one condition variable announces every change (a request finished, an entry
// added, stop), and both the callers and the renewal thread wait on it through the Clock, so a
// fake clock drives them all in tests.

#include "portcullis/client.h"

#include <openssl/evp.h>

#include <algorithm>
#include <boost/json.hpp>
#include <charconv>
#include <cmath>
#include <deque>
#include <map>
#include <random>
#include <set>
#include <thread>
#include <unordered_map>

#include "common/encoding.h"
#include "common/random.h"
#include "jose/alg.h"
#include "jose/key.h"
#include "jose/ossl.h"
#include "verify/http_client.h"

namespace portcullis::client {
namespace {

namespace json = boost::json;
namespace vi = portcullis::verify::internal;

class SystemClockImpl final : public Clock {
 public:
  SteadyTime Now() const override { return std::chrono::steady_clock::now(); }
  int64_t WallSeconds() const override {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  void WaitUntil(std::condition_variable& cv, std::unique_lock<std::mutex>& lock, SteadyTime until,
                 const std::function<bool()>& done) const override {
    cv.wait_until(lock, until, done);
  }
};

std::unexpected<Error> Fail(Error::Kind kind, std::string message, int status = 0,
                            std::string oauth_error = {}) {
  return std::unexpected(Error{kind, status, std::move(oauth_error), std::move(message)});
}

// Space-separated scopes, sorted and without repeats: the cache key and the request's scope.
std::string NormalizeScope(std::string_view scope) {
  std::set<std::string_view> parts;
  size_t i = 0;
  while (i < scope.size()) {
    size_t j = scope.find(' ', i);
    if (j == std::string_view::npos) j = scope.size();
    if (j > i) parts.insert(scope.substr(i, j - i));
    i = j + 1;
  }
  std::string out;
  for (auto p : parts) {
    if (!out.empty()) out += ' ';
    out += p;
  }
  return out;
}

std::string Sha256(std::string_view data) {
  unsigned char md[32];
  unsigned int n = 0;
  EVP_Digest(data.data(), data.size(), md, &n, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<char*>(md), n);
}

std::string_view StripBearer(std::string_view token) {
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  if (token.size() > 7 && (token.substr(0, 7) == "Bearer " || token.substr(0, 7) == "bearer ")) {
    token.remove_prefix(7);
  }
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  return token;
}

std::optional<std::string_view> HeaderOf(const HttpResponse& r, std::string_view name) {
  for (const auto& [k, v] : r.headers) {
    if (k.size() == name.size() && std::equal(k.begin(), k.end(), name.begin(), [](char a, char b) {
          return std::tolower(a) == std::tolower(b);
        })) {
      return v;
    }
  }
  return std::nullopt;
}

std::optional<jose::Alg> DefaultAlg(const jose::Key& key, std::string_view name) {
  if (!name.empty()) return jose::ParseAlg(name);
  switch (key.type()) {
    case jose::KeyType::kRsa:
      return jose::Alg::kRS256;
    case jose::KeyType::kEcP256:
      return jose::Alg::kES256;
    case jose::KeyType::kEd25519:
      return jose::Alg::kEdDSA;
  }
  return std::nullopt;
}

// A compact JWS with an arbitrary protected header.
std::optional<std::string> SignJws(const jose::Key& key, jose::Alg alg, const json::object& header,
                                   const json::object& claims) {
  std::string token = Base64UrlEncode(json::serialize(header));
  token += '.';
  token += Base64UrlEncode(json::serialize(claims));
  auto sig = jose::internal::SignWith(nullptr, key.get(), alg, token);
  if (!sig) return std::nullopt;
  token += '.';
  token += Base64UrlEncode(*sig);
  return token;
}

// "https://Host:443/p?q" -> "https://host" (scheme://host[:port], the DPoP nonce's scope).
std::string OriginOf(std::string_view url) {
  url = url.substr(0, url.find('#'));  // ParseUrl refuses fragments; they never matter here
  auto u = vi::ParseUrl(url);
  if (!u) return std::string(url);
  std::string host = u->host;
  std::transform(host.begin(), host.end(), host.begin(), [](char c) { return std::tolower(c); });
  bool default_port = (u->tls && u->port == 443) || (!u->tls && u->port == 80);
  return std::string(u->tls ? "https://" : "http://") + host +
         (default_port ? "" : ":" + std::to_string(u->port));
}

// RFC 9449 §4.2: htu is the target URI "without query and fragment parts" (a query would also
// leak into a proof that resource servers may log).
std::string_view Htu(std::string_view url) { return url.substr(0, url.find_first_of("?#")); }

// A small pool running tasks in order of submission.
class Pool {
 public:
  explicit Pool(size_t threads) {
    for (size_t i = 0; i < std::max<size_t>(threads, 1); ++i) {
      threads_.emplace_back([this] { Run(); });
    }
  }
  ~Pool() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
  }
  void Submit(std::function<void()> task) {
    {
      std::lock_guard lock(mu_);
      tasks_.push_back(std::move(task));
    }
    cv_.notify_one();
  }

 private:
  void Run() {
    for (;;) {
      std::function<void()> task;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [this] { return stop_ || !tasks_.empty(); });
        if (tasks_.empty()) return;  // stopping, and nothing left to run
        task = std::move(tasks_.front());
        tasks_.pop_front();
      }
      task();
    }
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace

const Clock& Clock::System() {
  static const SystemClockImpl clock;
  return clock;
}

struct Client::State : std::enable_shared_from_this<Client::State> {
  struct Entry {
    bool exchange = false;
    std::string audience;
    std::string scope;          // normalised
    std::string subject_token;  // exchange only
    TokenPtr token;
    bool in_flight = false;
    int waiters = 0;
    int failures = 0;
    std::optional<Error> last_error;
    SteadyTime renew_at{};
    SteadyTime retry_at{};  // back-off: no request before this
    SteadyTime obtained_at{};
    SteadyTime last_used{};
    uint64_t version = 0;  // bumped when a request ends
  };

  Options options;
  const Clock* clock = nullptr;
  std::optional<jose::Key> assertion_key;
  jose::Alg assertion_alg = jose::Alg::kES256;
  std::optional<jose::Key> dpop_key;
  jose::Alg dpop_alg = jose::Alg::kES256;
  json::object dpop_jwk;

  mutable std::mutex mu;
  std::condition_variable cv;
  std::unordered_map<std::string, Entry> entries;
  size_t exchange_entries = 0;
  std::map<std::string, std::string> dpop_nonces;  // origin -> last nonce
  uint64_t changes = 0;
  bool stopping = false;
  Stats counters;
  std::mt19937_64 prng{std::random_device{}()};

  std::unique_ptr<Pool> pool;
  std::thread renewer;

  double RandomLocked() {
    if (options.random) return options.random();
    return std::uniform_real_distribution<double>(0.0, 1.0)(prng);
  }

  void Log(std::string_view event, std::string_view detail) const {
    if (options.log) options.log(event, detail);
  }

  bool Usable(const TokenPtr& t, SteadyTime now) const {
    return t && now + options.expiry_margin < t->expires_at;
  }

  void Submit(std::function<void()> task) {
    if (options.executor) {
      options.executor(std::move(task));
    } else {
      pool->Submit(std::move(task));
    }
  }

  void StartLocked(const std::string& key, Entry& e, bool renewal) {
    e.in_flight = true;
    ++counters.token_requests;
    if (e.exchange) ++counters.exchange_requests;
    if (renewal) ++counters.renewals;
    Submit([self = shared_from_this(), key] { self->Request(key); });
  }

  // The cached token of `key`, or one request's outcome within `deadline`.
  Result<TokenPtr> Get(std::string key, bool exchange, std::string_view audience,
                       std::string_view scope, std::string_view subject,
                       std::chrono::milliseconds deadline) {
    std::unique_lock lock(mu);
    SteadyTime now = clock->Now();
    auto it = entries.find(key);
    if (it == entries.end()) {
      if (exchange) EvictExchangesLocked(now);
      it = entries.emplace(key, Entry{}).first;
      it->second.exchange = exchange;
      it->second.audience = std::string(audience);
      it->second.scope = std::string(scope);
      if (exchange) ++exchange_entries;
    }
    Entry& e = it->second;
    e.last_used = now;
    if (Usable(e.token, now)) {
      ++counters.cache_hits;
      return e.token;
    }
    if (!e.in_flight) {
      if (e.last_error && now < e.retry_at) {
        Error err = *e.last_error;
        err.message = "backing off after: " + err.message;
        return std::unexpected(err);
      }
      // The incoming token is kept only while its exchange is in flight.
      if (exchange) e.subject_token = std::string(subject);
      StartLocked(key, e, false);
      ++changes;
      cv.notify_all();
    }
    const uint64_t version = e.version;
    ++e.waiters;
    clock->WaitUntil(cv, lock, now + deadline, [&] { return e.version != version || stopping; });
    --e.waiters;
    if (e.version == version) {
      ++counters.deadline_exceeded;
      return Fail(Error::Kind::kDeadline,
                  stopping ? "client stopping" : "no token within the deadline");
    }
    if (Usable(e.token, clock->Now())) return e.token;
    if (e.last_error) return std::unexpected(*e.last_error);
    return Fail(Error::Kind::kBadResponse, "the token expired on arrival");
  }

  // Keeps the exchange cache within max_exchange_entries: expired entries first, then the
  // least recently used. Entries someone waits on or fetches are kept.
  void EvictExchangesLocked(SteadyTime now) {
    if (exchange_entries < options.max_exchange_entries) return;
    for (auto it = entries.begin(); it != entries.end();) {
      const Entry& e = it->second;
      if (e.exchange && !e.in_flight && e.waiters == 0 && !Usable(e.token, now)) {
        it = entries.erase(it);
        --exchange_entries;
      } else {
        ++it;
      }
    }
    while (exchange_entries >= options.max_exchange_entries) {
      auto oldest = entries.end();
      for (auto it = entries.begin(); it != entries.end(); ++it) {
        const Entry& e = it->second;
        if (e.exchange && !e.in_flight && e.waiters == 0 &&
            (oldest == entries.end() || e.last_used < oldest->second.last_used)) {
          oldest = it;
        }
      }
      if (oldest == entries.end()) break;  // all busy: let the cache grow for now
      entries.erase(oldest);
      --exchange_entries;
    }
  }

  // Sends `r` on the caller's thread with what is left until `deadline_at` (at most
  // http_timeout). kDeadline when nothing is left, or when the transport failed after using up
  // a budget that the deadline had cut short; kUnavailable ("<what>: <reason>") otherwise.
  Result<HttpResponse> SendBy(HttpRequest r, SteadyTime deadline_at, std::string_view what) {
    const SteadyTime start = clock->Now();
    auto left = std::chrono::floor<std::chrono::milliseconds>(deadline_at - start);
    const bool cut = left < options.http_timeout;
    r.timeout = cut ? left : options.http_timeout;
    std::expected<HttpResponse, std::string> response =
        std::unexpected(std::string("no time left"));
    if (r.timeout.count() > 0) response = options.transport(r);
    if (response) return std::move(*response);
    if (cut && clock->Now() >= start + r.timeout) {
      std::lock_guard lock(mu);
      ++counters.deadline_exceeded;
      return Fail(Error::Kind::kDeadline,
                  std::string(what) + ": no answer within the deadline (" + response.error() + ")");
    }
    return Fail(Error::Kind::kUnavailable, std::string(what) + ": " + response.error());
  }

  std::optional<std::string> Assertion() const {
    int64_t now = clock->WallSeconds();
    json::object claims{{"iss", options.client_id},
                        {"sub", options.client_id},
                        {"aud", options.assertion_audience.empty() ? options.token_url
                                                                   : options.assertion_audience},
                        {"iat", now},
                        {"exp", now + 60},
                        {"jti", Random::System().Token(16)}};
    json::object header{{"alg", jose::AlgName(assertion_alg)}, {"typ", "JWT"}};
    if (!options.key_id.empty()) header["kid"] = options.key_id;
    return SignJws(*assertion_key, assertion_alg, header, claims);
  }

  std::optional<std::string> Proof(std::string_view method, std::string_view url,
                                   std::string_view token, std::string_view nonce) const {
    json::object header{{"typ", "dpop+jwt"}, {"alg", jose::AlgName(dpop_alg)}, {"jwk", dpop_jwk}};
    json::object claims{{"htm", method},
                        {"htu", Htu(url)},
                        {"iat", clock->WallSeconds()},
                        {"jti", Random::System().Token(16)}};
    if (!token.empty()) claims["ath"] = Base64UrlEncode(Sha256(token));
    if (!nonce.empty()) claims["nonce"] = nonce;
    return SignJws(*dpop_key, dpop_alg, header, claims);
  }

  std::string NonceFor(std::string_view url) const {
    std::lock_guard lock(mu);
    auto it = dpop_nonces.find(OriginOf(url));
    return it == dpop_nonces.end() ? std::string() : it->second;
  }

  void RememberNonce(std::string_view url, std::string_view nonce) {
    if (nonce.empty() || nonce.size() > 1024) return;
    std::lock_guard lock(mu);
    if (dpop_nonces.size() > 1000) dpop_nonces.clear();  // bounded: nonces are cheap to relearn
    dpop_nonces[OriginOf(url)] = std::string(nonce);
  }

  Result<HttpRequest> BuildRequest(const Entry& e) const {
    HttpRequest r;
    r.method = "POST";
    r.url = options.token_url;
    // Sent twice, a client_credentials or token-exchange request yields at most a second token
    // (and the server refuses a repeated assertion or DPoP jti): it may go again when a reused
    // connection turns out closed by the server (Fetch's retry rule).
    r.replayable = true;
    r.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
    r.headers.emplace_back("Accept", "application/json");
    if (e.exchange) {
      r.body = "grant_type=" + PercentEncode("urn:ietf:params:oauth:grant-type:token-exchange") +
               "&subject_token=" + PercentEncode(e.subject_token) + "&subject_token_type=" +
               PercentEncode("urn:ietf:params:oauth:token-type:access_token");
    } else {
      r.body = "grant_type=client_credentials";
    }
    if (!e.audience.empty()) r.body += "&audience=" + PercentEncode(e.audience);
    if (!e.scope.empty()) r.body += "&scope=" + PercentEncode(e.scope);
    switch (options.auth_method) {
      case AuthMethod::kClientSecretBasic:
        r.headers.emplace_back("Authorization",
                               vi::BasicAuth(options.client_id, options.client_secret));
        break;
      case AuthMethod::kPrivateKeyJwt: {
        auto a = Assertion();
        if (!a) return Fail(Error::Kind::kInvalidArgument, "could not sign the client assertion");
        r.body += "&client_id=" + PercentEncode(options.client_id) + "&client_assertion_type=" +
                  PercentEncode("urn:ietf:params:oauth:client-assertion-type:jwt-bearer") +
                  "&client_assertion=" + *a;
        break;
      }
      case AuthMethod::kTlsClientAuth:
        r.body += "&client_id=" + PercentEncode(options.client_id);
        break;
    }
    return r;
  }

  // One token request for `key` (on a request thread). With DPoP, one retry with the server's
  // nonce when it answers use_dpop_nonce (RFC 9449 §8).
  void Request(const std::string& key) {
    HttpRequest request;
    SteadyTime started;
    std::string scope;
    {
      std::lock_guard lock(mu);
      auto it = entries.find(key);
      if (it == entries.end()) return;
      auto r = BuildRequest(it->second);
      started = clock->Now();
      scope = it->second.scope;
      if (!r) {
        FinishLocked(it->second, std::unexpected(r.error()), started);
        return;
      }
      request = std::move(*r);
    }
    request.timeout = options.http_timeout;  // in the background: no caller waits on the wire
    Result<TokenPtr> outcome = Fail(Error::Kind::kUnavailable, "not sent");
    std::optional<std::chrono::seconds> retry_after;
    for (int attempt = 0; attempt < 2; ++attempt) {
      HttpRequest sent = request;
      if (dpop_key) {
        auto proof = Proof("POST", options.token_url, {}, NonceFor(options.token_url));
        if (!proof) {
          outcome = Fail(Error::Kind::kInvalidArgument, "could not sign the DPoP proof");
          break;
        }
        sent.headers.emplace_back("DPoP", *proof);
      }
      auto response = options.transport(sent);
      if (!response) {
        outcome = Fail(Error::Kind::kUnavailable, "token endpoint: " + response.error());
        break;
      }
      auto nonce = HeaderOf(*response, "dpop-nonce");
      if (nonce && dpop_key) RememberNonce(options.token_url, *nonce);
      outcome = Parse(*response, started, scope);
      if (!outcome && outcome.error().error == "use_dpop_nonce" && dpop_key && nonce &&
          attempt == 0) {
        std::lock_guard lock(mu);
        ++counters.dpop_nonce_retries;
        continue;
      }
      retry_after = RetryAfter(*response);
      if (!outcome && retry_after) {
        outcome.error().message += " (retry after " + std::to_string(retry_after->count()) + " s)";
      }
      break;
    }
    std::lock_guard lock(mu);
    auto it = entries.find(key);
    if (it != entries.end()) FinishLocked(it->second, std::move(outcome), started, retry_after);
  }

  // Seconds of Retry-After (delta-seconds only), for 429 and 503.
  std::optional<std::chrono::seconds> RetryAfter(const HttpResponse& r) const {
    if (r.status != 429 && r.status != 503) return std::nullopt;
    auto v = HeaderOf(r, "retry-after");
    if (!v) return std::nullopt;
    int64_t s = 0;
    auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), s);
    if (ec != std::errc() || p != v->data() + v->size() || s < 0) return std::nullopt;
    return std::chrono::seconds(std::min<int64_t>(s, 86400));
  }
  Result<TokenPtr> Parse(const HttpResponse& r, SteadyTime started,
                         std::string_view scope_asked) const {
    boost::system::error_code ec;
    json::value body = json::parse(r.body, ec);
    const json::object* o = (!ec && body.is_object()) ? &body.as_object() : nullptr;
    auto str = [&](std::string_view k) -> std::string {
      if (!o) return {};
      auto v = o->if_contains(k);
      return v && v->is_string() ? std::string(v->as_string()) : std::string();
    };
    if (r.status != 200) {
      std::string error = str("error");
      std::string description = str("error_description");
      std::string msg = "token endpoint answered " + std::to_string(r.status);
      if (!error.empty()) msg += " " + error.substr(0, 64);
      if (!description.empty()) msg += ": " + description.substr(0, 200);
      Error::Kind kind =
          (r.status >= 500 || r.status == 429) ? Error::Kind::kUnavailable : Error::Kind::kRefused;
      return Fail(kind, msg, r.status, error.substr(0, 64));
    }
    auto t = std::make_shared<Token>();
    t->access_token = str("access_token");
    t->token_type = str("token_type");
    t->scope = str("scope");
    if (t->scope.empty()) t->scope = std::string(scope_asked);
    if (t->access_token.empty()) {
      return Fail(Error::Kind::kBadResponse, "token endpoint: no access_token", r.status);
    }
    if (t->access_token.find_first_of(" \r\n\t") != std::string::npos) {
      return Fail(Error::Kind::kBadResponse, "token endpoint: malformed access_token", r.status);
    }
    // RFC 6749 §5.1: case-insensitive; normalised to the scheme names.
    std::string type = t->token_type;
    std::transform(type.begin(), type.end(), type.begin(), [](char c) { return std::tolower(c); });
    if (type == "bearer") {
      t->token_type = "Bearer";
    } else if (type == "dpop" && dpop_key) {
      t->token_type = "DPoP";
    } else {
      return Fail(Error::Kind::kBadResponse, "token endpoint: unexpected token_type", r.status);
    }
    std::chrono::seconds lifetime = options.default_lifetime;
    if (o) {
      if (auto v = o->if_contains("expires_in"); v && v->is_int64() && v->as_int64() > 0) {
        lifetime = std::chrono::seconds(std::min<int64_t>(v->as_int64(), 366LL * 86400));
      }
    }
    t->expires_at = started + lifetime;
    return TokenPtr(std::move(t));
  }

  void FinishLocked(Entry& e, Result<TokenPtr> outcome, SteadyTime started,
                    std::optional<std::chrono::seconds> retry_after = std::nullopt) {
    SteadyTime now = clock->Now();
    e.in_flight = false;
    ++e.version;
    std::string().swap(e.subject_token);
    if (outcome) {
      const TokenPtr& t = *outcome;
      e.token = t;
      e.failures = 0;
      e.last_error.reset();
      e.retry_at = {};
      e.obtained_at = started;
      if (e.waiters > 0) e.last_used = now;  // handed to the callers waiting for it
      auto lifetime = std::chrono::duration<double>(t->expires_at - started).count();
      double at = options.renew_at + options.renew_jitter * (2 * RandomLocked() - 1);
      at = std::clamp(at, 0.0, 1.0);
      SteadyTime renew = started + std::chrono::duration_cast<SteadyTime::duration>(
                                       std::chrono::duration<double>(lifetime * at));
      // Never later than the moment the token stops being handed out.
      e.renew_at = std::min(renew, t->expires_at - options.expiry_margin);
    } else {
      ++counters.token_failures;
      ++e.failures;
      e.last_error = outcome.error();
      double base = std::chrono::duration<double>(options.backoff_initial).count() *
                    std::pow(2.0, std::min(e.failures - 1, 30));
      double cap = std::chrono::duration<double>(options.backoff_max).count();
      double wait = std::min(base, cap) * (0.5 + 0.5 * RandomLocked());
      if (retry_after) wait = std::min(std::max(wait, double(retry_after->count())), cap);
      e.retry_at = now + std::chrono::duration_cast<SteadyTime::duration>(
                             std::chrono::duration<double>(wait));
      Log(e.exchange ? "exchange_error" : "token_error",
          (e.audience.empty() ? std::string("(default audience)") : e.audience) + ": " +
              outcome.error().message);
    }
    ++changes;
    cv.notify_all();
  }

  // The renewal thread: starts the requests that are due and sleeps until the next one.
  void Renew() {
    std::unique_lock lock(mu);
    while (!stopping) {
      SteadyTime now = clock->Now();
      SteadyTime next = now + std::chrono::hours(1);
      for (auto& [key, e] : entries) {
        if (e.exchange || !e.token || e.in_flight) continue;
        if (now >= e.token->expires_at) continue;  // gone: the next caller asks
        SteadyTime due = std::max(e.renew_at, e.retry_at);
        if (due > now) {
          next = std::min(next, due);
        } else if (e.last_used >= e.obtained_at) {
          StartLocked(key, e, true);
        }  // else unused since it was obtained: let it lapse
      }
      const uint64_t seen = changes;
      clock->WaitUntil(cv, lock, next, [&] { return stopping || changes != seen; });
    }
  }
};

Client::Client(std::shared_ptr<State> state) : state_(std::move(state)) {}

Client::~Client() {
  {
    std::lock_guard lock(state_->mu);
    state_->stopping = true;
    ++state_->changes;
  }
  state_->cv.notify_all();
  state_->renewer.join();
  state_->pool.reset();  // joins the request threads (each ends within http_timeout)
}

std::expected<std::unique_ptr<Client>, std::string> Client::Create(Options o) {
  auto s = std::make_shared<State>();
  if (!vi::ParseUrl(o.token_url)) return std::unexpected("token_url: not an http(s) URL");
  if (o.client_id.empty()) return std::unexpected("client_id: required");
  switch (o.auth_method) {
    case AuthMethod::kClientSecretBasic:
      if (o.client_secret.empty()) return std::unexpected("client_secret: required");
      break;
    case AuthMethod::kPrivateKeyJwt: {
      auto key = jose::Key::FromPem(o.private_key_pem);
      if (!key || !key->has_private()) {
        return std::unexpected("private_key_pem: not a private key PEM");
      }
      auto alg = DefaultAlg(*key, o.assertion_alg);
      if (!alg || !key->Supports(*alg)) {
        return std::unexpected("assertion_alg: not usable with the key");
      }
      s->assertion_key = *key;
      s->assertion_alg = *alg;
      break;
    }
    case AuthMethod::kTlsClientAuth:
      if (o.tls_cert_file.empty() || o.tls_key_file.empty()) {
        return std::unexpected("tls_cert_file, tls_key_file: required for tls_client_auth");
      }
      break;
  }
  if (o.tls_cert_file.empty() != o.tls_key_file.empty()) {
    return std::unexpected("tls_cert_file, tls_key_file: both or neither");
  }
  if (!o.dpop_key_pem.empty()) {
    auto key = jose::Key::FromPem(o.dpop_key_pem);
    if (!key || !key->has_private()) return std::unexpected("dpop_key_pem: not a private key PEM");
    auto alg = DefaultAlg(*key, o.dpop_alg.empty() ? o.assertion_alg : o.dpop_alg);
    if (!alg || !key->Supports(*alg)) return std::unexpected("dpop_alg: not usable with the key");
    auto jwk = key->ToPublicJwk("", *alg);
    if (!jwk) return std::unexpected("dpop_key_pem: no public JWK");
    jwk->erase("kid");
    jwk->erase("use");
    jwk->erase("alg");
    s->dpop_key = *key;
    s->dpop_alg = *alg;
    s->dpop_jwk = std::move(*jwk);
  }
  if (!(o.renew_at > 0 && o.renew_at <= 1) || !(o.renew_jitter >= 0 && o.renew_jitter < 1)) {
    return std::unexpected("renew_at, renew_jitter: fractions of the lifetime");
  }
  if (o.deadline.count() < 0 || o.backoff_initial.count() <= 0 ||
      o.backoff_max < o.backoff_initial) {
    return std::unexpected("deadline, backoff_initial, backoff_max: out of range");
  }
  if (!o.transport) {
    vi::HttpOptions http;
    http.timeout = o.http_timeout;
    http.ca_file = o.ca_file;
    http.cert_file = o.tls_cert_file;
    http.key_file = o.tls_key_file;
    http.max_body_bytes = 256 * 1024;
    o.transport = [http](const HttpRequest& r) -> std::expected<HttpResponse, std::string> {
      vi::HttpRequest req{r.method, r.url, r.headers, r.body};
      // Only the library's own token requests (BuildRequest): a host's POST through Call to
      // the same URL (a refresh or code grant, say) must never be sent twice.
      req.replayable = r.replayable;
      vi::HttpOptions limited = http;
      if (r.timeout.count() > 0) limited.timeout = std::min(http.timeout, r.timeout);
      auto resp = vi::Fetch(req, limited);
      if (!resp) return std::unexpected(resp.error());
      return HttpResponse{resp->status, std::move(resp->headers), std::move(resp->body)};
    };
  }
  if (o.signing_url.empty()) {
    size_t slash = o.token_url.rfind('/');
    o.signing_url = o.token_url.substr(0, slash + 1) + "signing";
  }
  s->clock = o.clock ? o.clock : &Clock::System();
  s->options = std::move(o);
  if (!s->options.executor) s->pool = std::make_unique<Pool>(s->options.fetch_threads);
  s->renewer = std::thread([raw = s.get()] { raw->Renew(); });
  return std::unique_ptr<Client>(new Client(std::move(s)));
}

Result<TokenPtr> Client::GetToken(std::string_view audience, std::string_view scope) {
  return GetToken(audience, scope, state_->options.deadline);
}

Result<TokenPtr> Client::GetToken(std::string_view audience, std::string_view scope,
                                  std::chrono::milliseconds deadline) {
  std::string normal = NormalizeScope(scope);
  std::string key = "c\n" + std::string(audience) + "\n" + normal;
  return state_->Get(std::move(key), false, audience, normal, {}, deadline);
}

Result<TokenPtr> Client::Exchange(std::string_view incoming, std::string_view audience,
                                  std::string_view scope) {
  return Exchange(incoming, audience, scope, state_->options.deadline);
}

Result<TokenPtr> Client::Exchange(std::string_view incoming, std::string_view audience,
                                  std::string_view scope, std::chrono::milliseconds deadline) {
  std::string_view subject = StripBearer(incoming);
  if (subject.empty()) return Fail(Error::Kind::kInvalidArgument, "no incoming token");
  if (audience.empty()) return Fail(Error::Kind::kInvalidArgument, "audience required");
  std::string normal = NormalizeScope(scope);
  std::string key =
      "x\n" + Base64UrlEncode(Sha256(subject)) + "\n" + std::string(audience) + "\n" + normal;
  return state_->Get(std::move(key), true, audience, normal, subject, deadline);
}

Result<std::string> Client::DpopProof(std::string_view method, std::string_view url,
                                      std::string_view token) {
  if (!state_->dpop_key) return Fail(Error::Kind::kInvalidArgument, "no DPoP key configured");
  auto p = state_->Proof(method, url, token, state_->NonceFor(url));
  if (!p) return Fail(Error::Kind::kInvalidArgument, "could not sign the DPoP proof");
  return *p;
}

void Client::RememberDpopNonce(std::string_view url, std::string_view nonce) {
  state_->RememberNonce(url, nonce);
}

namespace {

Result<Headers> HeadersFor(Client& client, const Result<TokenPtr>& token, std::string_view method,
                           std::string_view url) {
  if (!token) return std::unexpected(token.error());
  Headers h;
  h.emplace_back("Authorization", (*token)->AuthorizationValue());
  if ((*token)->token_type == "DPoP") {
    auto proof = client.DpopProof(method, url, (*token)->access_token);
    if (!proof) return std::unexpected(proof.error());
    h.emplace_back("DPoP", std::move(*proof));
  }
  return h;
}

}  // namespace

Result<Headers> Client::ServiceHeaders(std::string_view audience, std::string_view scope,
                                       std::string_view method, std::string_view url) {
  return HeadersFor(*this, GetToken(audience, scope), method, url);
}

Result<Headers> Client::DelegatedHeaders(std::string_view incoming, std::string_view audience,
                                         std::string_view scope, std::string_view method,
                                         std::string_view url) {
  return HeadersFor(*this, Exchange(incoming, audience, scope), method, url);
}

Result<Headers> Client::TwoTokenHeaders(std::string_view incoming_authorization,
                                        std::string_view audience, std::string_view scope) {
  if (state_->dpop_key) {
    return Fail(Error::Kind::kInvalidArgument, "X-Scope-Token cannot be DPoP-bound");
  }
  if (incoming_authorization.find_first_of("\r\n") != std::string_view::npos) {
    return Fail(Error::Kind::kInvalidArgument, "bad incoming Authorization");
  }
  auto own = GetToken(audience, scope);
  if (!own) return std::unexpected(own.error());
  Headers h;
  if (!StripBearer(incoming_authorization).empty()) {
    h.emplace_back("Authorization", std::string(incoming_authorization));
  }
  h.emplace_back("X-Scope-Token", "Bearer " + (*own)->access_token);
  return h;
}

Result<HttpResponse> Client::Call(const Outbound& request) {
  if (!vi::ParseUrl(request.url)) return Fail(Error::Kind::kInvalidArgument, "call: bad url");
  // One deadline for the whole call: the token wait, then each attempt gets what is left.
  const auto limit =
      std::max(request.deadline.value_or(state_->options.deadline), std::chrono::milliseconds(0));
  const SteadyTime deadline_at = state_->clock->Now() + limit;
  Result<TokenPtr> token = request.incoming.empty()
                               ? GetToken(request.audience, request.scope, limit)
                               : Exchange(request.incoming, request.audience, request.scope, limit);
  if (!token) return std::unexpected(token.error());
  const bool dpop = (*token)->token_type == "DPoP";
  Result<HttpResponse> response;
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (attempt > 0) {
      std::lock_guard lock(state_->mu);
      ++state_->counters.dpop_nonce_retries;
    }
    HttpRequest r{request.method, request.url, request.headers, request.body};
    r.headers.emplace_back("Authorization", (*token)->AuthorizationValue());
    if (dpop) {
      // A fresh proof per request, with the nonce last seen for this origin.
      auto proof = DpopProof(request.method, request.url, (*token)->access_token);
      if (!proof) return std::unexpected(proof.error());
      r.headers.emplace_back("DPoP", std::move(*proof));
    }
    response = state_->SendBy(std::move(r), deadline_at, "call");
    if (!response) return std::unexpected(response.error());
    auto nonce = HeaderOf(*response, "dpop-nonce");
    if (!dpop || !nonce) break;
    state_->RememberNonce(request.url, *nonce);
    // RFC 9449 §9: the resource wants a nonce in the proof; one more try with it.
    auto challenge = HeaderOf(*response, "www-authenticate");
    if (response->status != 401 || !challenge || !challenge->starts_with("DPoP") ||
        challenge->find("use_dpop_nonce") == std::string_view::npos) {
      break;
    }
  }
  return std::move(*response);
}

Result<std::string> Client::Sign(std::string_view payload_json, std::string_view audience,
                                 std::chrono::seconds expires,
                                 std::optional<std::chrono::milliseconds> deadline) {
  const Options& o = state_->options;
  const SteadyTime deadline_at = state_->clock->Now() + deadline.value_or(o.deadline);
  boost::system::error_code ec;
  json::value payload = json::parse(payload_json, ec);
  if (ec || !payload.is_object()) {
    return Fail(Error::Kind::kInvalidArgument, "the payload must be a JSON object");
  }
  if (!audience.empty()) payload.as_object()["event_aud"] = audience;
  HttpRequest r;
  r.method = "POST";
  r.url = o.signing_url;
  r.headers.emplace_back("Content-Type", "application/json");
  r.headers.emplace_back("Accept", "application/json");
  json::object body_fields{{"expires", expires.count()}, {"payload", payload}};
  // The endpoint's body is JSON: private_key_jwt and mTLS put their client fields there.
  switch (o.auth_method) {
    case AuthMethod::kClientSecretBasic:
      r.headers.emplace_back("Authorization", vi::BasicAuth(o.client_id, o.client_secret));
      break;
    case AuthMethod::kPrivateKeyJwt: {
      auto a = state_->Assertion();
      if (!a) return Fail(Error::Kind::kInvalidArgument, "could not sign the client assertion");
      body_fields["client_id"] = o.client_id;
      body_fields["client_assertion_type"] =
          "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
      body_fields["client_assertion"] = *a;
      break;
    }
    case AuthMethod::kTlsClientAuth:  // the transport presents the certificate
      body_fields["client_id"] = o.client_id;
      break;
  }
  r.body = json::serialize(body_fields);
  auto response = state_->SendBy(std::move(r), deadline_at, "signing endpoint");
  if (!response) return std::unexpected(response.error());
  json::value body = json::parse(response->body, ec);
  const json::object* obj = (!ec && body.is_object()) ? &body.as_object() : nullptr;
  auto str = [&](std::string_view k) -> std::string {
    const json::value* v = obj ? obj->if_contains(k) : nullptr;
    return v && v->is_string() ? std::string(v->as_string()) : std::string();
  };
  if (response->status != 200) {
    std::string error = str("error").substr(0, 64);
    std::string detail = str("error_description");
    if (detail.empty()) detail = str("message");
    Error::Kind kind = (response->status >= 500 || response->status == 429)
                           ? Error::Kind::kUnavailable
                           : Error::Kind::kRefused;
    return Fail(kind,
                "signing endpoint answered " + std::to_string(response->status) + " " + error +
                    (detail.empty() ? "" : ": " + detail.substr(0, 200)),
                response->status, error);
  }
  std::string token = str("access_token");
  if (token.empty() || std::count(token.begin(), token.end(), '.') != 2) {
    return Fail(Error::Kind::kBadResponse, "signing endpoint: no signed payload", response->status);
  }
  std::lock_guard lock(state_->mu);
  ++state_->counters.signed_events;
  return token;
}

Stats Client::stats() const {
  std::lock_guard lock(state_->mu);
  return state_->counters;
}

}  // namespace portcullis::client
