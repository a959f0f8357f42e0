#pragma once
// Admin routes of the second factor (README "Second factor (TOTP)"), served by the user
// service beside the user registry, with its scopes (oauth.user.r / oauth.user.w):
//
//   GET    /oauth2/user/{userId}/totp          {"userId","state":"none|pending|active",
//                                               "recoveryCodesLeft"}
//   POST   /oauth2/user/{userId}/totp          a new pending enrolment: 201 {"secret",
//                                               "otpauthUri","qrSvg","recoveryCodes":[...]}
//                                               (shown once; qrSvg: the URI as an SVG QR code)
//   POST   /oauth2/user/{userId}/totp/confirm  {"code":"123456"}: activates it; 204
//   DELETE /oauth2/user/{userId}/totp          removes it and the recovery codes; 204
//
// Errors: 404 ERR12013 for an unknown user (and for DELETE without an enrolment), 409
// already_enrolled, 400 invalid_code, 429 slow_down (wrong confirmation codes are throttled).
//
// Ownership: borrows `auth`, `second_factor` and `users`; they must outlive the router.

#include "api/admin_auth.h"
#include "oauth/totp/second_factor.h"
#include "oauth/user/user_store.h"

namespace portcullis::http {
class Router;
}

namespace portcullis::api {

void RegisterTotpAdminApi(http::Router& router, const AdminAuth& auth,
                          oauth::SecondFactor& second_factor, oauth::UserStore& users);

}  // namespace portcullis::api
