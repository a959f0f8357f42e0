// libportcullis-verify: see include/portcullis/verify.h for the contract.
//
// Shape: three immutable snapshots behind atomically swapped shared_ptrs (the key set with its
// prepared jose::Verifier, the endpoint table, the deny-list), read lock-free by requests and
// replaced by one refresher thread that does every fetch. The mutex guards only the refetch
// coordination (in-flight flag, rate limit, negative cache) that the unknown-kid path needs.

#include <strings.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "common/clock.h"
#include "common/encoding.h"
#include "jose/key_set.h"
#include "jose/verifier.h"
#include "portcullis/verify.h"
#include "verify/claims.h"
#include "verify/endpoint_table.h"
#include "verify/http_client.h"
#include "verify/sender.h"

namespace portcullis::verify {
namespace {

using Steady = std::chrono::steady_clock::time_point;
namespace json = boost::json;

class SystemTime final : public TimeSource {
 public:
  int64_t WallSeconds() const override { return SystemClock::Instance().Now(); }
  std::chrono::steady_clock::time_point Steady() const override {
    return std::chrono::steady_clock::now();
  }
};

// jose::Verifier reads wall time through portcullis::Clock.
class ClockAdapter final : public Clock {
 public:
  explicit ClockAdapter(const TimeSource& time) : time_(time) {}
  int64_t Now() const override { return time_.WallSeconds(); }

 private:
  const TimeSource& time_;
};

constexpr size_t kMaxNegative = 4096;
constexpr size_t kMaxKidLength = 256;
constexpr size_t kMaxPemKeys = 64;

std::string_view Str(const json::string& s) { return {s.data(), s.size()}; }

// The Bearer credentials of an Authorization value (RFC 6750 §2.1); nullopt for another scheme.
std::optional<std::string_view> BearerOf(std::string_view value) {
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  if (value.size() < 7) return std::nullopt;
  std::string_view scheme = value.substr(0, 7);
  for (size_t i = 0; i < 6; ++i) {
    char c = scheme[i] >= 'A' && scheme[i] <= 'Z' ? char(scheme[i] - 'A' + 'a') : scheme[i];
    if (c != "bearer"[i]) return std::nullopt;
  }
  if (scheme[6] != ' ') return std::nullopt;
  value.remove_prefix(7);
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  return value;
}

// The JWS header's kid, for the unknown-kid path only.
std::optional<std::string> KidOf(std::string_view token) {
  size_t dot = token.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  auto header = Base64UrlDecode(token.substr(0, dot));
  if (!header) return std::nullopt;
  boost::system::error_code ec;
  json::value v = json::parse(*header, ec);
  if (ec || !v.is_object()) return std::nullopt;
  const auto* kid = v.get_object().if_contains("kid");
  if (kid == nullptr || !kid->is_string() || kid->get_string().empty()) return std::nullopt;
  return std::string(Str(kid->get_string()));
}

std::string TrimSlash(std::string s) {
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

Decision Deny(Verdict verdict, std::string code, std::string reason, std::string description) {
  Decision d;
  d.verdict = verdict;
  d.code = std::move(code);
  d.reason = std::move(reason);
  d.description = std::move(description);
  return d;
}

struct KeysState {
  std::unique_ptr<jose::Verifier> verifier;
  std::unique_ptr<jose::Verifier> events;  // signed payloads: their typ and audience
  bool ready = false;                      // the configured key sources have delivered once
};

using RevokedSet = std::unordered_set<std::string>;

struct AtomicStats {
  std::atomic<uint64_t> jwks_fetches{0}, jwks_not_modified{0}, pem_fetches{0}, refetches{0},
      refetch_limited{0}, negative_hits{0}, endpoint_fetches{0}, revoked_fetches{0},
      token_fetches{0}, fetch_errors{0};
};

}  // namespace

const TimeSource& TimeSource::System() {
  static const SystemTime time;
  return time;
}

int Decision::http_status() const {
  switch (verdict) {
    case Verdict::kAllowed:
      return 200;
    case Verdict::kUnauthorized:
      return 401;
    case Verdict::kForbidden:
      return 403;
    case Verdict::kUnavailable:
      return 503;
  }
  return 500;
}

struct Verifier::Impl {
  Options o;
  const TimeSource& time;
  ClockAdapter clock;
  jose::VerifyOptions verify_options;
  std::vector<std::string> shared_audiences;  // with service_id: see Options::shared_audiences
  internal::HttpOptions http;
  bool has_jwks = false, has_pem = false, has_registry = false, has_revoked = false;

