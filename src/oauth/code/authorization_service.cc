#include "oauth/code/authorization_service.h"

#include <algorithm>

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

  // From here on errors go back to the client.
  const std::string& to = v.redirect_uri;
  if (response_type.empty()) {
    return std::unexpected(
        Redirectable(req, to, Error::Status("ERR11000", "response_type is required.")));
  }
  if (response_type != "code") {
    Error e = Error::Status("ERR11004", "response_type must be code.");
    e.oauth_error = "unsupported_response_type";
    return std::unexpected(Redirectable(req, to, std::move(e)));
  }
  if (!client->AllowsGrant("authorization_code")) {
    return std::unexpected(Redirectable(
        req, to,
        Error::OAuth(400, "unauthorized_client",
                     "The client is not allowed to use the authorization code grant.")));
  }

  // Scope: a subset of the client's, by exact membership (RFC 6749 §3.3, reference §4.6).
  v.scope = SplitScope(req.scope.value_or(""));
  for (const auto& s : v.scope) {
    if (!client->HasScope(s)) {
      return std::unexpected(Redirectable(
          req, to,
          Error::Status("ERR12027", "The scope " + Clip(s) + " is not allowed for the client.")));
    }
  }
  // No scope asked: the client's whole scope, written into the code so the token carries what
  // the user saw and agreed to, not what the client may be given later.
  if (v.scope.empty()) v.scope = client->scope;

  // PKCE (RFC 7636 §4.3, RFC 9700 §2.1.1).
  if (req.code_challenge.has_value()) {
    std::string method = req.code_challenge_method.value_or("plain");  // RFC 7636 §4.3 default
    if (auto s = CheckCodeChallenge(*req.code_challenge, method, settings_.allow_plain_pkce); !s) {
      return std::unexpected(Redirectable(req, to, s.error()));
    }
    v.code_challenge = *req.code_challenge;
    v.code_challenge_method = method;
  } else if (req.code_challenge_method.has_value()) {
    return std::unexpected(
        Redirectable(req, to, Invalid("code_challenge_method was sent without code_challenge.")));
  } else if (client->IsPublic()) {
    return std::unexpected(
        Redirectable(req, to,
                     Invalid("code_challenge is required: public clients must use PKCE with S256 "
                             "(RFC 9700 2.1.1).")));
  }

  // OIDC Core §3.1.2.1: "none" must stand alone.
  for (const auto& p : SplitScope(req.prompt.value_or(""))) {
    if (p == "none") v.prompt_none = true;
    if (p == "login") v.prompt_login = true;
    if (p == "consent") v.prompt_consent = true;
  }
  if (v.prompt_none && (v.prompt_login || v.prompt_consent)) {
    return std::unexpected(Redirectable(req, to, Invalid("prompt=none must stand alone.")));
  }

  v.state = req.state.value_or("");
  v.has_state = req.state.has_value();
  v.nonce = req.nonce.value_or("");
  v.remember = req.remember.value_or("") == "Y";
  return v;
}

Result<Secret> AuthorizationService::IssueCode(const ValidAuthorization& v,
                                               const AuthenticatedUser& user, bool remember) {
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
  stored.created_at = now;
  stored.expires_at = now + code_ttl_;
  // CodeClientNotFound (ERR12014) when the client was deleted between validation and now.
  if (auto s = codes_.Insert(stored); !s) return Fail(std::move(s.error()));
  log::Info("code.issued", {{"client_id", v.client->client_id},
                            {"user_id", user.user_id},
                            {"pkce", !v.code_challenge.empty()}});
  return code;
}

std::string AuthorizationService::SuccessRedirect(const ValidAuthorization& v,
                                                  const Secret& code) const {
  FormFields params{{"code", std::string(code.Reveal())}};
  if (v.has_state) params.emplace_back("state", v.state);
  if (!settings_.issuer.empty()) params.emplace_back("iss", settings_.issuer);  // RFC 9207 §2
  return AppendQuery(v.redirect_uri, params);
}

std::string AuthorizationService::ErrorRedirect(const AuthorizationFailure& f) const {
  const Error& e = f.error;
  std::string description = e.description;
  if (!e.code.empty()) description += " (" + e.code + ")";
  FormFields params{{"error", e.oauth_error.empty() ? "server_error" : e.oauth_error},
                    {"error_description", SafeErrorDescription(description)}};
  if (f.has_state) params.emplace_back("state", f.state);
  if (!settings_.issuer.empty()) params.emplace_back("iss", settings_.issuer);
  return AppendQuery(f.redirect_uri, params);
}

AuthorizationFailure AuthorizationService::FailureFor(const ValidAuthorization& v, Error error) {
  return AuthorizationFailure{std::move(error), v.redirect_uri, v.state, v.has_state};
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
