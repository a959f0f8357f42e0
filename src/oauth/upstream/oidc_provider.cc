#include "oauth/upstream/oidc_provider.h"

#include <boost/json/parse.hpp>

#include <algorithm>
#include <chrono>

#include "common/encoding.h"
#include "common/log.h"
#include "jose/verifier.h"
#include "verify/http_client.h"

namespace portcullis::oauth::upstream {
namespace json = boost::json;
namespace {

constexpr int64_t kDiscoveryTtl = 3600;

Error Unreachable(std::string detail) {
  return Error::OAuth(502, "temporarily_unavailable",
                      "The identity provider could not be reached. Try again later.",
                      std::move(detail));
}

std::string Str(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

}  // namespace

Error UpstreamRefused(std::string_view what, std::string detail) {
  return Error::OAuth(
      400, "access_denied",
      "The sign-in with the identity provider was refused: " + std::string(what) + ".",
      std::move(detail));
}

OidcProvider::OidcProvider(UpstreamSettings settings, const Clock& clock)
    : settings_(std::move(settings)),
      clock_(clock),
      jwks_(HttpJwksFetcher({static_cast<int>(settings_.timeout_ms), 256 * 1024,
                             settings_.allow_http_loopback, settings_.ca_file},
                            clock),
            clock, ClientJwksCache::Options{}) {}

Result<Discovery> OidcProvider::Discover() {
  const int64_t now = clock_.Now();
  {
    std::lock_guard lock(mu_);
    if (discovery_ && now - discovered_at_ < kDiscoveryTtl) return *discovery_;
    if (failure_ && now < retry_at_) return Fail(*failure_);
  }
  auto d = FetchDiscovery();
  std::lock_guard lock(mu_);
  if (!d) {
    failures_ = std::min(failures_ + 1, 6);
    failure_ = d.error();
    retry_at_ = now + std::min<int64_t>(60, int64_t{1} << failures_);
    return d;
  }
  failures_ = 0;
  failure_.reset();
  discovery_ = *d;
  discovered_at_ = now;
  return d;
}

Result<Discovery> OidcProvider::FetchDiscovery() const {
  std::string issuer = settings_.issuer;
  while (issuer.ends_with('/')) issuer.pop_back();
  verify::internal::HttpRequest req;
  req.url = issuer + "/.well-known/openid-configuration";
  req.headers.emplace_back("Accept", "application/json");
  verify::internal::HttpOptions http;
  http.timeout = std::chrono::milliseconds(settings_.timeout_ms);
  http.max_body_bytes = 256 * 1024;
  http.ca_file = settings_.ca_file;
  auto r = verify::internal::Fetch(req, http);
  if (!r) return Fail(Unreachable("discovery " + req.url + ": " + r.error()));
  if (r->status != 200) {
    return Fail(Unreachable("discovery " + req.url + ": status " + std::to_string(r->status)));
  }
  boost::system::error_code ec;
  json::value doc = json::parse(r->body, ec);
  if (ec || !doc.is_object()) return Fail(Unreachable("discovery: not a JSON object"));
  const auto& o = doc.as_object();
  Discovery d{Str(o, "issuer"), Str(o, "authorization_endpoint"), Str(o, "token_endpoint"),
              Str(o, "jwks_uri")};
  if (const auto* iss = o.if_contains("authorization_response_iss_parameter_supported")) {
    d.iss_parameter_supported = iss->is_bool() && iss->as_bool();
  }
  // OIDC Discovery §4.3: the issuer in the document is exactly the one we asked.
  if (d.issuer != settings_.issuer) {
    return Fail(Unreachable("discovery: issuer '" + d.issuer + "' is not the configured '" +
                            settings_.issuer + "'"));
  }
  for (const auto* url : {&d.authorization_endpoint, &d.token_endpoint, &d.jwks_uri}) {
    if (url->empty() || !UrlAllowed(*url, settings_.allow_http_loopback)) {
      return Fail(Unreachable("discovery: an endpoint is missing or not https: '" + *url + "'"));
    }
  }
  return d;
}

Status OidcProvider::Check() {
  auto d = Discover();
  if (!d) return Fail(std::move(d.error()));
  auto keys = jwks_.Keys(settings_.name, d->jwks_uri);
  if (!keys) return Fail(Unreachable("jwks: " + keys.error().detail));
  if ((*keys)->empty()) return Fail(Unreachable("jwks: no usable key"));
  return {};
}

Result<std::string> OidcProvider::AuthorizationUrl(std::string_view redirect_uri,
                                                   std::string_view state, std::string_view nonce,
                                                   std::string_view code_challenge,
                                                   bool prompt_login,
                                                   std::optional<int64_t> max_age) {
  auto d = Discover();
  if (!d) return Fail(std::move(d.error()));
  std::string scope;
  for (const auto& s : settings_.scopes) scope += (scope.empty() ? "" : " ") + s;
  std::string url = d->authorization_endpoint;
  url += url.find('?') == std::string::npos ? '?' : '&';
  url += "response_type=code&client_id=" + PercentEncode(settings_.client_id) +
         "&redirect_uri=" + PercentEncode(redirect_uri) + "&scope=" + PercentEncode(scope) +
         "&state=" + PercentEncode(state) + "&nonce=" + PercentEncode(nonce) +
         "&code_challenge=" + PercentEncode(code_challenge) + "&code_challenge_method=S256";
  if (prompt_login) url += "&prompt=login";
  // The client's max_age goes on (OIDC Core §3.1.2.1); the callback checks the answer's auth_time.
  if (max_age) url += "&max_age=" + std::to_string(*max_age);
  return url;
}

Result<UpstreamIdentity> OidcProvider::Redeem(std::string_view code, std::string_view code_verifier,
                                              std::string_view redirect_uri,
                                              std::string_view nonce) {
  auto d = Discover();
  if (!d) return Fail(std::move(d.error()));
  verify::internal::HttpRequest req;
  req.method = "POST";
  req.url = d->token_endpoint;
  // client_secret_basic: id and secret form-urlencoded first (RFC 6749 §2.3.1).
  req.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                 {"Accept", "application/json"},
                 {"Authorization", verify::internal::BasicAuth(settings_.client_id,
                                                               settings_.client_secret.Reveal())}};
  req.body = "grant_type=authorization_code&code=" + PercentEncode(code) +
             "&redirect_uri=" + PercentEncode(redirect_uri) +
             "&code_verifier=" + PercentEncode(code_verifier);
  verify::internal::HttpOptions http;
  http.timeout = std::chrono::milliseconds(settings_.timeout_ms);
  http.max_body_bytes = 256 * 1024;
  http.ca_file = settings_.ca_file;
  auto r = verify::internal::Fetch(req, http);
  if (!r) return Fail(Unreachable("token endpoint: " + r.error()));
  boost::system::error_code ec;
  json::value doc = json::parse(r->body, ec);
  if (r->status != 200) {
    std::string err = !ec && doc.is_object() ? Str(doc.as_object(), "error") : std::string();
    return Fail(UpstreamRefused("the code was not accepted",
                                "token endpoint status " + std::to_string(r->status) + " " + err));
  }
  if (ec || !doc.is_object()) return Fail(UpstreamRefused("no usable token response"));
  std::string id_token = Str(doc.as_object(), "id_token");
  if (id_token.empty())
    return Fail(UpstreamRefused("no ID token", "token response without id_token"));
  return CheckIdToken(id_token, nonce);
}

Result<UpstreamIdentity> OidcProvider::CheckIdToken(std::string_view id_token,
                                                    std::string_view nonce) {
  auto d = Discover();
  if (!d) return Fail(std::move(d.error()));
  auto keys = jwks_.Keys(settings_.name, d->jwks_uri);
  if (!keys) return Fail(Unreachable("jwks: " + keys.error().detail));
  jose::VerifyOptions options;
  options.algorithms.clear();
  for (const auto& a : settings_.algorithms) {
    if (auto alg = jose::ParseAlg(a)) options.algorithms.push_back(*alg);
  }
  options.leeway_seconds = settings_.clock_skew_s;
  options.issuer = settings_.issuer;
  options.audience = settings_.client_id;
  options.require_exp = true;
  auto verified = jose::Verifier(*keys, options, clock_).Verify(id_token);
  if (!verified && (verified.error().reason == jose::VerifyReason::kUnknownKid ||
                    verified.error().reason == jose::VerifyReason::kBadSignature)) {
    // Keys may have rotated: one refetch (rate-limited by the cache).
    auto again = jwks_.RefetchForUnknownKid(settings_.name, d->jwks_uri, *keys);
    if (again && *again) verified = jose::Verifier(**again, options, clock_).Verify(id_token);
  }
  if (!verified) {
    const auto reason = verified.error().reason;
    std::string what =
        reason == jose::VerifyReason::kWrongIssuer     ? "the ID token is from another issuer"
        : reason == jose::VerifyReason::kWrongAudience ? "the ID token is for another client"
        : reason == jose::VerifyReason::kExpired       ? "the ID token has expired"
        : reason == jose::VerifyReason::kIssuedInFuture ||
                reason == jose::VerifyReason::kNotYetValid
            ? "the ID token is not valid yet"
            : "the ID token's signature could not be verified";
    return Fail(UpstreamRefused(what, std::string("id_token ") +
                                          std::string(jose::ReasonName(reason)) + ": " +
                                          verified.error().detail));
  }
  const auto& p = verified->payload;
  const auto* iat = p.if_contains("iat");
  if (iat == nullptr || !iat->is_number()) {
    return Fail(UpstreamRefused("the ID token has no issue time", "id_token without iat"));
  }
  // Several audiences: azp must name us; azp present: it must be us (OIDC Core §3.1.3.7 4-5).
  const auto* aud = p.if_contains("aud");
  const bool several = aud != nullptr && aud->is_array() && aud->as_array().size() > 1;
  const auto* azp = p.if_contains("azp");
  if ((several && azp == nullptr) ||
      (azp != nullptr && (!azp->is_string() || azp->as_string() != settings_.client_id))) {
    return Fail(UpstreamRefused("the ID token is for another client", "id_token azp"));
  }
  std::string got_nonce = Str(p, "nonce");
  if (nonce.empty() || got_nonce != nonce) {
    return Fail(UpstreamRefused("the ID token does not belong to this sign-in", "id_token nonce"));
  }
  std::string sub = Str(p, "sub");
  if (sub.empty() || sub.size() > 255) {
    return Fail(UpstreamRefused("the ID token names no subject", "id_token sub"));
  }
  return UpstreamIdentity{std::move(sub), p};
}

}  // namespace portcullis::oauth::upstream