  // Static keys and everything fetched so far; touched by the refresher thread only (and by
  // Create before the thread starts).
  jose::KeySet static_keys;
  std::shared_ptr<const jose::KeySet> jwks_keys;
  std::map<std::string, jose::Key> pem_fetched;
  bool jwks_loaded = false;
  std::string jwks_etag, endpoints_etag, revoked_etag;
  Steady jwks_due{}, endpoints_due{}, revoked_due{};
  std::string bearer;
  Steady bearer_expiry{};

  // Snapshots read by requests.
  std::atomic<std::shared_ptr<const KeysState>> keys;
  std::atomic<std::shared_ptr<const EndpointTable>> endpoints;
  std::atomic<std::shared_ptr<const RevokedSet>> revoked;

  // Refetch coordination.
  mutable std::mutex mu;
  mutable std::condition_variable wake_cv;  // the refresher waits here
  mutable std::condition_variable done_cv;  // requests and WaitReady wait here
  bool stop = false;
  bool woken = false;
  bool keys_in_flight = false;
  std::string in_flight_kid;
  // Written by the request path too (Refetch is const to its callers).
  mutable bool refetch_requested = false;
  mutable std::string refetch_kid;
  mutable std::optional<Steady> last_keys_fetch;
  uint64_t keys_generation = 0;
  mutable std::unordered_map<std::string, Steady> negative;

  mutable AtomicStats stats;
  std::thread thread;

  // Sender-constrained tokens.
  DpopPolicy dpop;
  mutable ReplayCache replay;
  mutable ReplayCache event_replay;

  Impl(Options options, const TimeSource& t)
      : o(std::move(options)),
        time(t),
        clock(t),
        replay(o.dpop_replay_capacity, o.dpop_replay_per_key),
        event_replay(o.event_replay_capacity) {}

  void Log(std::string_view event, std::string_view detail) const {
    if (o.log) o.log(event, detail);
  }

  // --- Snapshots ---------------------------------------------------------------------------

  void PublishKeys() {
    jose::KeySet all;
    auto add = [&all](const jose::KeyEntry& e) {
      if (!all.Find(e.kid)) (void)all.Add(e.kid, e.key, e.alg);
    };
    for (const auto& [kid, e] : static_keys.entries()) add(e);
    if (jwks_keys) {
      for (const auto& [kid, e] : jwks_keys->entries()) add(e);
    }
    for (const auto& [kid, key] : pem_fetched) add(jose::KeyEntry{kid, key, std::nullopt});
    auto state = std::make_shared<KeysState>();
    state->ready = !has_jwks || jwks_loaded;
    auto set = std::make_shared<const jose::KeySet>(std::move(all));
    state->verifier = std::make_unique<jose::Verifier>(set, verify_options, clock);
    jose::VerifyOptions events = verify_options;
    events.audience = "urn:portcullis:signed-payload";
    events.typ = "payload+jwt";
    state->events = std::make_unique<jose::Verifier>(set, std::move(events), clock);
    keys.store(std::move(state), std::memory_order_release);
  }

  // Under mu.
  bool Ready() const {
    if (keys_in_flight || !keys.load()->ready) return false;
    if (o.verify_scope && !endpoints.load()) return false;
    if (has_revoked && !revoked.load()) return false;
    return true;
  }

  // --- Request path ------------------------------------------------------------------------

  struct Checked {
    std::optional<Decision> denied;
    Identity identity;
  };

  // Asks for (or joins) a key refetch for `kid`; true when a refetch finished while waiting.
  bool Refetch(const std::string& kid) const {
    std::unique_lock lock(mu);
    const Steady now = time.Steady();
    if (auto it = negative.find(kid); it != negative.end()) {
      if (it->second > now) {
        stats.negative_hits++;
        return false;
      }
      negative.erase(it);
    }
    if (!has_jwks && !has_pem) return false;
    bool merged = (keys_in_flight && (has_jwks || in_flight_kid == kid)) ||
                  (refetch_requested && (has_jwks || refetch_kid == kid));
    if (!merged) {
      if (last_keys_fetch && now - *last_keys_fetch < o.refetch_interval) {
        stats.refetch_limited++;
        return false;
      }
      refetch_requested = true;
      refetch_kid = kid;
      last_keys_fetch = now;  // the slot is taken now, so concurrent kids are limited
      wake_cv.notify_one();
    }
    if (o.unknown_kid_wait.count() <= 0) return false;
    const uint64_t generation = keys_generation;
    done_cv.wait_for(lock, o.unknown_kid_wait,
                     [&] { return stop || keys_generation != generation; });
    return keys_generation != generation;
  }

