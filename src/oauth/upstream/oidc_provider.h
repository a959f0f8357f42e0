#pragma once
// One upstream OpenID Connect provider as a relying party sees it (README "Upstream OpenID
// Connect providers"): discovery from <issuer>/.well-known/openid-configuration, its JWKS, the
// authorization URL of a sign-in (code flow, PKCE S256, nonce, state), the code exchange
// (client_secret_basic) and the checks of the ID token (OIDC Core §3.1.3.7):
//   signature by a key of the provider's JWKS with one of `algorithms` (never none or HS*),
//   iss exactly the configured issuer, aud containing our client_id (and azp equal to it when
//   present or when aud has several members), exp and iat within clock_skew_s, nbf, nonce equal
//   to the flow's, a non-empty string sub.
// All HTTP goes through libportcullis-verify's one client (verify/http_client.h): one deadline
// per call, capped bodies, no redirects followed, https only (loopback http when configured).
//
// Discovery is cached for an hour (a failed fetch is retried at the next use). The JWKS is
// cached by ClientJwksCache (oauth/token/client_jwks.h): its HTTP lifetime, one refetch on an
// unknown kid at most once a minute.
//
// Ownership: borrows `clock`, which must outlive it. Thread-safe; every method but settings()
// blocks on the network: call from the store pool or a CLI, never an I/O thread.

#include <boost/json/object.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/error.h"
#include "oauth/token/client_jwks.h"
#include "oauth/upstream/upstream_settings.h"

namespace portcullis::oauth::upstream {

struct Discovery {
  std::string issuer;
  std::string authorization_endpoint;
  std::string token_endpoint;
  std::string jwks_uri;
  // RFC 9207 §3: the provider sends `iss` with every authorization response, so one without it
  // is refused (§2.4).
  bool iss_parameter_supported = false;
};

// What a checked ID token says.
struct UpstreamIdentity {
  std::string subject;         // sub
  boost::json::object claims;  // the whole payload
};

// A refusal of the upstream's answer: 400 access_denied, whose description names the rule and
// whose detail (for the log, never a token or secret) says more.
Error UpstreamRefused(std::string_view what, std::string detail = {});

class OidcProvider {
 public:
  OidcProvider(UpstreamSettings settings, const Clock& clock);

  const UpstreamSettings& settings() const { return settings_; }

  // The provider's metadata (cached). 502 when it cannot be fetched or does not fit: issuer
  // other than the configured one, endpoints missing or not https.
  Result<Discovery> Discover();

  // Discovery and the JWKS, fetched now (`portcullis auth test`, the admin API's check).
  Status Check();

  // The URL to send the browser to.
  Result<std::string> AuthorizationUrl(std::string_view redirect_uri, std::string_view state,
                                       std::string_view nonce, std::string_view code_challenge,
                                       bool prompt_login,
                                       std::optional<int64_t> max_age = std::nullopt);

  // Exchanges `code` at the token endpoint and checks the ID token it answers with.
  Result<UpstreamIdentity> Redeem(std::string_view code, std::string_view code_verifier,
                                  std::string_view redirect_uri, std::string_view nonce);

  // The checks of the ID token alone (also for tests).
  Result<UpstreamIdentity> CheckIdToken(std::string_view id_token, std::string_view nonce);

 private:
  UpstreamSettings settings_;
  const Clock& clock_;
  // Fetches and checks the discovery document; no lock held (a slow provider blocks no one).
  Result<Discovery> FetchDiscovery() const;

  std::mutex mu_;  // over the members below, never held while fetching
  std::optional<Discovery> discovery_;
  int64_t discovered_at_ = 0;
  // The last failure, answered again until retry_at (back-off doubling from 2 s to 60 s), so
  // that a provider that is down is not fetched by every sign-in start.
  std::optional<Error> failure_;
  int64_t retry_at_ = 0;
  int failures_ = 0;
  ClientJwksCache jwks_;
};

}  // namespace portcullis::oauth::upstream
