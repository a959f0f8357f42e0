#include "oauth/provider/federation.h"

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <memory>

#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>

#include "common/log.h"
#include "oauth/client/validation.h"
#include "oauth/provider/provider_store.h"
#include "verify/http_client.h"

namespace portcullis::oauth {
namespace {

constexpr size_t kMaxKidLength = 64;
constexpr size_t kMaxCertificateBytes = 64 * 1024;

// `<serverUrl><uri>/<segment>`: the registered base, parsed, with one encoded segment added.
// https only; http to a loopback host with `allow_http_loopback`.
std::optional<std::string> KeyUrl(std::string_view base, std::string_view segment,
                                  bool allow_http_loopback) {
  auto parsed = boost::urls::parse_uri(boost::core::string_view(base.data(), base.size()));
  if (!parsed || parsed->host().empty() || parsed->has_query() || parsed->has_fragment() ||
      parsed->has_userinfo()) {
    return std::nullopt;
  }
  if (!HttpsOrLoopbackHttp(base, allow_http_loopback)) return std::nullopt;
  boost::urls::url url(*parsed);
  auto segments = url.segments();
  if (!segments.empty() && segments.back().empty()) segments.pop_back();
  segments.push_back(boost::core::string_view(segment.data(), segment.size()));
  return std::string(url.buffer());
}

}  // namespace

bool IsValidKid(std::string_view kid) {
  if (kid.empty() || kid.size() > kMaxKidLength) return false;
  for (char c : kid) {
    bool ok = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
    if (!ok) return false;
  }
  return true;
}

bool IsCurrentCertificate(std::string_view pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
  if (!bio) return false;
  std::unique_ptr<X509, decltype(&X509_free)> cert(
      PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr), &X509_free);
  if (!cert) return false;
  // Not before now, not after now (light-oauth2 issue #369: upstream never checked).
  return X509_cmp_current_time(X509_get0_notBefore(cert.get())) < 0 &&
         X509_cmp_current_time(X509_get0_notAfter(cert.get())) > 0;
}

size_t Federation::cache_size() const {
  std::lock_guard lock(mu_);
  return lru_.size();
}

void Federation::Put(const std::string& kid, std::string pem, int64_t expires_at) {
  if (auto it = index_.find(kid); it != index_.end()) {
    it->second->pem = std::move(pem);
    it->second->expires_at = expires_at;
    lru_.splice(lru_.begin(), lru_, it->second);
  } else {
    lru_.push_front(Entry{kid, std::move(pem), expires_at});
    index_[kid] = lru_.begin();
  }
  while (lru_.size() > std::max<size_t>(options_.max_entries, 1)) {
    index_.erase(lru_.back().kid);
    lru_.pop_back();
  }
}

Result<std::string> Federation::Certificate(std::string_view kid) {
  // Before anything else: the kid becomes part of an outbound URL.
  if (!IsValidKid(kid) || kid.size() < 4) return Fail(Error::Status("ERR12030"));
  std::string key(kid);
  std::string prefix = key.substr(0, 2);
  int64_t now = clock_.Now();
  {
    std::lock_guard lock(mu_);
    if (auto it = index_.find(key); it != index_.end() && it->second->expires_at > now) {
      lru_.splice(lru_.begin(), lru_, it->second);
      if (it->second->pem.empty()) return Fail(Error::Status("ERR12017"));
      return it->second->pem;
    }
    int& running = in_flight_[prefix];
    if (running >= options_.max_in_flight) {
      Error e = Error::Unavailable("federation: provider " + prefix + " has " +
                                   std::to_string(running) + " fetches running");
      e.description = "Too many key fetches from provider " + prefix + " are running.";
      return Fail(std::move(e));
    }
    ++running;
    // Claim the slot for the negative-cache period while this fetch runs, so concurrent and
    // repeated requests for the same kid do not fetch again (rate limit).
    Put(key, "", now + options_.negative_cache_seconds);
  }
  struct Release {
    Federation* f;
    const std::string& prefix;
    ~Release() {
      std::lock_guard lock(f->mu_);
      if (--f->in_flight_[prefix] <= 0) f->in_flight_.erase(prefix);
    }
  } release{this, prefix};

  auto provider = providers_.Get(prefix);
  if (!provider) return Fail(provider.error());
  if (!*provider) {
    return Fail(Error::Status("ERR12017", "No provider " + prefix + " is registered."));
  }
  auto url = KeyUrl((*provider)->server_url + (*provider)->uri, "00" + key.substr(2),
                    options_.allow_http_loopback);
  if (!url) {
    log::Warn("federation.bad_provider_url", {{"provider", prefix}});
    return Fail(Error::Status("ERR12017",
                              "Key " + key + " is not available from provider " + prefix + "."));
  }
  verify::internal::HttpRequest req;
  req.url = *url;
  req.headers = {{"Accept", "application/x-pem-file, text/plain, */*"}};
  verify::internal::HttpOptions http;
  http.timeout = std::chrono::milliseconds(options_.timeout_ms);
  http.max_body_bytes = kMaxCertificateBytes;
  http.ca_file = options_.ca_file;
  auto fetched = verify::internal::Fetch(req, http);
  if (!fetched || fetched->status != 200 || !IsCurrentCertificate(fetched->body)) {
    log::Warn("federation.fetch_failed",
              {{"provider", prefix},
               {"url", *url},
               {"status", fetched ? fetched->status : 0},
               {"error", fetched ? std::string("bad or expired certificate") : fetched.error()}});
    return Fail(Error::Status("ERR12017",
                              "Key " + key + " is not available from provider " + prefix + "."));
  }
  std::lock_guard lock(mu_);
  Put(key, fetched->body, now + options_.cache_seconds);
  return std::move(fetched->body);
}

}  // namespace portcullis::oauth
