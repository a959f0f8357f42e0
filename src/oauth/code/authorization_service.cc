#include "oauth/code/authorization_service.h"

#include <algorithm>

#include <boost/json.hpp>

#include "common/encoding.h"
#include "common/log.h"
#include "oauth/client/client_catalog.h"
#include "oauth/credentials/token_hash.h"
#include "oauth/token/pkce.h"

namespace portcullis::oauth {
namespace {

Error Invalid(std::string description) {
  return Error::OAuth(400, "invalid_request", std::move(description));
}

// Request values quoted in error descriptions are shortened: pages and logs show them.
std::string Clip(std::string_view value) {
  return value.size() <= 64 ? std::string(value) : std::string(value.substr(0, 64)) + "...";
}

// Error for a request whose redirect URI is trusted.
AuthorizationFailure Redirectable(const AuthorizationRequest& req, std::string redirect_uri,
                                  Error error) {
  return AuthorizationFailure{std::move(error), std::move(redirect_uri), req.state.value_or(""),
                              req.state.has_value()};
}

// Error shown to the user: the redirect URI is not (yet) trusted.
std::unexpected<AuthorizationFailure> Shown(Error error) {
  return std::unexpected(AuthorizationFailure{std::move(error), {}, {}, false});
}

}  // namespace

AuthorizationService::AuthorizationService(AuthorizationSettings settings,
                                           const ClientCatalog& clients, AuthCodeStore& codes,
                                           const Clock& clock, Random& random)
    : settings_(std::move(settings)),
      code_ttl_(std::clamp<int64_t>(settings_.code_ttl, 60, 600)),
      clients_(clients),
      codes_(codes),
      clock_(clock),
      random_(random) {}

Validation AuthorizationService::Validate(const AuthorizationRequest& req, bool light_order) const {
  const std::string response_type = req.response_type.value_or("");
  const std::string client_id = req.client_id.value_or("");
  if (light_order) {
    // light-oauth2's validator runs before anything else (reference §2.2, §16.2).
    if (response_type.empty())
      return Shown(Error::Status("ERR11000", "response_type is required."));
    if (client_id.empty()) return Shown(Error::Status("ERR11000", "client_id is required."));
    if (response_type != "code") {
      return Shown(Error::Status("ERR11004", "response_type must be code."));
    }
  }
  if (client_id.empty()) return Shown(Error::Status("ERR11000", "client_id is required."));
  auto client = clients_.Find(client_id);
  if (!client) {
    return Shown(Error::Status("ERR12014", "Client " + Clip(client_id) + " is not found."));
  }

  // The redirect URI must be one the client registered, character for character (RFC 9700
  // §2.1, §4.1.3): no prefix, path, query, port or scheme variations. Until it is, nothing is
  // redirected (RFC 6749 §4.1.2.1, §10.15): that is what stops open redirects and code leaks.
  ValidAuthorization v;
  v.client = client;
  const auto& registered = client->redirect_uris;
  if (req.redirect_uri.has_value()) {
    if (std::find(registered.begin(), registered.end(), *req.redirect_uri) == registered.end()) {
      return Shown(Error::Status("ERR12026", "redirect_uri is not registered for this client."));
    }
    v.redirect_uri = *req.redirect_uri;
    v.redirect_uri_given = true;
  } else if (registered.size() == 1) {
    // RFC 6749 §3.1.2.3: optional when exactly one is registered.
    v.redirect_uri = registered.front();
  } else if (registered.empty()) {
    return Shown(Error::Status("ERR12025", "The client has no registered redirect URI."));
  } else {
    return Shown(
        Error::Status("ERR12025", "redirect_uri is required: the client registered several."));
  }

  // From here on errors go back to the client, in the response mode it asked for once that is
  // known to be one we support (an unknown mode's error goes back in the default, query).
  const std::string& to = v.redirect_uri;
  if (req.response_mode.has_value()) {
    if (*req.response_mode == "form_post") {
      v.response_mode = ResponseMode::kFormPost;
    } else if (*req.response_mode != "query") {
      return std::unexpected(Redirectable(req, to,
                                          Invalid("response_mode " + Clip(*req.response_mode) +
                                                  " is not supported: use query or form_post.")));
    }
  }
  auto refuse = [&](Error e) {
    AuthorizationFailure f = Redirectable(req, to, std::move(e));
    f.response_mode = v.response_mode;
    return std::unexpected(std::move(f));
  };
  // OIDC Core §6: request objects are optional; refused by name until PAR exists. Dynamic
  // registration parameters (§7.2.1) likewise.
  if (req.request.has_value()) {
    return refuse(Error::OAuth(400, "request_not_supported",
                               "The request parameter (request objects) is not supported."));
  }
  // A pushed request (RFC 9126) arrives here resolved, without request_uri: what is left is a
  // request_uri this server did not hand out (request objects by reference, OIDC Core §6.2).
  if (req.request_uri.has_value()) {
    return refuse(Error::OAuth(400, "request_uri_not_supported",
                               "The request_uri parameter is not supported."));
  }
  if (req.registration.has_value()) {
    return refuse(Error::OAuth(400, "registration_not_supported",
                               "The registration parameter is not supported."));
  }
  // RFC 9126 §6: a client registered with requirePushedAuthorizationRequests takes nothing else;
  // profile fapi2 implies it (FAPI 2.0 §5.3.2.2).
  if (client->RequiresPar() && req.pushed_hash.empty()) {
    return refuse(Invalid(
        client->IsFapi2()
            ? "This client (profile fapi2) must push its authorization requests to /oauth2/par "
              "(RFC 9126, FAPI 2.0 5.3.2.2) and send the request_uri."
            : "This client must push its authorization requests to /oauth2/par (RFC 9126) and "
              "send the request_uri."));
  }
  v.pushed_hash = req.pushed_hash;
  // FAPI 2.0 §5.3.2.2: a fapi2 client's pushed request names its redirect_uri, even when one is
  // registered (so the error can go to that one).
  if (client->IsFapi2() && !v.redirect_uri_given) {
    return refuse(Invalid("redirect_uri is required for this client (profile fapi2)."));
  }
  if (response_type.empty()) {
    return refuse(Error::Status("ERR11000", "response_type is required."));
  }
  if (response_type != "code") {
    Error e = Error::Status("ERR11004", "response_type must be code.");
    e.oauth_error = "unsupported_response_type";
    return refuse(std::move(e));
  }
  if (!client->AllowsGrant("authorization_code")) {
    return refuse(Error::OAuth(400, "unauthorized_client",
                               "The client is not allowed to use the authorization code grant."));
  }

  // Scope: a subset of the client's, by exact membership (RFC 6749 §3.3, reference §4.6).
  v.scope = SplitScope(req.scope.value_or(""));
  for (const auto& s : v.scope) {
    if (!client->HasScope(s)) {
      return refuse(
          Error::Status("ERR12027", "The scope " + Clip(s) + " is not allowed for the client."));
    }
  }
  // No scope asked: the client's whole scope, written into the code so the token carries what
  // the user saw and agreed to, not what the client may be given later.
  if (v.scope.empty()) v.scope = client->scope;

  // PKCE (RFC 7636 §4.3, RFC 9700 §2.1.1). Profile fapi2: always, and S256 only, whatever
  // code.allow_plain_pkce says (FAPI 2.0 §5.3.2.2).
  if (client->IsFapi2() &&
      (!req.code_challenge.has_value() || req.code_challenge_method.value_or("plain") != "S256")) {
    return refuse(Invalid(
        "This client (profile fapi2) must use PKCE with code_challenge_method S256 (FAPI 2.0 "
        "5.3.2.2)."));
  }
  if (req.code_challenge.has_value()) {
    std::string method = req.code_challenge_method.value_or("plain");  // RFC 7636 §4.3 default
    if (auto s = CheckCodeChallenge(*req.code_challenge, method, settings_.allow_plain_pkce); !s) {
      return refuse(s.error());
    }
    v.code_challenge = *req.code_challenge;
    v.code_challenge_method = method;
  } else if (req.code_challenge_method.has_value()) {
    return refuse(Invalid("code_challenge_method was sent without code_challenge."));
  } else if (client->IsPublic()) {
    return refuse(
        Invalid("code_challenge is required: public clients must use PKCE with S256 "
                "(RFC 9700 2.1.1)."));
  }

  // RFC 9449 §10: dpop_jkt is a JWK SHA-256 thumbprint (RFC 7638), 43 base64url characters.
  if (req.dpop_jkt.has_value()) {
    auto raw = Base64UrlDecode(*req.dpop_jkt);
    if (!raw || raw->size() != 32) {
      return refuse(Invalid("dpop_jkt must be a base64url SHA-256 JWK thumbprint."));
    }
    v.dpop_jkt = *req.dpop_jkt;
  }

  // OIDC Core §3.1.2.1: space-separated values; "none" must stand alone. select_account (no
  // account chooser here) and unknown values are refused rather than silently ignored.
  if (req.prompt.has_value()) {
    auto values = SplitScope(*req.prompt);
    if (values.empty()) return refuse(Invalid("prompt is empty."));
    for (const auto& p : values) {
      if (p == "none") {
        v.prompt_none = true;
      } else if (p == "login") {
        v.prompt_login = true;
      } else if (p == "consent") {
        v.prompt_consent = true;
      } else {
        return refuse(
            Invalid("prompt " + Clip(p) + " is not supported: use none, login or consent."));
      }
    }
    if (v.prompt_none && values.size() > 1) {
      return refuse(Invalid("prompt=none must stand alone."));
    }
  }

  if (req.max_age.has_value()) {
    v.max_age = ParseMaxAge(*req.max_age);
    if (!v.max_age) return refuse(Invalid("max_age must be a non-negative integer (seconds)."));
  }

  if (req.claims.has_value()) {
    if (auto s = CheckClaimsParameter(*req.claims); !s) return refuse(s.error());
    v.claims = *req.claims;
  }

  // OIDC Core §3.1.2.1: a hint we cannot verify is a malformed request (invalid_request), also
  // with prompt=none: login_required would claim the hinted user is not signed in, which the
  // server cannot know from a token it did not verify.
  if (req.id_token_hint.has_value()) {
    if (!hint_reader_) return refuse(Invalid("id_token_hint is not supported."));
    auto sub = hint_reader_(*req.id_token_hint, client->client_id);
    if (!sub) {
      return refuse(Invalid("id_token_hint is not a valid ID token issued to this client."));
    }
    v.hint_subject = std::move(*sub);
  }
  v.login_hint = req.login_hint.value_or("");

  v.state = req.state.value_or("");
  v.has_state = req.state.has_value();
  v.nonce = req.nonce.value_or("");
  v.remember = req.remember.value_or("") == "Y";
  return v;
}

bool AuthorizationService::NamesPushedRequest(const AuthorizationRequest& query) const {
  return pushed_ != nullptr && query.request_uri.has_value() &&
         query.request_uri->starts_with(kPushedRequestUriPrefix);
}

Result<AuthorizationRequest> AuthorizationService::ResolvePushed(const AuthorizationRequest& query,
                                                                 bool continuing) const {
  if (pushed_ == nullptr) return Fail(Error::Internal("pushed requests are off"));
  const std::string client_id = query.client_id.value_or("");
  if (client_id.empty()) return Fail(Invalid("client_id is required with request_uri."));
  // One answer for every failure: which one it was would tell a guesser too much.
  Error refused = Error::OAuth(400, "invalid_request_uri",
                               "The request_uri is unknown, expired, already used, or was "
                               "pushed by another client.");
  std::string_view reference = *query.request_uri;
  reference.remove_prefix(kPushedRequestUriPrefix.size());
  if (reference.empty() || reference.size() > 128) return Fail(refused);
  const std::string hash = TokenHash(reference);
  auto found = pushed_->Find(hash);
  if (!found) return Fail(std::move(found.error()));
  const int64_t now = clock_.Now();
  const int64_t valid_after = continuing ? now - kPushedFlowGrace : now;
  if (!*found || (*found)->used_at || (*found)->client_id != client_id ||
      (*found)->expires_at <= valid_after) {
    log::Info("par.refused", {{"client_id", Clip(client_id)}});
    return Fail(refused);
  }
  auto loaded = AuthorizationRequest::Parse((*found)->params, AuthorizationRequest::kMaxLongValue);
  if (!loaded) return Fail(Error::Internal("stored pushed request does not parse"));
  loaded->pushed_hash = hash;
  return std::move(*loaded);
}

Result<Secret> AuthorizationService::IssueCode(const ValidAuthorization& v,
                                               const AuthenticatedUser& user, bool remember,
                                               const SignInRecord& sign_in) {
  // RFC 9126 §4: a request_uri is used once. The first flow to reach a code wins; the pushed
  // request stays usable through the sign-in and consent forms until then.
  if (!v.pushed_hash.empty()) {
    if (pushed_ == nullptr) return Fail(Error::Internal("pushed requests are off"));
    const int64_t at = clock_.Now();
    auto won = pushed_->Consume(v.pushed_hash, v.client->client_id, at - kPushedFlowGrace, at);
    if (!won) return Fail(std::move(won.error()));
    if (!*won) {
      return Fail(Error::OAuth(400, "invalid_request_uri",
                               "The request_uri was already used or has expired."));
    }
  }
  // 256 bits from the CSPRNG (RFC 6749 §10.10 asks for at least 128); only the hash is kept.
  Secret code(random_.Token(32));
  const int64_t now = clock_.Now();
  AuthCode stored;
  stored.code_hash = TokenHash(code.Reveal());
  stored.client_id = v.client->client_id;
  stored.user_id = user.user_id;
  stored.user_type = user.user_type;
  stored.roles = user.roles;
  stored.scope = JoinScope(v.scope);
  // RFC 6749 §4.1.3: the token request must repeat redirect_uri only when this one had it.
  if (v.redirect_uri_given) stored.redirect_uri = v.redirect_uri;
  stored.code_challenge = v.code_challenge;
  stored.code_challenge_method = v.code_challenge_method;
  stored.nonce = v.nonce;
  stored.remember = remember ? "Y" : "N";
  stored.auth_time = sign_in.auth_time;
  stored.sid = sign_in.sid;
  stored.amr = sign_in.amr;
  stored.acr = sign_in.acr;
  stored.user_source = sign_in.user_source;
  stored.claims = v.claims;
  stored.dpop_jkt = v.dpop_jkt;
  stored.created_at = now;
  // FAPI 2.0 §5.3.2.2: a fapi2 client's codes live at most 60 s.
  stored.expires_at =
      now + (v.client->IsFapi2() ? std::min<int64_t>(code_ttl_, kFapi2CodeTtl) : code_ttl_);
  // CodeClientNotFound (ERR12014) when the client was deleted between validation and now.
  if (auto s = codes_.Insert(stored); !s) return Fail(std::move(s.error()));
  log::Info("code.issued", {{"client_id", v.client->client_id},
                            {"user_id", user.user_id},
                            {"pkce", !v.code_challenge.empty()}});
  return code;
}

bool AuthorizationService::NeedsFreshSignIn(const ValidAuthorization& v,
                                            const SsoSession& session) const {
  if (v.prompt_login) return true;
  if (!v.max_age) return false;
  // "If the elapsed time is greater than this value, the OP MUST attempt to actively
  // re-authenticate"; max_age=0 is taken as "always", as prompt=login.
  return *v.max_age == 0 || clock_.Now() - session.created_at > *v.max_age;
}

SignInRecord AuthorizationService::SignInNow() const {
  return SignInRecord{clock_.Now(), {}, "pwd", {}};
}

SignInRecord SignInRecord::FromSession(const SsoSession& s) {
  // Sessions made before amr was recorded were password sign-ins: the only kind there was.
  return SignInRecord{s.created_at, s.sid, s.amr.empty() ? "pwd" : s.amr, s.acr};
}

AuthorizationAnswer AuthorizationService::Success(const ValidAuthorization& v,
                                                  const Secret& code) const {
  AuthorizationAnswer a{v.redirect_uri, {{"code", std::string(code.Reveal())}}, v.response_mode};
  if (v.has_state) a.params.emplace_back("state", v.state);
  if (!settings_.issuer.empty()) a.params.emplace_back("iss", settings_.issuer);  // RFC 9207 §2
  return a;
}

AuthorizationAnswer AuthorizationService::ErrorAnswer(const AuthorizationFailure& f) const {
  const Error& e = f.error;
  std::string description = e.description;
  if (!e.code.empty()) description += " (" + e.code + ")";
  AuthorizationAnswer a{f.redirect_uri,
                        {{"error", e.oauth_error.empty() ? "server_error" : e.oauth_error},
                         {"error_description", SafeErrorDescription(description)}},
                        f.response_mode};
  if (f.has_state) a.params.emplace_back("state", f.state);
  if (!settings_.issuer.empty()) a.params.emplace_back("iss", settings_.issuer);
  return a;
}

std::string AuthorizationService::SuccessRedirect(const ValidAuthorization& v,
                                                  const Secret& code) const {
  auto a = Success(v, code);
  return AppendQuery(a.redirect_uri, a.params);
}

std::string AuthorizationService::ErrorRedirect(const AuthorizationFailure& f) const {
  auto a = ErrorAnswer(f);
  return AppendQuery(a.redirect_uri, a.params);
}

AuthorizationFailure AuthorizationService::FailureFor(const ValidAuthorization& v, Error error) {
  return AuthorizationFailure{std::move(error), v.redirect_uri, v.state, v.has_state,
                              v.response_mode};
}

std::string AppendQuery(std::string_view uri, const FormFields& params) {
  std::string out(uri.substr(0, uri.find('#')));
  bool first = out.find('?') == std::string::npos;
  if (first) {
    out += '?';
  } else if (out.back() != '?' && out.back() != '&') {
    out += '&';
  }
  bool any = false;
  for (const auto& [k, v] : params) {
    if (any) out += '&';
    out += PercentEncode(k);
    out += '=';
    out += PercentEncode(v);
    any = true;
  }
  return out;
}

Status CheckClaimsParameter(std::string_view claims, size_t max_size) {
  if (claims.size() > max_size) return Fail(Invalid("The claims parameter is too long."));
  boost::system::error_code ec;
  boost::json::value doc = boost::json::parse(claims, ec);
  if (ec || !doc.is_object()) return Fail(Invalid("The claims parameter must be a JSON object."));
  for (const char* member : {"userinfo", "id_token"}) {
    const auto* m = doc.as_object().if_contains(member);
    if (m == nullptr) continue;
    if (!m->is_object()) {
      return Fail(Invalid(std::string("claims.") + member + " must be a JSON object."));
    }
    for (const auto& [name, request] : m->as_object()) {
      if (request.is_null()) continue;
      const auto* o = request.if_object();
      const std::string where = std::string("claims.") + member + "." + Clip(name);
      if (o == nullptr) return Fail(Invalid(where + " must be null or a JSON object."));
      if (const auto* e = o->if_contains("essential"); e && !e->is_bool()) {
        return Fail(Invalid(where + ".essential must be a boolean."));
      }
      if (const auto* vs = o->if_contains("values"); vs && !vs->is_array()) {
        return Fail(Invalid(where + ".values must be an array."));
      }
    }
  }
  return {};
}

std::optional<int64_t> ParseMaxAge(std::string_view text) {
  if (text.empty() || text.size() > 10) return std::nullopt;
  int64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return value;
}

std::string SafeErrorDescription(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    bool ok = c >= 0x20 && c <= 0x7e && c != '"' && c != '\\';
    out.push_back(ok ? static_cast<char>(c) : ' ');
  }
  return out;
}

}  // namespace portcullis::oauth
