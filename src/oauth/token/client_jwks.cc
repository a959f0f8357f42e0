#include "oauth/token/client_jwks.h"

#include <arpa/inet.h>
#include <strings.h>

#include <algorithm>
#include <ctime>
#include <limits>

#include <boost/json/parse.hpp>

#include "common/encoding.h"
#include "common/log.h"
#include "jose/verifier.h"
#include "verify/http_client.h"

namespace portcullis::oauth {
namespace {

constexpr int64_t kNever = std::numeric_limits<int64_t>::min() / 4;

Error FetchError(std::string detail) {
  return Error::Status("ERR12007", "The client's jwksUri could not be used.", std::move(detail));
}

bool IsLoopbackHost(std::string_view host) {
  std::string h(host);
  if (strcasecmp(h.c_str(), "localhost") == 0) return true;
  in_addr v4{};
  if (inet_pton(AF_INET, h.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (inet_pton(AF_INET6, h.c_str(), &v6) == 1) return IN6_IS_ADDR_LOOPBACK(&v6);
  return false;
}

// An IMF-fixdate (RFC 9110 §5.6.7), the only form senders generate; nullopt otherwise.
std::optional<int64_t> ParseHttpDate(std::string_view s) {
  std::string text(s);
  std::tm tm{};
  const char* end = strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (end == nullptr || *end != '\0') return std::nullopt;
  return static_cast<int64_t>(timegm(&tm));
}

}  // namespace

bool JwksUriAllowed(std::string_view url, bool allow_http_loopback) {
  auto u = verify::internal::ParseUrl(url);
  if (!u) return false;
  if (u->tls) return true;
  return allow_http_loopback && IsLoopbackHost(u->host);
}

JwksFetcher HttpJwksFetcher(JwksFetchOptions options, const Clock& clock) {
  return [options = std::move(options), &clock](std::string_view url) -> Result<FetchedJwks> {
    if (!verify::internal::ParseUrl(url)) return Fail(FetchError("not a usable URL"));
    if (!JwksUriAllowed(url, options.allow_http_loopback)) {
      return Fail(FetchError("plain http is allowed only to loopback, when configured"));
    }
    verify::internal::HttpRequest req;
    req.url = std::string(url);
    req.headers.emplace_back("Accept", "application/jwk-set+json, application/json");
    verify::internal::HttpOptions http;
    http.timeout = std::chrono::milliseconds(options.timeout_ms);
    http.max_body_bytes = options.max_bytes;
    http.ca_file = options.ca_file;
    auto r = verify::internal::Fetch(req, http);
    if (!r) return Fail(FetchError(r.error()));
    // Redirects are not followed: the registered URI is the only one we talk to.
    if (r->status != 200) return Fail(FetchError("status " + std::to_string(r->status)));
    FetchedJwks out;
    out.body = std::move(r->body);
    if (auto cc = r->Header("cache-control")) out.ttl_s = verify::internal::MaxAge(*cc);
    if (!out.ttl_s) {
      if (auto expires = r->Header("expires")) {
        // RFC 9111 §5.3: an invalid Expires means already expired. Relative to the server's
        // Date when it sent one, so clock skew between us does not matter.
        auto at = ParseHttpDate(*expires);
        std::optional<int64_t> date;
        if (auto d = r->Header("date")) date = ParseHttpDate(*d);
        out.ttl_s = at ? std::max<int64_t>(0, *at - date.value_or(clock.Now())) : 0;
      }
    }
    return out;
  };
}

ClientJwksCache::ClientJwksCache(JwksFetcher fetcher, const Clock& clock, Options options)
    : fetcher_(std::move(fetcher)), clock_(clock), options_(options) {}

std::shared_ptr<ClientJwksCache::Entry> ClientJwksCache::EntryFor(std::string_view client_id) {
  int64_t now = clock_.Now();
  std::lock_guard lock(mu_);
  auto it = entries_.find(std::string(client_id));
  if (it == entries_.end()) {
    if (entries_.size() >= options_.max_entries && !entries_.empty()) {
      auto oldest = std::min_element(entries_.begin(), entries_.end(), [](auto& a, auto& b) {
        return a.second->last_used < b.second->last_used;
      });
      entries_.erase(oldest);
    }
    auto e = std::make_shared<Entry>();
    e->last_refetch = kNever;
    it = entries_.emplace(std::string(client_id), std::move(e)).first;
  }
  it->second->last_used = now;
  return it->second;
}

bool ClientJwksCache::Usable(const Entry& e, int64_t now) const {
  if (!e.keys) return false;
  if (now < e.expires_at) return true;
  return e.failed && now < e.expires_at + options_.stale_if_error_s;
}

Status ClientJwksCache::FetchInto(Entry& e, std::string_view client_id) {
  {
    std::lock_guard lock(mu_);
    ++fetches_;
  }
  int64_t now = clock_.Now();
  e.last_attempt = now;
  auto fetched = fetcher_(e.uri);
  Result<jose::KeySet> parsed =
      fetched ? jose::ParseJwks(fetched->body) : Result<jose::KeySet>(Fail(fetched.error()));
  if (!parsed) {
    e.failed = true;
    log::Warn("client.jwks_fetch_failed",
              {{"client_id", client_id},
               {"jwks_uri", e.uri},
               {"detail",
                parsed.error().detail.empty() ? parsed.error().description : parsed.error().detail},
               {"cached", e.keys != nullptr}});
    return Fail(FetchError(parsed.error().detail));
  }
  int64_t ttl = std::clamp(fetched->ttl_s.value_or(options_.default_ttl_s), options_.min_ttl_s,
                           options_.max_ttl_s);
  e.keys = std::make_shared<const jose::KeySet>(std::move(*parsed));
  e.expires_at = now + ttl;
  e.failed = false;
  log::Info("client.jwks_fetched", {{"client_id", client_id},
                                    {"jwks_uri", e.uri},
                                    {"keys", static_cast<uint64_t>(e.keys->size())},
                                    {"ttl_s", ttl}});
  return {};
}

Result<ClientJwksCache::KeysPtr> ClientJwksCache::Keys(std::string_view client_id,
                                                       std::string_view uri) {
  auto entry = EntryFor(client_id);
  Entry& e = *entry;
  std::lock_guard lock(e.mu);
  if (e.uri != uri) {
    // A new or changed jwksUri: nothing fetched from another URI counts.
    e.uri = std::string(uri);
    e.keys = nullptr;
    e.expires_at = 0;
    e.last_refetch = kNever;
    e.last_attempt = kNever;
    e.failed = false;
  }
  int64_t now = clock_.Now();
  if (e.keys && now < e.expires_at) return e.keys;
  // Expired or never fetched. After a failure, wait refetch_interval_s before trying again.
  bool backing_off = e.failed && now < e.last_attempt + options_.refetch_interval_s;
  Status fetched = backing_off ? Status(Fail(FetchError("the last fetch failed; retry later")))
                               : FetchInto(e, client_id);
  if (fetched) return e.keys;
  if (Usable(e, now)) {
    log::Warn("client.jwks_stale", {{"client_id", client_id}, {"jwks_uri", e.uri}});
    return e.keys;
  }
  return Fail(fetched.error());
}

Result<std::optional<ClientJwksCache::KeysPtr>> ClientJwksCache::RefetchForUnknownKid(
    std::string_view client_id, std::string_view uri, const KeysPtr& seen) {
  auto entry = EntryFor(client_id);
  Entry& e = *entry;
  std::lock_guard lock(e.mu);
  int64_t now = clock_.Now();
  if (e.uri != uri) return std::optional<KeysPtr>();  // changed meanwhile: the caller starts over
  if (e.keys && e.keys != seen && Usable(e, now)) return std::optional<KeysPtr>(e.keys);
  if (now < e.last_refetch + options_.refetch_interval_s) {
    log::Info("client.jwks_refetch_limited", {{"client_id", client_id}});
    return std::optional<KeysPtr>();
  }
  if (e.failed && now < e.last_attempt + options_.refetch_interval_s) {
    return std::optional<KeysPtr>();
  }
  e.last_refetch = now;
  if (auto st = FetchInto(e, client_id); !st) return Fail(st.error());
  return std::optional<KeysPtr>(e.keys);
}

void ClientJwksCache::Forget(std::string_view client_id) {
  std::lock_guard lock(mu_);
  entries_.erase(std::string(client_id));
}

size_t ClientJwksCache::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

uint64_t ClientJwksCache::fetches() const {
  std::lock_guard lock(mu_);
  return fetches_;
}

}  // namespace portcullis::oauth
