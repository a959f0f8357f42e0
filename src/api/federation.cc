#include "api/federation.h"

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <memory>

#include "common/log.h"
#include "http/fetch.h"
#include "store/db.h"

namespace portcullis::api {

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

Result<std::string> Federation::Certificate(std::string_view kid) {
  std::string key(kid);
  int64_t now = clock_.Now();
  {
    std::lock_guard lock(mu_);
    auto it = cache_.find(key);
    if (it != cache_.end() && it->second.expires_at > now) {
      if (it->second.pem.empty()) return Fail(Error::Status("ERR12017"));
      return it->second.pem;
    }
    // Claim the slot for the negative-cache period while this fetch runs, so concurrent and
    // repeated requests for the same kid do not fetch again (rate limit).
    cache_[key] = Entry{"", now + options_.negative_cache_seconds};
    if (cache_.size() > 10000) {
      std::erase_if(cache_, [&](const auto& e) { return e.second.expires_at <= now; });
    }
  }
  std::string prefix = key.substr(0, 2);
  auto row = db_.QueryRow("SELECT server_url, uri FROM providers WHERE provider_id = $1",
                          {store::Text(prefix)});
  if (!row) return Fail(row.error());
  if (!*row) return Fail(Error::Status("ERR12017", "No provider " + prefix + " is registered."));
  std::string url = (*row)->Str(0) + (*row)->Str(1) + "/00" + key.substr(2);
  auto fetched = http::Fetch(url, options_.timeout_ms);
  if (!fetched || fetched->status != 200 || !IsCurrentCertificate(fetched->body)) {
    log::Warn(
        "federation.fetch_failed",
        {{"provider", prefix},
         {"url", url},
         {"status", fetched ? fetched->status : 0},
         {"error", fetched ? std::string("bad or expired certificate") : fetched.error().detail}});
    return Fail(Error::Status("ERR12017",
                              "Key " + key + " is not available from provider " + prefix + "."));
  }
  std::lock_guard lock(mu_);
  cache_[key] = Entry{fetched->body, now + options_.cache_seconds};
  return fetched->body;
}

}  // namespace portcullis::api
