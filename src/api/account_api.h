#pragma once
// The signed-in user's own second factor (README "Second factor (TOTP)", "Account page"), served
// by the code service beside the connected-applications page, on the SSO session cookie:
//
//   GET  /oauth2/account/security   status (none, pending, active; recovery codes left) and forms
//   POST /oauth2/account/security   action=enrol (password): a new pending enrolment, shown once
//                                   (QR code, key, otpauth link, recovery codes), then
//                                   action=confirm (the first code) activates it;
//                                   action=recovery (password and a current code): new recovery
//                                   codes, replacing the old ones; action=remove (password and a
//                                   current code): removes the enrolment.
//
// Every form carries a CSRF token bound to the session cookie. Passwords go through the
// authenticator's Login (its throttle); codes through SecondFactor (its throttle, single use).
// Pages are html::Render's: strict CSP, no-store. Sessions of another realm (LDAP) get a page
// saying their account cannot enrol here.
//
// Ownership: borrows `deps` (and its second_factor); they must outlive the router.

#include "api/code_api.h"

namespace portcullis::http {
class Router;
}

namespace portcullis::api {

void RegisterAccountSecurityApi(http::Router& router, CodeApiDeps& deps);

}  // namespace portcullis::api