  Checked Check(std::string_view token, bool scope_token, const Presented& presented) const {
    Checked out;
    auto state = keys.load(std::memory_order_acquire);
    auto v = state->verifier->Verify(token);
    if (!v && v.error().reason == jose::VerifyReason::kUnknownKid) {
      auto kid = KidOf(token);
      if (kid && kid->size() <= kMaxKidLength && Refetch(*kid)) {
        state = keys.load(std::memory_order_acquire);
        v = state->verifier->Verify(token);
      }
      if (!v && v.error().reason == jose::VerifyReason::kUnknownKid && !state->ready &&
          state->verifier->keys().empty()) {
        out.denied = Deny(Verdict::kUnavailable, "ERR10010", "keys_unavailable",
                          "The verification keys could not be loaded.");
        return out;
      }
    }
    if (!v) {
      bool expired = v.error().reason == jose::VerifyReason::kExpired;
      std::string reason(jose::ReasonName(v.error().reason));
      if (scope_token) {
        out.denied =
            Deny(Verdict::kUnauthorized, expired ? "ERR10004" : "ERR10003", reason,
                 expired ? "Scope token expired." : "Invalid scope token (" + reason + ").");
      } else {
        out.denied =
            Deny(Verdict::kUnauthorized, expired ? "ERR10001" : "ERR10000", reason,
                 expired ? "Jwt token is expired." : "Invalid JWT token (" + reason + ").");
      }
      return out;
    }
    const json::object& claims = v->payload;
    auto refuse = [&](std::string reason, std::string what) {
      out.denied = Deny(Verdict::kUnauthorized, scope_token ? "ERR10003" : "ERR10000", reason,
                        std::string(scope_token ? "Invalid scope token (" : "Invalid JWT token (") +
                            reason + "): " + what);
      return out;
    };
    // RFC 8725 §3.11: a signed payload is data, not an access token.
    if (const auto* typ = v->header.if_contains("typ");
        typ && typ->is_string() && IsSignedPayloadTyp(Str(typ->get_string()))) {
      return refuse("wrong_type", "a signed payload is not an access token.");
    }
    // An OpenID Connect ID token is for the client, not a resource server: Portcullis (and
    // Keycloak) mark theirs with the claim typ "ID".
    if (const auto* typ = claims.if_contains("typ");
        typ && typ->is_string() && Str(typ->get_string()) == "ID") {
      return refuse("wrong_type", "an ID token is not an access token.");
    }
    if (!o.service_id.empty() && !AudienceAdmits(claims, o.service_id, shared_audiences)) {
      return refuse("wrong_audience", "the token is for another service.");
    }
    Identity& id = out.identity;
    id.client_id = FirstString(claims, {"client_id", "cid", "azp"});
    id.user_id = FirstString(claims, {"user_id", "uid"});
    id.subject = FirstString(claims, {"sub"});
    id.issuer = FirstString(claims, {"iss"});
    id.jti = FirstString(claims, {"jti"});
    id.scopes = ScopesOf(claims);
    if (const auto* exp = claims.if_contains("exp")) {
      if (exp->is_int64()) id.expires_at = exp->get_int64();
      if (exp->is_uint64()) id.expires_at = static_cast<int64_t>(exp->get_uint64());
      if (exp->is_double()) id.expires_at = static_cast<int64_t>(exp->get_double());
    }
    if (o.keep_claims_json) id.claims_json = json::serialize(claims);
    if (has_revoked && !id.jti.empty()) {
      auto deny = revoked.load(std::memory_order_acquire);
      if (deny && deny->contains(id.jti)) {
        out.denied = Deny(Verdict::kUnauthorized, scope_token ? "ERR10003" : "ERR10000", "revoked",
                          scope_token ? "Scope token revoked." : "Token revoked.");
        return out;
      }
    }
    // Unbound tokens sent as Bearer stop at the lookup of "cnf".
    if (presented.dpop_scheme || claims.contains("cnf")) {
      if (auto r =
              CheckSenderConstraint(claims, token, presented, dpop, time.WallSeconds(), replay)) {
        out.denied = Deny(Verdict::kUnauthorized, scope_token ? "ERR10003" : "ERR10000", r->reason,
                          r->description);
        out.denied->www_authenticate = Challenge(*r, dpop);
      }
    }
    return out;
  }

  // --- Refresher thread --------------------------------------------------------------------

