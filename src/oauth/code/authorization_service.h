#pragma once
// The authorization endpoint's logic (RFC 6749 §4.1.1-§4.1.2, RFC 7636, RFC 9207, RFC 9700
// §2.1 and §4.1), independent of HTTP: it validates an authorization request against the client
// catalog, and issues authorization codes into the shared store (table auth_codes), where the
// token endpoint of any instance redeems them (oauth/token/grants/authorization_code.cc).
//
// Validation order and error delivery (RFC 6749 §4.1.2.1): while the client and its redirect
// URI are not established, an error is never sent to the redirect URI: the caller shows it to
// the user. Once they are, errors go back to the client by redirect, with `state` and `iss`.
// Callers of light-oauth2's API (HTTP Basic, see code_api.cc) get every error as a JSON body
// instead, with light-oauth2's codes in light-oauth2's order (reference §5.1, §16.2).
//
// Thread-safety: Validate and the redirect builders are const and touch memory only (safe on
// I/O threads). IssueCode blocks on the store.

#include <cstdint>
#include <expected>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/encoding.h"
#include "common/error.h"
#include "common/random.h"
#include "common/secret.h"
#include "oauth/client/client.h"
#include "oauth/code/authorization_request.h"
#include "oauth/code/code_store.h"
#include "oauth/code/par_store.h"
#include "oauth/code/session_store.h"
#include "oauth/login/authenticator.h"

namespace portcullis::store {
class Database;
}

namespace portcullis::oauth {

class ClientCatalog;

// RFC 9126 §2.2: the request_uri of a pushed authorization request is this prefix and a random
// reference (256 bits, base64url).
inline constexpr std::string_view kPushedRequestUriPrefix = "urn:ietf:params:oauth:request_uri:";
// A pushed request can start a flow at the authorization endpoint until it expires; the sign-in
// and consent forms that follow (which carry only client_id and request_uri) may load and
// consume it this much longer, so a user who types slowly is not sent back to the client.
inline constexpr int64_t kPushedFlowGrace = 300;
// FAPI 2.0 §5.3.2.2: the longest an authorization code of a fapi2 client lives, in seconds.
inline constexpr int64_t kFapi2CodeTtl = 60;

struct AuthorizationSettings {
  std::string issuer;      // sent as `iss` with every response (RFC 9207)
  int64_t code_ttl = 300;  // seconds; clamped to 60..600 (RFC 6749 §4.1.2: at most 10 minutes)
  // RFC 9700 §2.1.1: S256 only, unless an installation needs `plain` for old clients.
  bool allow_plain_pkce = false;
  // light-oauth2 issued a code to any client as soon as HTTP Basic user credentials checked
  // out. Off by default: a client that is not trusted then needs the user's recorded consent.
  bool basic_auth_implicit_consent = false;
};

// How the answer reaches the client: a redirect with a query (RFC 6749 §4.1.2), or an
// auto-submitting form POST to the redirect URI (OAuth 2.0 Form Post Response Mode §2).
enum class ResponseMode { kQuery, kFormPost };

// Verifies an `id_token_hint` (OIDC Core §3.1.2.1): an ID token this server issued to
// `client_id`, expired or not, with a valid signature. Returns its `sub`; an error when the hint
// is malformed, forged or issued to another client. Memory only (the key ring in memory).
using IdTokenHintReader =
    std::function<Result<std::string>(std::string_view hint, std::string_view client_id)>;

// The sign-in behind a code (OIDC Core §2: auth_time, sid, amr, acr).
struct SignInRecord {
  int64_t auth_time = 0;
  std::string sid;  // empty: no session (HTTP Basic sign-ins)
  std::string amr;  // space-separated RFC 8176 values
  std::string acr;
  // Where the user was signed in (AuthCode::user_source); see UserSourceOf in authenticators.h.
  std::string user_source;
  static SignInRecord FromSession(const SsoSession& session);
};

// A request that passed validation: every field is safe to act on.
struct ValidAuthorization {
  std::shared_ptr<const Client> client;
  std::string redirect_uri;         // a registered redirect URI: where the answer goes
  bool redirect_uri_given = false;  // the request named it, so the token request must too
  std::vector<std::string> scope;   // what a code would carry: requested, or the client's scope
  std::string state;
  bool has_state = false;
  std::string nonce;
  std::string code_challenge;
  std::string code_challenge_method;
  bool remember = false;      // remember=Y was requested
  bool prompt_none = false;   // no login or consent page may be shown
  bool prompt_login = false;  // sign in again even with a session
  bool prompt_consent = false;
  ResponseMode response_mode = ResponseMode::kQuery;
  std::optional<int64_t> max_age;  // seconds (OIDC Core §3.1.2.1)
  std::string login_hint;          // untrusted: only prefills the sign-in form
  std::string hint_subject;        // `sub` of a verified id_token_hint; empty: none
  std::string claims;              // the validated `claims` parameter (JSON text), or empty
  std::string pushed_hash;  // from a pushed request (RFC 9126): consumed when a code is issued
  std::string dpop_jkt;     // RFC 9449 §10: binds the code to a DPoP key; empty: none
};

// Where and what an answer sends to the client, in its response mode.
struct AuthorizationAnswer {
  std::string redirect_uri;
  FormFields params;
  ResponseMode mode = ResponseMode::kQuery;
};

// A request that failed validation.
struct AuthorizationFailure {
  Error error;
  // Empty while the redirect URI is not trusted: show the error, never redirect. Otherwise the
  // error may be sent there (RFC 6749 §4.1.2.1).
  std::string redirect_uri;
  std::string state;
  bool has_state = false;
  ResponseMode response_mode = ResponseMode::kQuery;
};

using Validation = std::expected<ValidAuthorization, AuthorizationFailure>;

class AuthorizationService {
 public:
  // Borrows `clients`, `codes`, `clock` and `random`, which must outlive it.
  AuthorizationService(AuthorizationSettings settings, const ClientCatalog& clients,
                       AuthCodeStore& codes, const Clock& clock, Random& random);

