#include "oauth/token/device_authorization.h"

#include <algorithm>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "common/log.h"
#include "oauth/client/client.h"
#include "oauth/credentials/token_hash.h"
#include "oauth/token/token_errors.h"
#include "oauth/token/token_service.h"

namespace portcullis::oauth {

std::string DeviceAuthorizationResponse::ToJson() const {
  boost::json::object o;
  o["device_code"] = device_code;
  o["user_code"] = user_code;
  o["verification_uri"] = verification_uri;
  o["verification_uri_complete"] = verification_uri_complete;
  o["expires_in"] = expires_in;
  o["interval"] = interval;
  return boost::json::serialize(o);
}

Result<DeviceAuthorizationResponse> DeviceAuthorizationService::Authorize(
    const Params& p, std::optional<std::string_view> authorization,
    std::shared_ptr<const ClientCertificate> cert) {
  auto client = tokens_.AuthenticateFormClient(p, authorization, std::move(cert));
  if (!client) return Fail(std::move(client.error()));
  const Client& c = **client;
  // Only a client that lists the grant explicitly: rows without a grant list (light-oauth2
  // imports) keep the grants they had, and this one is new.
  if (std::find(c.grant_types.begin(), c.grant_types.end(), kDeviceCodeGrant) ==
      c.grant_types.end()) {
    return Fail(Coded("ERR12024", 400, "unauthorized_client",
                      "The client may not use the device authorization grant."));
  }
  // RFC 8628 §3.1: scope as in RFC 6749 §3.3; set membership against the client's scopes.
  std::vector<std::string> scope = c.scope;
  std::string_view requested = p.Value("scope");
  if (requested.find_first_not_of(' ') != std::string_view::npos) {
    scope = SplitScope(requested);
    for (const auto& s : scope) {
      if (!c.HasScope(s)) {
        return Fail(Coded("ERR12027", 400, "invalid_scope",
                          "scope " + s.substr(0, 128) + " is not allowed for this client."));
      }
    }
  }
  const int64_t now = clock_.Now();
  DeviceGrant g;
  g.client_id = c.client_id;
  g.scope = JoinScope(scope);
  g.created_at = now;
  g.expires_at = now + settings_.code_ttl;
  g.interval = settings_.interval;
  DeviceAuthorizationResponse out;
  // A collision of user codes is rare (2.56e10 codes): draw again a few times.
  for (int attempt = 0; attempt < 5; ++attempt) {
    std::string device_code = random_.Token(32);
    std::string user_code = NewUserCode(random_);
    g.device_code_hash = TokenHash(device_code);
    g.user_code_hash = hasher_.Hash(user_code);
    auto inserted = store_.Insert(g);
    if (!inserted) return Fail(inserted.error());
    if (!*inserted) continue;
    out.device_code = std::move(device_code);
    out.user_code = FormatUserCode(user_code);
    out.verification_uri = settings_.verification_uri;
    // The code is letters and a dash: nothing to escape.
    out.verification_uri_complete =
        settings_.verification_uri +
        (settings_.verification_uri.find('?') == std::string::npos ? "?user_code="
                                                                   : "&user_code=") +
        out.user_code;
    out.expires_in = settings_.code_ttl;
    out.interval = settings_.interval;
    log::Info("device.authorization", {{"client_id", c.client_id}});
    return out;
  }
  return Fail(Error::Internal("no free user code after 5 attempts"));
}

}  // namespace portcullis::oauth