  std::optional<std::string> Bearer() {
    if (o.bearer_token) return o.bearer_token();
    if (o.client.token_url.empty()) return std::nullopt;
    const Steady now = time.Steady();
    if (!bearer.empty() && now < bearer_expiry) return bearer;
    internal::HttpRequest req;
    req.method = "POST";
    req.url = o.client.token_url;
    req.headers = {
        {"Authorization", internal::BasicAuth(o.client.client_id, o.client.client_secret)},
        {"Content-Type", "application/x-www-form-urlencoded"},
        {"Accept", "application/json"}};
    req.body = "grant_type=client_credentials";
    if (!o.client.scope.empty()) req.body += "&scope=" + PercentEncode(o.client.scope);
    auto r = internal::Fetch(req, http);
    if (!r || r->status != 200) {
      stats.fetch_errors++;
      Log("verify.token_failed",
          r ? "status " + std::to_string(r->status) + ": " + r->body.substr(0, 200) : r.error());
      return std::nullopt;
    }
    boost::system::error_code ec;
    json::value v = json::parse(r->body, ec);
    const json::object* obj = ec ? nullptr : v.if_object();
    const json::value* at = obj ? obj->if_contains("access_token") : nullptr;
    if (at == nullptr || !at->is_string()) {
      stats.fetch_errors++;
      Log("verify.token_failed", "no access_token in the answer");
      return std::nullopt;
    }
    int64_t ttl = 60;
    if (const json::value* e = obj->if_contains("expires_in"); e && e->is_int64()) {
      ttl = e->get_int64();
    }
    bearer = std::string(Str(at->get_string()));
    bearer_expiry = now + std::chrono::seconds(std::max<int64_t>(ttl - 30, ttl / 2));
    stats.token_fetches++;
    return bearer;
  }

  std::chrono::seconds ClampMaxAge(std::optional<int64_t> max_age) const {
    std::chrono::seconds s = max_age ? std::chrono::seconds(*max_age) : o.default_max_age;
    return std::clamp(s, o.min_max_age, std::max(o.min_max_age, o.max_max_age));
  }

  void FetchKeys(const std::string& kid) {
    const Steady now = time.Steady();
    bool changed = false;
    // Counted only once the keys are published: a reader that sees the count grow can rely on
    // the new keys being in use (tests wait on it).
    uint64_t jwks_fetched = 0, pem_fetched_now = 0;
    if (has_jwks) {
      internal::HttpRequest req;
      req.url = o.jwks_url;
      req.headers = {{"Accept", "application/jwk-set+json, application/json"}};
      if (!jwks_etag.empty()) req.headers.emplace_back("If-None-Match", jwks_etag);
      auto r = internal::Fetch(req, http);
      if (r && (r->status == 200 || r->status == 304)) {
        auto max_age = internal::MaxAge(r->Header("cache-control").value_or(""));
        jwks_due = now + ClampMaxAge(max_age);
        if (r->status == 304) {
          stats.jwks_not_modified++;
        } else if (auto set = jose::ParseJwks(r->body)) {
          jwks_keys = std::make_shared<const jose::KeySet>(std::move(*set));
          jwks_etag = std::string(r->Header("etag").value_or(""));
          jwks_loaded = changed = true;
          jwks_fetched = 1;
        } else {
          stats.fetch_errors++;
          jwks_due = now + o.retry_after_error;
          Log("verify.jwks_failed", set.error().detail);
        }
      } else {
        stats.fetch_errors++;
        jwks_due = now + o.retry_after_error;
        Log("verify.jwks_failed",
            r ? "status " + std::to_string(r->status) : "fetch " + o.jwks_url + ": " + r.error());
      }
    }
    if (has_pem && !kid.empty() && pem_fetched.size() < kMaxPemKeys &&
        !(jwks_keys && jwks_keys->Find(kid)) && !static_keys.Find(kid)) {
      // light-oauth2 §10.1: GET /oauth2/key/{kid} answers the X.509 certificate as PEM text.
      internal::HttpRequest req;
      req.url = TrimSlash(o.key_url) + "/" + PercentEncode(kid);
      if (!o.client.client_id.empty()) {
        req.headers.emplace_back("Authorization",
                                 internal::BasicAuth(o.client.client_id, o.client.client_secret));
      }
      auto r = internal::Fetch(req, http);
      if (r && r->status == 200) {
        if (auto key = jose::Key::FromPem(r->body)) {
          pem_fetched.insert_or_assign(kid, std::move(*key));
          changed = true;
          pem_fetched_now = 1;
        } else {
          stats.fetch_errors++;
          Log("verify.pem_failed", "kid " + kid + ": not a PEM key");
        }
      } else if (!r || r->status >= 500) {
        stats.fetch_errors++;
        Log("verify.pem_failed", r ? "status " + std::to_string(r->status) : r.error());
      }
    }
    if (changed) PublishKeys();
    stats.jwks_fetches += jwks_fetched;
    stats.pem_fetches += pem_fetched_now;
  }

