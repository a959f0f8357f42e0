#pragma once
// HTTP bindings of the device authorization grant (RFC 8628):
//
//   token service:  POST /oauth2/device_authorization   (§3.1, §3.2; JSON, errors RFC 6749 §5.2)
//   code service:   GET  /oauth2/device[?user_code=..]  the verification page (§3.3, §3.3.1)
//                   POST /oauth2/device                 its forms: step=code | login | decide
//
// The verification page is for people: HTML forms without JavaScript, CSRF tokens on every
// form (bound to the pre-login cookie before sign-in, to the SSO session after), the security
// headers of api/html.h. It signs the user in with the authorization endpoint's login page,
// authenticators and throttling (CodeApiDeps), and a sign-in here is the same SSO session.
// A user code in the link (verification_uri_complete) only fills the field: the user still
// submits it and then sees it again next to the client's name and scopes before approving
// (§5.4, remote phishing). Wrong codes are throttled (DeviceVerification); past the limit the
// page answers 429 with Retry-After.
//
// Store work runs on the store pool, password checks on the hash pool.

#include "api/code_api.h"
#include "oauth/device/device_verification.h"
#include "oauth/token/device_authorization.h"

namespace portcullis {
namespace http {
class Router;
}

namespace api {

// Borrows `devices`: it must outlive the router.
void RegisterDeviceAuthorizationApi(http::Router& router,
                                    oauth::DeviceAuthorizationService& devices);

// Borrows `code` and `verification`: they must outlive the router.
void RegisterDeviceVerificationApi(http::Router& router, CodeApiDeps& code,
                                   oauth::DeviceVerification& verification);

}  // namespace api
}  // namespace portcullis
