#pragma once
// HTTP bindings of the key service (light-oauth2 reference §10): the JWKS, per-kid PEM
// certificates with light-oauth2's client authentication and federation prefixes, and the key
// admin API (list, rotate, revoke).

#include <cstdint>
#include <string>

namespace portcullis {
namespace http {
class Router;
}
namespace oauth {
class Federation;
class KeyAdmin;
class KeyManager;
class TokenService;
}  // namespace oauth

namespace api {

class AdminAuth;

struct KeyApiOptions {
  std::string provider_id;  // two digits or empty
  int64_t jwks_max_age_s = 300;
};

// `tokens` authenticates clients for /oauth2/key/{kid}; `keys` is read through its lock-free
// ring; admin calls need `auth` with oauth.key.r / oauth.key.w, and rotate and revoke through
// `admin`, which records them in the audit log. Everything borrowed outlives the router.
// Kids of other providers go through `federation`.
void RegisterKeyApi(http::Router& router, oauth::KeyManager& keys, oauth::KeyAdmin& admin,
                    oauth::TokenService& tokens, const AdminAuth& auth,
                    oauth::Federation& federation, const KeyApiOptions& options);

}  // namespace api
}  // namespace portcullis