  // GET with the bearer token and If-None-Match; nullopt after logging a failure.
  std::optional<internal::HttpResponse> AdminGet(const std::string& url, const std::string& etag,
                                                 std::string_view what) {
    auto token = Bearer();
    if (!token) return std::nullopt;
    internal::HttpRequest req;
    req.url = url;
    req.headers = {{"Authorization", "Bearer " + *token}, {"Accept", "application/json"}};
    if (!etag.empty()) req.headers.emplace_back("If-None-Match", etag);
    auto r = internal::Fetch(req, http);
    if (!r) {
      stats.fetch_errors++;
      Log(what, url + ": " + r.error());
      return std::nullopt;
    }
    if (r->status == 401) bearer.clear();  // expired or revoked: get a new one next time
    return std::move(*r);
  }

  void FetchEndpoints() {
    const Steady now = time.Steady();
    endpoints_due = now + o.retry_after_error;
    std::string url =
        TrimSlash(o.registry_url) + "/oauth2/service/" + PercentEncode(o.service_id) + "/endpoint";
    auto r = AdminGet(url, endpoints_etag, "verify.endpoints_failed");
    if (!r) return;
    if (r->status == 304) {
      endpoints_due = now + o.endpoints_refresh;
      return;
    }
    if (r->status == 404) {
      // ERR12042 (no endpoints) or ERR12015 (no such service): nothing is allowed.
      endpoints.store(
          std::make_shared<const EndpointTable>(EndpointTable::FromEntries({}, o.path_case)));
      endpoints_due = now + o.endpoints_refresh;
      Log("verify.endpoints_empty", "service " + o.service_id + " has no endpoints");
      return;
    }
    if (r->status != 200) {
      stats.fetch_errors++;
      Log("verify.endpoints_failed", "status " + std::to_string(r->status));
      return;
    }
    auto table = EndpointTable::FromJson(r->body, o.path_case);
    if (!table) {
      stats.fetch_errors++;
      Log("verify.endpoints_failed", table.error());
      return;
    }
    endpoints.store(std::make_shared<const EndpointTable>(std::move(*table)));
    endpoints_etag = std::string(r->Header("etag").value_or(""));
    endpoints_due = now + o.endpoints_refresh;
    stats.endpoint_fetches++;
  }

  void FetchRevoked() {
    const Steady now = time.Steady();
    revoked_due = now + o.retry_after_error;
    auto r = AdminGet(o.revoked_url, revoked_etag, "verify.revoked_failed");
    if (!r) return;
    if (r->status == 304) {
      revoked_due = now + o.revoked_refresh;
      return;
    }
    if (r->status != 200) {
      stats.fetch_errors++;
      Log("verify.revoked_failed", "status " + std::to_string(r->status));
      return;
    }
    // {"revoked":[{"jti":"..","exp":n},...]} (Portcullis GET /oauth2/revoked).
    boost::system::error_code ec;
    json::value v = json::parse(r->body, ec);
    const json::object* obj = ec ? nullptr : v.if_object();
    const json::value* list = obj ? obj->if_contains("revoked") : nullptr;
    if (list == nullptr || !list->is_array()) {
      stats.fetch_errors++;
      Log("verify.revoked_failed", "no revoked array");
      return;
    }
    auto set = std::make_shared<RevokedSet>();
    for (const auto& item : list->get_array()) {
      if (item.is_string()) {
        set->emplace(Str(item.get_string()));
      } else if (const auto* e = item.if_object()) {
        if (const auto* jti = e->if_contains("jti"); jti && jti->is_string()) {
          set->emplace(Str(jti->get_string()));
        }
      }
    }
    revoked.store(std::move(set));
    revoked_etag = std::string(r->Header("etag").value_or(""));
    revoked_due = now + o.revoked_refresh;
    stats.revoked_fetches++;
  }

