#pragma once
// The parameters of an authorization request (RFC 6749 §4.1.1, RFC 7636 §4.3, OpenID Connect
// Core §3.1.2.1 and §5.5/§6, OAuth 2.0 Multiple Response Types §2.1) and light-oauth2's
// `remember` (reference §4.8), read from a query string or a form body. The same fields travel,
// unchanged, through the login and consent forms as hidden inputs; each step validates them
// again from scratch.

#include <optional>
#include <string>
#include <string_view>

#include "common/encoding.h"
#include "common/error.h"

namespace portcullis::oauth {

struct AuthorizationRequest {
  std::optional<std::string> response_type;
  std::optional<std::string> client_id;
  std::optional<std::string> redirect_uri;
  std::optional<std::string> scope;
  std::optional<std::string> state;
  std::optional<std::string> code_challenge;
  std::optional<std::string> code_challenge_method;
  std::optional<std::string> nonce;
  std::optional<std::string> prompt;         // space-separated: none | login | consent
  std::optional<std::string> max_age;        // seconds, non-negative integer
  std::optional<std::string> login_hint;     // prefills the sign-in form; never an identity
  std::optional<std::string> id_token_hint;  // an ID token this server issued earlier
  std::optional<std::string> response_mode;  // query | form_post
  std::optional<std::string> claims;         // OIDC Core §5.5: JSON object
  std::optional<std::string> acr_values;     // accepted and ignored (OIDC Core §3.1.2.1)
  // Refused when present (OIDC Core §6, §7.2.1): request objects and dynamic registration.
  std::optional<std::string> request;
  std::optional<std::string> request_uri;
  std::optional<std::string> registration;
  std::optional<std::string> remember;  // light-oauth2: "Y" | "N"
  std::optional<std::string> dpop_jkt;  // RFC 9449 §10: the DPoP key the code is bound to

  // Reads the fields above and ignores the rest (j_username, csrf, user_type, ...). Fails when a
  // parameter of the request is repeated (RFC 6749 §3.1) or longer than `max_value` bytes
  // (id_token_hint, claims, request: kMaxLongValue): such a request is not echoed anywhere, the
  // error is shown to the user.
  static Result<AuthorizationRequest> FromFields(const FormFields& fields, size_t max_value = 2048);
  // Parses a query string or form body.
  static Result<AuthorizationRequest> Parse(std::string_view urlencoded, size_t max_value = 2048);

  // The present fields, in a fixed order: hidden form inputs and "start again" links.
  FormFields ToFields() const;
  // ToFields() as a query string.
  std::string ToQuery() const;

  // The bound of the parameters that carry JWTs or JSON.
  static constexpr size_t kMaxLongValue = 8192;
};

}  // namespace portcullis::oauth