  // `light_order`: light-oauth2's order, where response_type and client_id are checked first
  // (ERR11000, ERR11004) and then the client (ERR12014); otherwise response_type errors are
  // found after the redirect URI and can be redirected. In memory.
  Validation Validate(const AuthorizationRequest& request, bool light_order) const;

  // Whether `query` names a pushed request (request_uri with kPushedRequestUriPrefix) and
  // pushed requests are on (SetPushedRequests). Other request_uri values are refused by
  // Validate with request_uri_not_supported. In memory.
  bool NamesPushedRequest(const AuthorizationRequest& query) const;
  // RFC 9126 §4: the pushed request that `query` (client_id + request_uri) names, which replaces
  // the query's parameters (all others are ignored). invalid_request without client_id;
  // invalid_request_uri when the reference is unknown, used, another client's, or expired
  // (`continuing`: a sign-in or consent form of a flow started earlier, given kPushedFlowGrace
  // more). The result's pushed_hash is set. Blocking.
  Result<AuthorizationRequest> ResolvePushed(const AuthorizationRequest& query,
                                             bool continuing) const;

  // Issues a code for `user`: 256 random bits, stored only as TokenHash, bound to the client,
  // the redirect URI (as the request gave it, RFC 6749 §4.1.3), the PKCE challenge, the user,
  // the scope and the nonce, usable once until now + code_ttl. Blocking.
  // `sign_in` is recorded in the code for the ID token (auth_time, sid, amr, acr), with the
  // request's `claims` parameter. A request loaded from a pushed request consumes it first
  // (single winner): invalid_request_uri when it was used already, by another browser.
  Result<Secret> IssueCode(const ValidAuthorization& request, const AuthenticatedUser& user,
                           bool remember, const SignInRecord& sign_in);

  // Whether a signed-in user must sign in again before this request is answered: prompt=login,
  // or a session older than max_age (OIDC Core §3.1.2.1; max_age=0 always asks). In memory.
  bool NeedsFreshSignIn(const ValidAuthorization& request, const SsoSession& session) const;
  // A sign-in that happens now without a session (HTTP Basic): auth_time now, amr "pwd".
  SignInRecord SignInNow() const;

  // A successful answer: code, state and iss (RFC 6749 §4.1.2, RFC 9207).
  AuthorizationAnswer Success(const ValidAuthorization& request, const Secret& code) const;
  // An error answer (RFC 6749 §4.1.2.1). `failure.redirect_uri` must be set.
  AuthorizationAnswer ErrorAnswer(const AuthorizationFailure& failure) const;
  // The same as redirect Locations (response_mode=query).
  std::string SuccessRedirect(const ValidAuthorization& request, const Secret& code) const;
  std::string ErrorRedirect(const AuthorizationFailure& failure) const;

  // Installs the id_token_hint verifier (set once at start-up, before requests are served).
  // Without one, a request with id_token_hint is refused with invalid_request.
  void SetIdTokenHintReader(IdTokenHintReader reader) { hint_reader_ = std::move(reader); }
  // Turns on pushed authorization requests (set once at start-up; `store` must outlive this).
  void SetPushedRequests(PushedRequestStore* store) { pushed_ = store; }
  // A failure for an already valid request (access_denied, login_required, ...).
  static AuthorizationFailure FailureFor(const ValidAuthorization& request, Error error);

  const AuthorizationSettings& settings() const { return settings_; }
  int64_t code_ttl() const { return code_ttl_; }

 private:
  AuthorizationSettings settings_;
  int64_t code_ttl_;
  const ClientCatalog& clients_;
  AuthCodeStore& codes_;
  const Clock& clock_;
  Random& random_;
  IdTokenHintReader hint_reader_;
  PushedRequestStore* pushed_ = nullptr;
};

// OIDC Core §5.5: the `claims` parameter must be a JSON object; its `userinfo` and `id_token`
// members, when present, objects whose members are null or objects (with `essential` a
// boolean, `values` an array). Other top-level members are ignored (extensions). Bounded by
// `max_size` bytes.
Status CheckClaimsParameter(std::string_view claims, size_t max_size = 4096);

// max_age: a non-negative decimal integer of at most 10 digits; nullopt otherwise.
std::optional<int64_t> ParseMaxAge(std::string_view text);

// Appends parameters to a URI's query, keeping a query it already has (a registered redirect
// URI may carry one, RFC 6749 §3.1.2) and dropping a fragment. Values are percent-encoded.
std::string AppendQuery(std::string_view uri, const FormFields& params);

// RFC 6749 §4.1.2.1: error_description is limited to %x20-21 / %x23-5B / %x5D-7E; other
// characters become spaces.
std::string SafeErrorDescription(std::string_view text);

}  // namespace portcullis::oauth