  void Run() {
    std::unique_lock lock(mu);
    while (!stop) {
      const Steady now = time.Steady();
      bool do_keys = refetch_requested || (has_jwks && now >= jwks_due);
      bool do_endpoints = has_registry && now >= endpoints_due;
      bool do_revoked = has_revoked && now >= revoked_due;
      if (!do_keys && !do_endpoints && !do_revoked) {
        Steady next = now + std::chrono::seconds(60);
        if (has_jwks) next = std::min(next, jwks_due);
        if (has_registry) next = std::min(next, endpoints_due);
        if (has_revoked) next = std::min(next, revoked_due);
        auto wait =
            std::max<std::chrono::steady_clock::duration>(next - now, std::chrono::milliseconds(1));
        wake_cv.wait_for(lock, wait, [&] { return stop || woken || refetch_requested; });
        woken = false;
        continue;
      }
      std::string kid;
      if (do_keys) {
        if (refetch_requested) stats.refetches++;
        keys_in_flight = true;
        kid = std::exchange(refetch_kid, {});
        in_flight_kid = kid;
        refetch_requested = false;
        last_keys_fetch = now;
      }
      lock.unlock();
      if (do_keys) {
        FetchKeys(kid);
        auto state = keys.load();
        lock.lock();
        keys_in_flight = false;
        in_flight_kid.clear();
        ++keys_generation;
        if (!kid.empty() && !state->verifier->keys().Find(kid)) {
          if (negative.size() >= kMaxNegative) {
            std::erase_if(negative, [&](const auto& e) { return e.second <= now; });
            if (negative.size() >= kMaxNegative) negative.clear();
          }
          negative[kid] = now + o.negative_ttl;
        }
        done_cv.notify_all();
        lock.unlock();
      }
      if (do_endpoints) FetchEndpoints();
      if (do_revoked) FetchRevoked();
      lock.lock();
      done_cv.notify_all();  // readiness
    }
  }
};

Verifier::Verifier(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Verifier::~Verifier() {
  {
    std::lock_guard lock(impl_->mu);
    impl_->stop = true;
  }
  impl_->wake_cv.notify_all();
  impl_->done_cv.notify_all();
  if (impl_->thread.joinable()) impl_->thread.join();
}

std::expected<std::unique_ptr<Verifier>, std::string> Verifier::Create(Options options) {
  using std::unexpected;
  const TimeSource& time = options.time ? *options.time : TimeSource::System();
  auto impl = std::make_unique<Impl>(std::move(options), time);
  Options& o = impl->o;

  impl->verify_options.algorithms.clear();
  for (const auto& name : o.algorithms) {
    auto alg = jose::ParseAlg(name);
    if (!alg) return unexpected("algorithms: unsupported algorithm '" + name + "'");
    impl->verify_options.algorithms.push_back(*alg);
  }
  if (impl->verify_options.algorithms.empty()) return unexpected("algorithms: none allowed");
  impl->dpop.algorithms.clear();
  for (const auto& name : o.dpop_algorithms) {
    auto alg = jose::ParseAlg(name);
    if (!alg) return unexpected("dpop_algorithms: unsupported algorithm '" + name + "'");
    impl->dpop.algorithms.push_back(*alg);
  }
  if (impl->dpop.algorithms.empty()) return unexpected("dpop_algorithms: none allowed");
  if (o.dpop_window.count() <= 0) return unexpected("dpop_window: must be positive");
  if (o.dpop_replay_capacity == 0) return unexpected("dpop_replay_capacity: must be positive");
  impl->dpop.window_seconds = o.dpop_window.count();
  if (o.leeway_seconds < 0) return unexpected("leeway_seconds: negative");
  impl->verify_options.leeway_seconds = o.leeway_seconds;
  impl->verify_options.issuer = o.issuer;
  impl->verify_options.audience = o.audience;
  impl->shared_audiences = o.shared_audiences;
  if (!o.issuer.empty()) impl->shared_audiences.push_back(o.issuer);
  if (!o.audience.empty()) impl->shared_audiences.push_back(o.audience);

  const std::pair<const char*, const std::string*> urls[] = {
      {"jwks_url", &o.jwks_url},
      {"key_url", &o.key_url},
      {"registry_url", &o.registry_url},
      {"revoked_url", &o.revoked_url},
      {"client.token_url", &o.client.token_url}};
  for (const auto& [name, url] : urls) {
    if (!url->empty() && !internal::ParseUrl(*url)) {
      return unexpected(std::string(name) + ": not an http:// or https:// URL: " + *url);
    }
  }
  impl->has_jwks = !o.jwks_url.empty();
  impl->has_pem = !o.key_url.empty();
  impl->has_registry = !o.registry_url.empty();
  impl->has_revoked = !o.revoked_url.empty();

  if (!o.jwks_json.empty()) {
    auto set = jose::ParseJwks(o.jwks_json);
    if (!set) return unexpected("jwks_json: " + set.error().detail);
    impl->static_keys = std::move(*set);
  }
  for (const auto& [kid, pem] : o.pem_keys) {
    auto key = jose::Key::FromPem(pem);
    if (!key) return unexpected("pem_keys[" + kid + "]: " + key.error().detail);
    if (!impl->static_keys.Add(kid, std::move(*key))) {
      return unexpected("pem_keys[" + kid + "]: duplicate kid");
    }
  }
  if (!impl->has_jwks && !impl->has_pem && impl->static_keys.empty()) {
    return unexpected("no key source: set jwks_url, key_url, jwks_json or pem_keys");
  }

  if (impl->has_registry && o.service_id.empty()) {
    return unexpected("registry_url needs service_id");
  }
  if (!o.endpoints_json.empty()) {
    if (impl->has_registry) return unexpected("give registry_url or endpoints_json, not both");
    auto table = EndpointTable::FromJson(o.endpoints_json, o.path_case);
    if (!table) return unexpected("endpoints_json: " + table.error());
    impl->endpoints.store(std::make_shared<const EndpointTable>(std::move(*table)));
  } else if (o.verify_scope && !impl->has_registry) {
    return unexpected(
        "verify_scope needs registry_url and service_id, or endpoints_json (or set verify_scope "
        "false to authenticate only)");
  }
  if ((impl->has_registry || impl->has_revoked) && !o.bearer_token && o.client.token_url.empty()) {
    return unexpected("registry_url and revoked_url need client.token_url or bearer_token");
  }
  if (o.refetch_interval.count() < 0 || o.negative_ttl.count() < 0 ||
      o.unknown_kid_wait.count() < 0 || o.http_timeout.count() <= 0) {
    return unexpected("negative interval or non-positive http_timeout");
  }
  impl->http.timeout = o.http_timeout;
  impl->http.max_body_bytes = o.max_response_bytes;
  impl->http.ca_file = o.ca_file;

  const Steady now = time.Steady();
  impl->jwks_due = impl->endpoints_due = impl->revoked_due = now;
  impl->keys_in_flight = impl->has_jwks;  // the first load: early requests wait for it
  impl->PublishKeys();
  Impl* raw = impl.get();
  impl->thread = std::thread([raw] { raw->Run(); });
  return std::unique_ptr<Verifier>(new Verifier(std::move(impl)));
}

EventResult Verifier::VerifyEvent(std::string_view token, const EventCheck& check) const {
  const Impl& impl = *impl_;
  EventResult out;
  auto refuse = [&out](std::string reason) {
    out.ok = false;
    out.reason = std::move(reason);
    return out;
  };
  if (check.signers.empty()) return refuse("no_signers");
  if (impl.o.issuer.empty()) return refuse("no_issuer");
  auto state = impl.keys.load(std::memory_order_acquire);
  auto v = state->events->Verify(token);
  if (!v && v.error().reason == jose::VerifyReason::kUnknownKid) {
    auto kid = KidOf(token);
    if (kid && kid->size() <= kMaxKidLength && impl.Refetch(*kid)) {
      state = impl.keys.load(std::memory_order_acquire);
      v = state->events->Verify(token);
    }
  }
  if (!v) return refuse(std::string(jose::ReasonName(v.error().reason)));
  const json::object& claims = v->payload;
  out.signer = FirstString(claims, {"client_id"});
  out.jti = FirstString(claims, {"jti"});
  if (std::find(check.signers.begin(), check.signers.end(), out.signer) == check.signers.end()) {
    return refuse("unknown_signer");
  }
  if (!check.audience.empty()) {
    const json::value* aud = claims.if_contains("event_aud");
    bool named = aud && aud->is_string() && aud->get_string() == check.audience;
    if (aud && aud->is_array()) {
      for (const auto& a : aud->get_array()) {
        if (a.is_string() && a.get_string() == check.audience) named = true;
      }
    }
    if (!named) return refuse("wrong_event_audience");
  }
  const json::value* iat = claims.if_contains("iat");
  if (!iat || !iat->is_int64() || out.jti.empty()) return refuse("missing_claims");
  out.issued_at = iat->get_int64();
  const int64_t now = impl.time.WallSeconds();
  const int64_t leeway = impl.o.leeway_seconds;
  if (out.issued_at > now + leeway) return refuse("issued_in_future");
  if (now - out.issued_at > check.max_age.count()) return refuse("stale");
  switch (impl.event_replay.Insert(out.jti, out.issued_at + check.max_age.count() + leeway, now)) {
    case ReplayCache::Outcome::kReplay:
      return refuse("replayed");
    case ReplayCache::Outcome::kFull:
      return refuse("replay_cache_full");
    case ReplayCache::Outcome::kFresh:
      break;
  }
  out.claims_json = json::serialize(claims);
  out.ok = true;
  out.reason = "ok";
  return out;
}

Decision Verifier::Verify(std::string_view token) const {
  if (auto b = BearerOf(token)) {
    token = *b;
  } else {
    while (!token.empty() && (token.back() == ' ' || token.back() == '\t')) token.remove_suffix(1);
    while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
    if (token.size() == 6 && strncasecmp(token.data(), "bearer", 6) == 0) token = {};
  }
  if (token.empty()) {
    return Deny(Verdict::kUnauthorized, "ERR10002", "missing_token", "No bearer token.");
  }
  Presented presented;
  if (auto t = ParseAuthorization(token); t && t->dpop) {
    presented.dpop_scheme = true;  // refused: no proof can come this way
    token = t->token;
  }
  auto c = impl_->Check(token, false, presented);
  if (c.denied) return std::move(*c.denied);
  Decision d;
  d.verdict = Verdict::kAllowed;
  d.reason = "ok";
  d.identity = std::move(c.identity);
  return d;
}

Decision Verifier::Authorize(const Request& request) const {
  const Impl& impl = *impl_;
  Presented presented;
  std::optional<std::string_view> primary;
  if (auto t = ParseAuthorization(request.authorization)) {
    primary = t->token;
    presented.dpop_scheme = t->dpop;
    presented.method = request.method;
    presented.htu = request.htu;
    if (!request.dpop_proof.empty()) presented.proof = request.dpop_proof;
    if (!request.client_certificate.empty()) presented.certificate = request.client_certificate;
  }
  std::string_view scope_token = request.scope_token;
  if (auto b = BearerOf(scope_token)) scope_token = *b;
  while (!scope_token.empty() && scope_token.front() == ' ') scope_token.remove_prefix(1);
  if (!primary) {
    // light-4j getScopeToken: without a Bearer Authorization (e.g. Basic for a native API
    // behind the gateway) the X-Scope-Token is the token.
    if (scope_token.empty()) {
      return Deny(Verdict::kUnauthorized, "ERR10002", "missing_token", "No bearer token.");
    }
    primary = scope_token;
    scope_token = {};
    // The X-Scope-Token alone: a certificate-bound one may still be checked.
    if (!request.client_certificate.empty()) presented.certificate = request.client_certificate;
  }
  auto p = impl.Check(*primary, false, presented);
  if (p.denied) return std::move(*p.denied);
  Decision d;
  d.identity = std::move(p.identity);
  if (!scope_token.empty()) {
    Presented scope_presented;  // Bearer, no proof: a DPoP-bound X-Scope-Token is refused
    if (!request.client_certificate.empty()) {
      scope_presented.certificate = request.client_certificate;
    }
    auto s = impl.Check(scope_token, true, scope_presented);
    if (s.denied) {
      s.denied->identity = std::move(d.identity);
      return std::move(*s.denied);
    }
    d.scope_caller = std::move(s.identity);
  }
  if (impl.o.verify_scope) {
    auto table = impl.endpoints.load(std::memory_order_acquire);
    if (!table) {
      Decision u = Deny(Verdict::kUnavailable, "ERR10010", "endpoints_unavailable",
                        "The endpoint table could not be loaded.");
      u.identity = std::move(d.identity);
      u.scope_caller = std::move(d.scope_caller);
      return u;
    }
    MatchResult match = table->Lookup(request.method, request.path);
    const EndpointRule* rule = match.rule;
    const auto& granted = d.scope_caller ? d.scope_caller->scopes : d.identity.scopes;
    if (rule == nullptr) {
      d.verdict = Verdict::kForbidden;
      d.code = "ERR10007";
      switch (match.status) {
        case MatchStatus::kRefusedPath:
          d.reason = "refused_path";
          d.description = "The request path is refused: " + match.why + ".";
          break;
        case MatchStatus::kCaseVariant:
          d.reason = "case_variant";
          d.description = "The request path is refused: " + match.why + ".";
          break;
        default:
          d.reason = "unknown_endpoint";
          d.description = "No endpoint of this service matches the request.";
      }
      return d;
    }
    if (!AnyScope(rule->scopes, granted)) {
      d.verdict = Verdict::kForbidden;
      d.code = "ERR10005";
      d.reason = "insufficient_scope";
      d.description = std::string(d.scope_caller ? "The scope token" : "The token") +
                      " lacks scope " + rule->scope + ".";
      d.required_scope = rule->scope;
      return d;
    }
  }
  d.verdict = Verdict::kAllowed;
  d.reason = "ok";
  return d;
}

bool Verifier::WaitReady(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->mu);
  return impl_->done_cv.wait_for(lock, timeout, [&] { return impl_->stop || impl_->Ready(); }) &&
         impl_->Ready();
}

void Verifier::Wake() {
  {
    std::lock_guard lock(impl_->mu);
    impl_->woken = true;
  }
  impl_->wake_cv.notify_all();
}

Stats Verifier::stats() const {
  const auto& s = impl_->stats;
  Stats out;
  out.jwks_fetches = s.jwks_fetches;
  out.jwks_not_modified = s.jwks_not_modified;
  out.pem_fetches = s.pem_fetches;
  out.refetches = s.refetches;
  out.refetch_limited = s.refetch_limited;
  out.negative_hits = s.negative_hits;
  out.endpoint_fetches = s.endpoint_fetches;
  out.revoked_fetches = s.revoked_fetches;
  out.token_fetches = s.token_fetches;
  out.fetch_errors = s.fetch_errors;
  return out;
}

}  // namespace portcullis::verify
