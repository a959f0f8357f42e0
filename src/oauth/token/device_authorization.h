#pragma once
// POST /oauth2/device_authorization (RFC 8628 §3.1, §3.2), independent of HTTP: authenticates
// the client as the token endpoint does (TokenService::AuthenticateFormClient: public clients
// send client_id, confidential ones authenticate, by secret, private_key_jwt or certificate),
// requires the device grant in its grantTypes, checks the scope, and stores a pending grant
// (device_store.h) under the hashes of a fresh device code (256 random bits) and user code
// (user_code.h).
//
// Ownership: borrows everything given to its constructor; each must outlive it.
// Thread-safety: Authorize may be called concurrently; it blocks (store, perhaps a slow legacy
// secret check): call it on a pool.

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/error.h"
#include "common/random.h"
#include "oauth/device/device_store.h"
#include "oauth/device/user_code.h"
#include "oauth/token/mtls.h"
#include "oauth/token/params.h"

namespace portcullis::oauth {

class TokenService;

inline constexpr std::string_view kDeviceCodeGrant = "urn:ietf:params:oauth:grant-type:device_code";

struct DeviceSettings {
  int64_t code_ttl = 600;        // expires_in of device and user codes
  int64_t interval = 5;          // the minimum polling interval handed out
  std::string verification_uri;  // the code service's GET /oauth2/device
};

// RFC 8628 §3.2's answer.
struct DeviceAuthorizationResponse {
  std::string device_code;
  std::string user_code;  // XXXX-XXXX
  std::string verification_uri;
  std::string verification_uri_complete;
  int64_t expires_in = 0;
  int64_t interval = 0;
  std::string ToJson() const;
};

class DeviceAuthorizationService {
 public:
  DeviceAuthorizationService(DeviceSettings settings, TokenService& tokens, DeviceGrantStore& store,
                             const UserCodeHasher& hasher, const Clock& clock, Random& random)
      : settings_(std::move(settings)),
        tokens_(tokens),
        store_(store),
        hasher_(hasher),
        clock_(clock),
        random_(random) {}

  // Errors as RFC 6749 §5.2: invalid_client (401) when client authentication fails,
  // unauthorized_client when the client lacks the grant, invalid_scope, invalid_request.
  // `cert`: the request's TLS client certificate (RFC 8705 client authentication), or null.
  Result<DeviceAuthorizationResponse> Authorize(
      const Params& params, std::optional<std::string_view> authorization,
      std::shared_ptr<const ClientCertificate> cert = nullptr);

  const DeviceSettings& settings() const { return settings_; }

 private:
  DeviceSettings settings_;
  TokenService& tokens_;
  DeviceGrantStore& store_;
  const UserCodeHasher& hasher_;
  const Clock& clock_;
  Random& random_;
};

}  // namespace portcullis::oauth
