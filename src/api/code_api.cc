#include "api/code_api.h"

#include <strings.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/code_api_pages.h"
#include "api/console_api.h"
#include "api/html.h"
#include "api/page_cookies.h"
#include "api/totp_pages.h"
#include "common/encoding.h"
#include "common/log.h"
#include "http/message.h"
#include "http/router.h"
#include "oauth/client/client_catalog.h"
#include "oauth/code/chain_authenticator.h"
#include "oauth/login/spnego.h"
#include "oauth/upstream/upstream_flows.h"
#include "oauth/upstream/upstream_login.h"

namespace portcullis::api {

CodeApiDeps::CodeApiDeps(oauth::AuthorizationSettings settings, const oauth::ClientCatalog& catalog,
                         store::Database& db, oauth::AuthCodeStore& codes,
                         oauth::SessionStore& session_store, oauth::ConsentStore& consent_store,
                         const oauth::GrantRevocation& revocation, const Clock& clock, Random& rng,
                         const Secret& master_key, oauth::SessionSettings session_settings)
    : clients(catalog),
      authorization(settings, catalog, codes, clock, rng),
      sessions(session_store, clock, rng, session_settings),
      consents(db, consent_store, clock, revocation.ForUserClient()),
      csrf(master_key, clock),
      otp_csrf(master_key, clock, 600),
      random(rng),
      secure_cookies(settings.issuer.starts_with("https://")) {}

namespace {

using code_pages::Redirect;
using http::Reply;
using http::Request;
using http::Response;
using oauth::AuthenticatedUser;
using oauth::AuthenticatorRegistry;
using oauth::AuthorizationFailure;
using oauth::AuthorizationRequest;
using oauth::AuthorizationService;
using oauth::ValidAuthorization;

// The SSO session (SameSite=Lax: it must come along when a client sends the browser here) and
// the pre-login nonce that binds the login form's CSRF token (SameSite=Strict: only our own
// form posts it). Both are HttpOnly. They have no Path attribute: the default path is the
// directory of the page that set them (/oauth2, or a proxy's prefix before it), which covers
// every route of this service.
constexpr std::string_view kSsoCookie = kSsoCookieName;
constexpr std::string_view kLoginCookie = kLoginCookieName;

// CSRF purposes, one per form.
constexpr std::string_view kLoginForm = "login";
constexpr std::string_view kConsentForm = "consent";
constexpr std::string_view kManageForm = "manage";
constexpr std::string_view kOtpForm = "otp";
constexpr std::string_view kUpstreamForm = "upstream";

// Binds a "Sign in with ..." flow to the browser that started it. SameSite=Lax, not Strict like
// the login cookie: it must come back with the provider's cross-site redirect to the callback.
constexpr std::string_view kUpstreamCookie = "portcullis_upstream";
// Over https the binding cookie is a __Host- cookie (Secure, Path=/, no Domain): no sibling
// host or plain-http page can plant or shadow it.
constexpr std::string_view kUpstreamHostCookie = "__Host-portcullis_upstream";

// First-party clients skip the consent page: trusted clients, and the built-in console when the
// request is exactly the console's own (README "Console", "Why the console asks no consent").
// The console is ours and asks only for the admin scopes, which a user gets only from their
// roles (token/user_scope.h); the code can reach only the console's callback, the one exact
// redirect URI registered for it, and only with a PKCE S256 verifier the console keeps sealed
// in its own HttpOnly login cookie. An administrator who changes the console client's redirect
// URIs or makes it skip PKCE loses the exemption rather than extend it to another address.
bool IsFirstParty(const oauth::ValidAuthorization& v, std::string_view issuer) {
  if (v.client->IsTrusted()) return true;
  if (v.client->client_id != kConsoleClientId) return false;
  const std::string expected = ConsoleRedirectUri(std::string(issuer));
  return v.redirect_uri == expected && v.client->redirect_uris == std::vector{expected} &&
         v.code_challenge_method == "S256" && !v.code_challenge.empty();
}

constexpr size_t kMaxUserId = 256;

// ---- Request helpers

bool ContainsNoCase(std::string_view hay, std::string_view needle) {
  if (needle.size() > hay.size()) return false;
  for (size_t i = 0; i + needle.size() <= hay.size(); ++i) {
    if (strncasecmp(hay.data() + i, needle.data(), needle.size()) == 0) return true;
  }
  return false;
}

// A browser: no Authorization header and text/html accepted. Everything else is an API caller
// in light-oauth2's manner (see code_api.h).
bool AcceptsHtml(const Request& req) {
  auto accept = req.Header("accept");
  return accept && ContainsNoCase(*accept, "text/html");
}

bool IsBrowser(const Request& req) {
  if (req.Header("authorization")) return false;
  return AcceptsHtml(req);
}

// The last path segment: "code" or "authorize", for relative form actions and links.
std::string Action(const Request& req) {
  std::string_view p = req.path;
  size_t slash = p.rfind('/');
  return std::string(slash == std::string_view::npos ? p : p.substr(slash + 1));
}

struct BasicCredentials {
  std::string user;
  Secret password;
};

// Authorization: Basic base64(user:password) (RFC 7617). Like light-oauth2's token service
// (reference §2.3), an unencoded "user:password" is accepted too: base64 has no ':'.
std::optional<BasicCredentials> ParseBasic(std::string_view header) {
  header = TrimBlanks(header);
  if (header.size() < 6 || strncasecmp(header.data(), "basic ", 6) != 0) return std::nullopt;
  std::string_view rest = TrimBlanks(header.substr(6));
  Secret decoded;
  if (rest.find(':') != std::string_view::npos) {
    decoded = Secret(std::string(rest));
  } else {
    auto d = Base64Decode(rest);
    if (!d) return std::nullopt;
    decoded = Secret(std::move(*d));
  }
  std::string_view text = decoded.Reveal();
  size_t colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0) return std::nullopt;
  return BasicCredentials{std::string(text.substr(0, colon)),
                          Secret(std::string(text.substr(colon + 1)))};
}

// Authorization: Negotiate <base64> (RFC 4559 §4.2): the token, or nullopt for another scheme.
std::optional<std::string> ParseNegotiate(std::string_view header) {
  header = TrimBlanks(header);
  if (header.size() < 10 || strncasecmp(header.data(), "negotiate ", 10) != 0) return std::nullopt;
  return std::string(TrimBlanks(header.substr(10)));
}

// ---- Responses

Response JsonError(const Error& e) {
  Response r = http::RenderError(e);
  if (e.http_status == 429 && e.retry_after <= 0) r.With("Retry-After", "60");
  return r;
}

// 401 for API callers: light-oauth2's realm (reference §5.1), after Negotiate when SPNEGO is
// configured (light-oauth2 ran its SPNEGO mechanism first).
Response Challenge(const Error& e, bool negotiate = false) {
  Response r = http::RenderError(e);
  if (negotiate) r.With("WWW-Authenticate", "Negotiate");
  r.With("WWW-Authenticate", "Basic realm=\"OAuth\", charset=\"UTF-8\"");
  return r;
}

// An error that is shown (not redirected): a page for browsers, JSON for API callers.
Response Shown(bool browser, const Error& e, const std::string& restart_href = {}) {
  if (e.http_status >= 500) {
    log::Error("code.failed", {{"error", e.detail.empty() ? e.description : e.detail}});
  }
  return browser ? code_pages::ErrorPage(e, restart_href) : JsonError(e);
}

Response WithCookies(Response r, const std::vector<std::string>& cookies) {
  for (const auto& c : cookies) r.With("Set-Cookie", c);
  return r;
}

Error Forbidden() {
  return Error::OAuth(403, "access_denied",
                      "The form could not be verified (missing or invalid CSRF token).");
}

Error LoginRequired() { return Error::OAuth(400, "login_required", "The user is not signed in."); }

class Endpoint {
 public:
  explicit Endpoint(CodeApiDeps& d) : d_(d) {}

  // GET /oauth2/code, /oauth2/authorize
  Reply Authorize(Request& req) {
    const bool browser = IsBrowser(req);
    auto parsed = AuthorizationRequest::Parse(req.query);
    if (!parsed) return Shown(browser, parsed.error());
    // RFC 9126 §4: client_id + request_uri of a pushed request; its parameters replace the
    // query's. The pages that follow carry only the reference (Reference below).
    if (d_.authorization.NamesPushedRequest(*parsed)) {
      return http::Blocking([this, &req, browser, q = std::move(*parsed)]() -> Response {
        auto resolved = d_.authorization.ResolvePushed(q, /*continuing=*/false);
        if (!resolved) return Shown(browser, resolved.error());
        return RunNow(AuthorizeParsed(req, browser, Reference(q, *resolved), *resolved));
      });
    }
    return AuthorizeParsed(req, browser, *parsed, *parsed);
  }

  // `shown`: what the pages carry on (the request, or a pushed request's reference);
  // `effective`: the parameters to act on.
  Reply AuthorizeParsed(Request& req, bool browser, const AuthorizationRequest& shown,
                        const AuthorizationRequest& effective) {
    const AuthorizationRequest* parsed = &shown;
    auto v = d_.authorization.Validate(effective, !browser);
    if (!v) return Failed(browser, 302, v.error());
    auto entry = d_.authenticators.ForClient(*v->client);
    if (!entry) return Shown(browser, entry.error());
    if (!browser) {
      if (d_.spnego != nullptr) {
        auto authz = req.Header("authorization");
        if (auto token = authz ? ParseNegotiate(*authz) : std::nullopt) {
          return NegotiateLogin(req, *parsed, std::move(*v), *entry, std::move(*token));
        }
      }
      return BasicLogin(req, std::move(*v), *entry);
    }

    // Without a session there is nothing to decide on the store: the sign-in form, or for
    // prompt=none login_required without any page (OIDC Core §3.1.2.6).
    std::string sso = RequestCookie(req, kSsoCookie);
    if (sso.empty()) {
      if (v->prompt_none)
        return Failed(true, 302, AuthorizationService::FailureFor(*v, LoginRequired()));
      return SignInPage(req, *parsed, *v);
    }
    return http::Blocking([this, &req, r = *parsed, v = std::move(*v), entry = *entry,
                           sso = std::move(sso)]() -> Response {
      auto session = d_.sessions.Find(entry.realm, sso);
      if (!session) return Shown(true, session.error());
      std::optional<AuthenticatedUser> user;
      if (*session) {
        auto u = entry.authenticator->Find((*session)->user_id);
        if (u) {
          user = std::move(*u);
        } else if (u.error().http_status >= 500) {
          return Shown(true, u.error());
        }  // else the account is gone: sign in again
      }
      // Sign in again: no (usable) session, prompt=login, a session older than max_age, or a
      // session of another user than the id_token_hint names (OIDC Core §3.1.2.1).
      bool factor_missing = false;
      if (user && !oauth::SecondFactor::HasOtp((*session)->amr)) {
        auto factor = FactorFor(entry, *user, *v.client);
        if (!factor) return Shown(true, factor.error());
        factor_missing = *factor != Factor::kNone;
      }
      if (!user || factor_missing || d_.authorization.NeedsFreshSignIn(v, **session) ||
          (!v.hint_subject.empty() && v.hint_subject != user->user_id)) {
        if (v.prompt_none) {
          return Failed(true, 302, AuthorizationService::FailureFor(v, LoginRequired()));
        }
        return SignInPage(req, r, v);
      }
      return Proceed(req, r, v, *user, **session, entry, sso, 302, {});
    });
  }

  // POST /oauth2/code, /oauth2/authorize: the sign-in form.
  Reply SignIn(Request& req) {
    const bool browser = IsBrowser(req);
    auto fields = FormOf(req);
    if (!fields) return Shown(browser, fields.error());
    auto parsed = AuthorizationRequest::FromFields(*fields);
    if (!parsed) return Shown(browser, parsed.error());
    // Nothing happens without a token that matches this browser's login cookie: no login CSRF,
    // no password guessing through other sites' forms.
    // The second-factor form's token names the user who passed the password step in this
    // browser (the login cookie), the client (whose authenticator realm keys the enrolment), and
    // whether the page enrols: neither otp_user nor client_id can be swapped.
    const std::string otp_user = FormField(*fields, "otp_user");
    const bool csrf_ok =
        otp_user.empty()
            ? d_.csrf.Verify(FormField(*fields, "csrf"), kLoginForm,
                             RequestCookie(req, kLoginCookie))
            : d_.otp_csrf.Verify(
                  FormField(*fields, "csrf"),
                  OtpPurpose(otp_user, FormField(*fields, "otp_local") == "1",
                             parsed->client_id.value_or(""), FormField(*fields, "otp_enrol") == "1",
                             parsed->remember.value_or("") == "Y"),
                  RequestCookie(req, kLoginCookie));
    if (!csrf_ok) {
      log::Warn("code.csrf_rejected",
                {{"form", otp_user.empty() ? kLoginForm : kOtpForm}, {"remote", req.remote_ip}});
      return Shown(browser, Forbidden(), Restart(*parsed));
    }
    if (d_.authorization.NamesPushedRequest(*parsed)) {
      // Password checks belong on the hash pool: the whole step runs there.
      return http::Deferred{
          http::Pool::kHash,
          [this, &req, browser, q = std::move(*parsed), f = std::move(*fields)]() -> Response {
            auto resolved = d_.authorization.ResolvePushed(q, /*continuing=*/true);
            if (!resolved) return Shown(browser, resolved.error());
            AuthorizationRequest ref = Reference(q, *resolved);
            ref.remember = q.remember;  // the form's checkbox, as the user left it
            return RunNow(SignInParsed(req, browser, f, ref, *resolved));
          }};
    }
    return SignInParsed(req, browser, *fields, *parsed, *parsed);
  }

  Reply SignInParsed(Request& req, bool browser, const FormFields& fields_in,
                     const AuthorizationRequest& shown, const AuthorizationRequest& effective) {
    const FormFields* fields = &fields_in;
    const AuthorizationRequest* parsed = &shown;
    auto v = d_.authorization.Validate(effective, false);
    if (!v) return Failed(browser, 303, v.error());
    auto entry = d_.authenticators.ForClient(*v->client);
    if (!entry) return Shown(browser, entry.error());
    if (std::string otp_user = FormField(*fields, "otp_user"); !otp_user.empty()) {
      return SecondStep(req, *fields, *parsed, std::move(*v), *entry, std::move(otp_user));
    }

    std::string user = FormField(*fields, "j_username");
    Secret password(FormField(*fields, "j_password"));
    const bool remember = parsed->remember.value_or("") == "Y";
    if (user.empty() || password.empty()) {
      return LoginForm(req, *parsed, *v, 200, user, "Enter your user name and password.");
    }
    if (user.size() > kMaxUserId) {
      return LoginForm(req, *parsed, *v, 200, {}, "The user name or password is incorrect.");
    }
    Secret new_password(FormField(*fields, "new_password"));
    Secret new_password_confirm(FormField(*fields, "new_password_confirm"));
    return http::Deferred{
        http::Pool::kHash,
        [this, &req, r = *parsed, v = std::move(*v), entry = *entry, user = std::move(user),
         password = std::move(password), new_password = std::move(new_password),
         new_password_confirm = std::move(new_password_confirm), remember]() -> Response {
          // The second step of a sign-in whose password must change carries the new one.
          const bool replacing = !new_password.empty();
          auto u = replacing ? entry.authenticator->ReplaceRequiredPassword(
                                   user, password.Reveal(), new_password.Reveal(),
                                   new_password_confirm.Reveal(), req.remote_ip)
                             : entry.authenticator->Login(user, password.Reveal(), req.remote_ip);
          if (!u && oauth::IsPasswordChangeRequired(u.error())) {
            return ChangePasswordForm(req, r, v, 200, user, {});
          }
          if (!u && replacing && u.error().http_status == 400) {
            return ChangePasswordForm(req, r, v, 200, user, u.error().description);
          }
          if (!u) {
            const int status = u.error().http_status;
            if (status == 429) {
              Response resp = LoginForm(req, r, v, 429, user,
                                        "Too many failed attempts. Wait a few minutes, then try "
                                        "again.");
              resp.With("Retry-After", std::to_string(std::max<int64_t>(1, u.error().retry_after)));
              return resp;
            }
            if (status >= 500) return Shown(true, u.error());
            // One message for a wrong user and a wrong password.
            return LoginForm(req, r, v, 200, user, "The user name or password is incorrect.");
          }
          // The password is right; a second factor may still be needed before any session.
          auto factor = FactorFor(entry, *u, *v.client);
          if (!factor) return Shown(true, factor.error());
          if (*factor != Factor::kNone) {
            return SecondFactorPage(req, r, v, oauth::EnrolmentRealm(entry, *u), u->user_id,
                                    remember, *factor == Factor::kEnrol, true, 200, {});
          }
          return SignedIn(req, r, v, entry, *u, remember, "pwd");
        }};
  }

  // The sign-in is complete (password, and the second factor when one was needed): a new
  // session, then consent or a code. Blocking.
  Response SignedIn(const Request& req, const AuthorizationRequest& r, const ValidAuthorization& v,
                    const AuthenticatorRegistry::Entry& entry, const AuthenticatedUser& u,
                    bool remember, std::string_view amr) {
    // A new session on every sign-in, so a session id planted before it is worthless
    // (session fixation); the browser's previous session ends.
    if (std::string old = RequestCookie(req, kSsoCookie); !old.empty()) {
      if (auto s = d_.sessions.Delete(entry.realm, old); !s) return Shown(true, s.error());
    }
    auto created = d_.sessions.Create(entry.realm, u.user_id, remember, amr);
    if (!created) return Shown(true, created.error());
    log::Info("code.login", {{"user_id", u.user_id},
                             {"client_id", v.client->client_id},
                             {"remember", remember},
                             {"amr", amr}});
    std::string sso(created->cookie.Reveal());
    std::string cookie =
        SetCookieValue(kSsoCookie, sso, remember ? created->max_age : -1, "Lax", Secure(req));
    // The client named another user in id_token_hint: the session stands, but this
    // request gets no code for someone else (OIDC Core §3.1.2.1).
    if (!v.hint_subject.empty() && v.hint_subject != u.user_id) {
      return WithCookies(Failed(true, 303,
                                AuthorizationService::FailureFor(
                                    v, Error::OAuth(400, "login_required",
                                                    "The user who signed in is not the one the "
                                                    "id_token_hint names."))),
                         {cookie});
    }
    return Proceed(req, r, v, u, created->session, entry, sso, 303, {cookie});
  }

  // POST of the second-factor page: a TOTP or recovery code (or, when enrolling, the first code
  // of the new secret) for the user who passed the password step. The CSRF token (SignIn) has
  // bound otp_user, the enrolment flag and remember to this browser within 10 minutes.
  Reply SecondStep(Request& req, const FormFields& fields, const AuthorizationRequest& r,
                   ValidAuthorization v, const AuthenticatorRegistry::Entry& entry,
                   std::string user_id) {
    const bool enrol = FormField(fields, "otp_enrol") == "1";
    // The enrolment's realm, bound by the CSRF token: "" for a built-in store account.
    std::string realm = FormField(fields, "otp_local") == "1" ? std::string() : entry.realm;
    const bool remember = r.remember.value_or("") == "Y";
    std::string code = FormField(fields, "otp_code");
    if (d_.second_factor == nullptr) return Shown(true, Forbidden(), Restart(r));
    if (code.empty() || code.size() > 32) {
      return SecondFactorPage(req, r, v, realm, user_id, remember, enrol, false, 200,
                              "Enter the code.");
    }
    return http::Blocking([this, &req, r, v = std::move(v), entry, user_id = std::move(user_id),
                           code = std::move(code), enrol, remember, realm]() -> Response {
      Status checked;
      const std::string subject = oauth::TotpSubject(realm, user_id);
      if (enrol) {
        checked = d_.second_factor->Confirm(subject, code, req.remote_ip);
      } else if (auto m = d_.second_factor->Verify(subject, code, req.remote_ip); !m) {
        checked = Fail(std::move(m.error()));
      }
      if (!checked) {
        const Error& e = checked.error();
        if (e.http_status >= 500) return Shown(true, e);
        if (e.http_status == 429) {
          Response resp = SecondFactorPage(req, r, v, realm, user_id, remember, enrol, false, 429,
                                           "Too many wrong codes. Wait a few minutes, then try "
                                           "again.");
          resp.With("Retry-After", std::to_string(std::max<int64_t>(1, e.retry_after)));
          return resp;
        }
        log::Info("code.otp_failed", {{"user_id", user_id}, {"remote", req.remote_ip}});
        return SecondFactorPage(req, r, v, realm, user_id, remember, enrol, false, 200,
                                "The code is not valid.");
      }
      // Read the account again: roles as they are now, and a locked or deleted one stops here.
      auto u = entry.authenticator->Find(user_id);
      if (!u)
        return Shown(true, u.error().http_status >= 500 ? u.error() : Forbidden(), Restart(r));
      return SignedIn(req, r, v, entry, *u, remember, "pwd otp");
    });
  }

  // POST /oauth2/consent: the user's decision.
  Reply ConsentDecision(Request& req) {
    const bool browser = IsBrowser(req);
    auto fields = FormOf(req);
    if (!fields) return Shown(browser, fields.error());
    auto parsed = AuthorizationRequest::FromFields(*fields);
    if (!parsed) return Shown(browser, parsed.error());
    std::string sso = RequestCookie(req, kSsoCookie);
    if (!d_.csrf.Verify(FormField(*fields, "csrf"), ConsentPurpose(*parsed), sso)) {
      log::Warn("code.csrf_rejected", {{"form", kConsentForm}, {"remote", req.remote_ip}});
      return Shown(browser, Forbidden(), Restart(*parsed));
    }
    const bool allow = FormField(*fields, "decision") == "allow";
    if (d_.authorization.NamesPushedRequest(*parsed)) {
      return http::Blocking(
          [this, browser, q = std::move(*parsed), sso = std::move(sso), allow]() -> Response {
            auto resolved = d_.authorization.ResolvePushed(q, /*continuing=*/true);
            if (!resolved) return Shown(browser, resolved.error());
            return RunNow(ConsentParsed(browser, Reference(q, *resolved), *resolved, sso, allow));
          });
    }
    return ConsentParsed(browser, *parsed, *parsed, sso, allow);
  }

  Reply ConsentParsed(bool browser, const AuthorizationRequest& shown,
                      const AuthorizationRequest& effective, std::string sso, bool allow) {
    const AuthorizationRequest* parsed = &shown;
    auto v = d_.authorization.Validate(effective, false);
    if (!v) return Failed(browser, 303, v.error());
    auto entry = d_.authenticators.ForClient(*v->client);
    if (!entry) return Shown(browser, entry.error());
    return http::Blocking([this, r = *parsed, v = std::move(*v), entry = *entry,
                           sso = std::move(sso), allow]() -> Response {
      auto session = d_.sessions.Find(entry.realm, sso);
      if (!session) return Shown(true, session.error());
      if (!*session) return Shown(true, Forbidden(), Restart(r));
      if (!allow) {
        log::Info("code.consent_denied",
                  {{"user_id", (*session)->user_id}, {"client_id", v.client->client_id}});
        return Deliver(
            303,
            d_.authorization.ErrorAnswer(AuthorizationService::FailureFor(
                v, Error::OAuth(403, "access_denied", "The user did not allow the request."))));
      }
      auto user = entry.authenticator->Find((*session)->user_id);
      if (!user) {
        return Shown(true, user.error().http_status >= 500 ? user.error() : Forbidden(),
                     Restart(r));
      }
      // The consent token names no client: a session without "otp" (from a client that needed
      // none) gets no code for a client or user that needs a second factor by editing the form.
      if (!oauth::SecondFactor::HasOtp((*session)->amr)) {
        auto factor = FactorFor(entry, *user, *v.client);
        if (!factor) return Shown(true, factor.error());
        if (*factor != Factor::kNone) {
          log::Warn("code.consent_needs_otp",
                    {{"user_id", user->user_id}, {"client_id", v.client->client_id}});
          return Shown(true, Forbidden(), Restart(r));
        }
      }
      if (auto s = d_.consents.Grant(entry.realm, user->user_id, v.client->client_id, v.scope);
          !s) {
        return Shown(true, s.error());
      }
      log::Info("code.consent_granted", {{"user_id", user->user_id},
                                         {"client_id", v.client->client_id},
                                         {"scope", oauth::JoinScope(v.scope)}});
      oauth::SignInRecord record = oauth::SignInRecord::FromSession(**session);
      record.user_source = oauth::UserSourceOf(entry);
      return Issue(true, v, *user, (*session)->remember, record, 303);
    });
  }

  // GET /oauth2/consent: the signed-in user's connected applications.
  Reply ConsentList(Request& req) {
    std::string sso = RequestCookie(req, kSsoCookie);
    if (sso.empty()) return NotSignedIn();
    return http::Blocking([this, sso = std::move(sso)]() -> Response {
      auto who = SessionUser(sso);
      if (!who) return Shown(true, who.error());
      if (!*who) return NotSignedIn();
      auto list = d_.consents.List((*who)->realm, (*who)->user_id);
      if (!list) return Shown(true, list.error());
      std::vector<code_pages::ConsentListItem> items;
      for (auto& c : *list) {
        auto client = d_.clients.Find(c.client_id);
        std::string name = client ? client->client_name : std::string();
        items.push_back({std::move(c), std::move(name)});
      }
      return code_pages::ConsentList((*who)->user_id, items, d_.csrf.Issue(kManageForm, sso));
    });
  }

  // POST /oauth2/consent/{clientId}/revoke, from the connected-applications page.
  Reply RevokeForm(Request& req) {
    auto fields = FormOf(req);
    if (!fields) return Shown(true, fields.error());
    std::string sso = RequestCookie(req, kSsoCookie);
    if (!d_.csrf.Verify(FormField(*fields, "csrf"), kManageForm, sso)) {
      log::Warn("code.csrf_rejected", {{"form", kManageForm}, {"remote", req.remote_ip}});
      return Shown(true, Forbidden(), "../../consent");
    }
    return http::Blocking([this, sso = std::move(sso),
                           client_id = std::string(req.Param("clientId"))]() -> Response {
      auto who = SessionUser(sso);
      if (!who) return Shown(true, who.error());
      if (!*who) return NotSignedIn();
      auto revoked = d_.consents.Revoke((*who)->realm, (*who)->user_id, client_id);
      if (!revoked) return Shown(true, revoked.error());
      log::Info("code.consent_revoked", {{"user_id", (*who)->user_id}, {"client_id", client_id}});
      return Redirect(303, "../../consent");
    });
  }

  // DELETE /oauth2/consent/{clientId}, with the session cookie. A cross-site page cannot send
  // DELETE (it is not a form method, and no CORS preflight is ever granted here).
  Reply RevokeApi(Request& req) {
    std::string sso = RequestCookie(req, kSsoCookie);
    Error signed_out = Error::OAuth(403, "login_required", "No signed-in session.");
    if (sso.empty()) return JsonError(signed_out);
    return http::Blocking([this, sso = std::move(sso), signed_out,
                           client_id = std::string(req.Param("clientId"))]() -> Response {
      auto who = SessionUser(sso);
      if (!who) return JsonError(who.error());
      if (!*who) return JsonError(signed_out);
      auto revoked = d_.consents.Revoke((*who)->realm, (*who)->user_id, client_id);
      if (!revoked) return JsonError(revoked.error());
      if (!*revoked) {
        return JsonError(Error::OAuth(404, "not_found", "There is no consent for this client."));
      }
      log::Info("code.consent_revoked", {{"user_id", (*who)->user_id}, {"client_id", client_id}});
      Response r;
      r.status = 204;
      r.content_type.clear();
      return r;
    });
  }

 private:
  bool Secure(const Request& req) const { return d_.secure_cookies || req.tls; }

  // ---- The second factor (README "Second factor (TOTP)")

  enum class Factor {
    kNone,   // the password is enough
    kCode,   // the user has an active TOTP enrolment: ask for a code
    kEnrol,  // the client, the user's realm or a role requires one; the user has none: enrol
  };
  // Blocking (store).
  Result<Factor> FactorFor(const AuthenticatorRegistry::Entry& entry, const AuthenticatedUser& user,
                           const oauth::Client& client) const {
    if (d_.second_factor == nullptr) return Factor::kNone;
    // Enrolments are per realm: a directory user's is not a local namesake's; a local account
    // keeps its realm-"" enrolment at chain and upstream clients too.
    const std::string_view realm = oauth::EnrolmentRealm(entry, user);
    const bool required =
        d_.second_factor->RequiredBy(client.client_id, client.second_factor_required) ||
        d_.second_factor->RequiredFor(realm, user.roles, user.chain_member);
    auto state = d_.second_factor->StateOf(oauth::TotpSubject(realm, user.user_id));
    if (!state) return Fail(std::move(state.error()));
    if (*state == oauth::SecondFactor::State::kActive) return Factor::kCode;
    return required ? Factor::kEnrol : Factor::kNone;
  }

  // A federated sign-in ("Sign in with ...") has no second-factor step: a client or user that
  // needs one refuses it.
  static AuthorizationFailure NoSecondFactor(const ValidAuthorization& v) {
    return AuthorizationService::FailureFor(
        v, Error::OAuth(403, "access_denied",
                        "This application requires a second factor, which a sign-in through "
                        "another provider cannot give."));
  }

  // `local`: the enrolment is the built-in store account's (realm ""), not the client realm's.
  static std::string OtpPurpose(std::string_view user_id, bool local, std::string_view client_id,
                                bool enrol, bool remember) {
    return std::string(kOtpForm) + "\n" + (enrol ? "enrol" : "code") + "\n" +
           (remember ? "Y" : "N") + "\n" + (local ? "L" : "R") + "\n" + std::string(client_id) +
           "\n" + std::string(user_id);
  }

  // The second-factor page. `fresh`: the password was just checked, and an enrolment page makes
  // a new pending enrolment (secret and recovery codes shown once). Blocking when enrolling.
  Response SecondFactorPage(const Request& req, const AuthorizationRequest& r,
                            const ValidAuthorization& v, std::string_view realm,
                            const std::string& user_id, bool remember, bool enrol, bool fresh,
                            int status, std::string error) {
    totp_pages::CodeView view;
    if (enrol && fresh) {
      auto e = d_.second_factor->Enrol(oauth::TotpSubject(realm, user_id), user_id);
      if (!e) {
        // Enrolled meanwhile (another tab): ask for a code instead.
        if (e.error().http_status != 409) return Shown(true, e.error());
        enrol = false;
      } else {
        view.secret = std::string(e->secret.Reveal());
        view.otpauth_uri = std::move(e->otpauth_uri);
        view.qr_svg = std::move(e->qr_svg);
        view.recovery_codes = std::move(e->recovery_codes);
      }
    }
    view.action = Action(req) == "authorize" ? "authorize" : "code";
    view.client = v.client.get();
    view.hidden = Passthrough(r);
    view.hidden.emplace_back("remember", remember ? "Y" : "N");
    view.hidden.emplace_back("otp_user", user_id);
    if (realm.empty()) view.hidden.emplace_back("otp_local", "1");
    if (enrol) view.hidden.emplace_back("otp_enrol", "1");
    // The login cookie was checked with the password form (it is at least 32 characters).
    view.csrf = d_.otp_csrf.Issue(
        OtpPurpose(user_id, realm.empty(), r.client_id.value_or(""), enrol, remember),
        RequestCookie(req, kLoginCookie));
    view.error = std::move(error);
    view.enrol = enrol;
    view.return_to = html::CspSource(v.redirect_uri);
    return totp_pages::Code(status, view);
  }

  // Already on a pool: a continuation that would be deferred runs here and now.
  static Response RunNow(Reply r) {
    if (auto* done = std::get_if<Response>(&r)) return std::move(*done);
    return std::get<http::Deferred>(r).work();
  }

  // What the pages of a pushed request's flow carry: client_id and request_uri only (other
  // query parameters are ignored, RFC 9126 §4), each step loading the pushed request again.
  // `remember` prefills the sign-in form's checkbox.
  static AuthorizationRequest Reference(const AuthorizationRequest& query,
                                        const AuthorizationRequest& resolved) {
    AuthorizationRequest ref;
    ref.client_id = query.client_id;
    ref.request_uri = query.request_uri;
    ref.remember = query.remember.has_value() ? query.remember : resolved.remember;
    return ref;
  }

  static Result<FormFields> FormOf(const Request& req) {
    if (req.body.empty()) return FormFields{};
    if (!IsPageForm(req)) {
      return Fail(Error::Status("ERR12000", "The body must be application/x-www-form-urlencoded."));
    }
    auto fields = ParseForm(req.body);
    if (!fields) return Fail(Error::Status("ERR12000"));
    return std::move(*fields);
  }

  // A failed validation: JSON for API callers; for browsers a page until the redirect URI is
  // trusted, a redirect to the client after.
  Response Failed(bool browser, int redirect_status, const AuthorizationFailure& f) const {
    if (!browser) return JsonError(f.error);
    if (f.redirect_uri.empty()) {
      log::Info("code.request_refused", {{"code", f.error.code}, {"error", f.error.description}});
      return code_pages::ErrorPage(f.error);
    }
    return Deliver(redirect_status, d_.authorization.ErrorAnswer(f));
  }

  // "Start again": the same authorization request, from the top.
  static std::string Restart(const AuthorizationRequest& r) { return "code?" + r.ToQuery(); }

  // The consent form's token names, besides the browser (the SSO cookie), the pending request
  // it was shown for, as its hidden fields carry it (client, redirect URI, scope, state, PKCE,
  // nonce, or a pushed request's reference): a token minted on one client's consent page
  // approves neither another client nor a changed request.
  static std::string ConsentPurpose(const AuthorizationRequest& r) {
    AuthorizationRequest copy = r;
    copy.remember.reset();
    return std::string(kConsentForm) + "\n" + copy.ToQuery();
  }

  // The authorization request for hidden inputs. `remember` is left out: the form's checkbox
  // carries it (a hidden copy would repeat the parameter).
  static FormFields Passthrough(const AuthorizationRequest& r) {
    AuthorizationRequest copy = r;
    copy.remember.reset();
    return copy.ToFields();
  }

  Response NotSignedIn() const {
    return code_pages::Message(200, "You are not signed in",
                               "Sign in through an application to manage its access.");
  }

  Response LoginForm(const Request& req, const AuthorizationRequest& r, const ValidAuthorization& v,
                     int status, std::string username, std::string error) const {
    std::vector<std::string> cookies;
    std::string nonce = RequestCookie(req, kLoginCookie);
    if (nonce.size() < 32) {
      nonce = d_.random.Token(32);
      cookies.push_back(SetCookieValue(kLoginCookie, nonce, -1, "Strict", Secure(req)));
    }
    code_pages::LoginView view;
    view.action = Action(req) == "authorize" ? "authorize" : "code";
    view.client = v.client.get();
    view.hidden = Passthrough(r);
    view.csrf = d_.csrf.Issue(kLoginForm, nonce);
    // login_hint only prefills the field (OIDC Core §3.1.2.1): the user still signs in.
    if (username.empty()) username = v.login_hint.substr(0, kMaxUserId);
    view.username = std::move(username);
    view.error = std::move(error);
    view.remember = r.remember.value_or("") == "Y";
    view.return_to = html::CspSource(v.redirect_uri);
    if (auto entry = d_.authenticators.ForClient(*v.client); entry && d_.upstream != nullptr) {
      auto offered = Offered(*entry);
      view.password = offered.password;
      for (const auto* p : offered.providers) {
        FormFields q = Passthrough(r);
        if (r.remember) q.emplace_back("remember", *r.remember);
        q.emplace_back("authenticator", p->settings().name);
        q.emplace_back("csrf", d_.csrf.Issue(UpstreamPurpose(p->settings().name), nonce));
        std::string href = "upstream/start?";
        for (size_t i = 0; i < q.size(); ++i) {
          href += (i ? "&" : "") + PercentEncode(q[i].first) + "=" + PercentEncode(q[i].second);
        }
        view.upstreams.push_back({p->settings().display_name, std::move(href)});
      }
    }
    return WithCookies(code_pages::Login(status, view), cookies);
  }

  // The change page of a sign-in whose password must be replaced first (no session yet).
  Response ChangePasswordForm(const Request& req, const AuthorizationRequest& r,
                              const ValidAuthorization& v, int status, std::string username,
                              std::string error) const {
    code_pages::ChangePasswordView view;
    view.action = Action(req) == "authorize" ? "authorize" : "code";
    view.hidden = Passthrough(r);
    if (r.remember) view.hidden.emplace_back("remember", *r.remember);
    view.csrf = d_.csrf.Issue(kLoginForm, RequestCookie(req, kLoginCookie));
    view.username = std::move(username);
    view.error = std::move(error);
    view.return_to = html::CspSource(v.redirect_uri);
    return code_pages::ChangePassword(status, view);
  }

  // API callers: HTTP Basic, checked on the hash pool, then a code. A browser may hold cached
  // Basic credentials and send them with any cross-site navigation here, so they are not taken
  // as consent: a client that is not trusted needs a recorded one (the consent page, or a
  // consent given earlier), else the answer is consent_required at its redirect URI (OIDC Core
  // §3.1.2.6, RFC 6749 §4.1.2.1). code.basic_auth_implicit_consent restores light-oauth2's
  // behaviour, which had no consent at all.
  Reply BasicLogin(Request& req, ValidAuthorization v, const AuthenticatorRegistry::Entry& entry) {
    auto authz = req.Header("authorization");
    auto creds = authz ? ParseBasic(*authz) : std::nullopt;
    if (!creds) {
      return Challenge(Error::OAuth(401, "login_required",
                                    d_.spnego != nullptr
                                        ? "User credentials are required: Kerberos (Negotiate), "
                                          "HTTP Basic or the sign-in form."
                                        : "User credentials are required: HTTP Basic or the "
                                          "sign-in form."),
                       d_.spnego != nullptr);
    }
    return http::Deferred{
        http::Pool::kHash,
        [this, &req, v = std::move(v), entry, creds = std::move(*creds)]() -> Response {
          auto user =
              entry.authenticator->Login(creds.user, creds.password.Reveal(), req.remote_ip);
          if (!user) {
            if (user.error().http_status == 401) {
              return Challenge(user.error(), d_.spnego != nullptr);
            }
            return JsonError(user.error());
          }
          // HTTP Basic carries no second factor: a user or client that needs one is told to use
          // the browser form.
          auto factor = FactorFor(entry, *user, *v.client);
          if (!factor) return JsonError(factor.error());
          if (*factor != Factor::kNone) {
            log::Info("code.basic_needs_otp",
                      {{"user_id", user->user_id}, {"client_id", v.client->client_id}});
            return JsonError(Error::OAuth(403, "interaction_required",
                                          "A second factor is required: sign in with the "
                                          "browser form."));
          }
          // No session: the sign-in is now, by password (auth_time now, amr "pwd", no sid).
          oauth::SignInRecord record = d_.authorization.SignInNow();
          record.user_source = oauth::UserSourceOf(entry);
          return SignedInByHeader(v, entry.realm, *user, record);
        }};
  }

  // Authorization: Negotiate with a Kerberos ticket (RFC 4559), one round: the ticket names the
  // user, whose account and roles come from the client's authenticator; spnego.roles_from
  // replaces only the built-in user store (clients without their own authenticateClass). The
  // code records which one it was, so the token endpoint never mixes in another source.
  // From here on it is the Basic path: same consent rules, no SSO session.
  Reply NegotiateLogin(Request& req, const AuthorizationRequest& shown, ValidAuthorization v,
                       const AuthenticatorRegistry::Entry& entry, std::string token) {
    return http::Blocking(
        [this, &req, r = shown, v = std::move(v), entry, token = std::move(token)]() -> Response {
          auto id = d_.spnego->Accept(token);
          if (!id) {
            if (id.error().http_status >= 500) return JsonError(id.error());
            // The GSS-API reason (codes' text, never the token) for the operator.
            log::Warn("code.negotiate_refused",
                      {{"error", id.error().detail}, {"remote", req.remote_ip}});
            return NegotiateRefused(req, r, v, id.error());
          }
          oauth::LoginAuthenticator* accounts = entry.authenticator;
          AuthenticatorRegistry::Entry source = entry;
          if (!d_.spnego_roles_from.empty() && entry.realm.empty()) {
            auto named = d_.authenticators.ByName(d_.spnego_roles_from);
            if (!named) return JsonError(named.error());
            accounts = named->authenticator;
            source = *named;
          }
          auto user = accounts->Find(id->user_id);
          // The account must be the one the ticket names, byte for byte: a directory that
          // matches names case-insensitively (LDAP) would take ALICE@REALM for alice.
          if (user && user->user_id != id->user_id) {
            log::Warn("code.negotiate_name_mismatch",
                      {{"principal", id->principal}, {"user_id", user->user_id}});
            user = Fail(Error::OAuth(404, "access_denied", "no exact match"));
          }
          if (!user) {
            if (user.error().http_status >= 500) return JsonError(user.error());
            log::Info("code.negotiate_unknown_user",
                      {{"principal", id->principal}, {"client_id", v.client->client_id}});
            return NegotiateRefused(
                req, r, v,
                Error::OAuth(403, "access_denied", "The Kerberos user has no account here."));
          }
          // A ticket is not a second factor: a user or client that needs one signs in by form.
          // The account's realm is the directory that supplied it (spnego.roles_from), as the
          // code and token record it, so code.second_factor_realms sees that directory.
          auto factor = FactorFor(source, *user, *v.client);
          if (!factor) return JsonError(factor.error());
          if (*factor != Factor::kNone) {
            return JsonError(Error::OAuth(403, "interaction_required",
                                          "A second factor is required: sign in with the "
                                          "browser form."));
          }
          log::Info("code.negotiate_login", {{"user_id", user->user_id},
                                             {"principal", id->principal},
                                             {"client_id", v.client->client_id}});
          // No password was used: amr stays empty (RFC 8176 has no Kerberos value).
          oauth::SignInRecord record = d_.authorization.SignInNow();
          record.amr.clear();
          record.user_source = oauth::UserSourceOf(source);
          Response answer = SignedInByHeader(v, source.realm, *user, record);
          // Mutual authentication: the acceptor's answer token (RFC 4559 §5).
          if (!id->output_token.empty()) {
            answer.With("WWW-Authenticate", "Negotiate " + id->output_token);
          }
          return answer;
        });
  }

  // A refused Negotiate attempt: the JSON error with a fresh challenge, or for a browser the
  // sign-in form (status 401) with the message, so that it can still sign in with a password.
  Response NegotiateRefused(const Request& req, const AuthorizationRequest& r,
                            const ValidAuthorization& v, const Error& e) {
    if (!AcceptsHtml(req)) return Challenge(e, true);
    Response page = LoginForm(req, r, v, 401, {}, e.description);
    page.With("WWW-Authenticate", "Negotiate");
    return page;
  }

  // After an API caller's sign-in (HTTP Basic or Negotiate) of `user` of `realm` (the
  // authenticator whose account it is): consent rules, then a code. Blocking.
  Response SignedInByHeader(const ValidAuthorization& v, std::string_view realm,
                            const AuthenticatedUser& user, const oauth::SignInRecord& record) {
    if (!v.hint_subject.empty() && v.hint_subject != user.user_id) {
      return Deliver(302, d_.authorization.ErrorAnswer(AuthorizationService::FailureFor(
                              v, Error::OAuth(400, "login_required",
                                              "The credentials are not those of the user "
                                              "the id_token_hint names."))));
    }
    // prompt=consent asks the user again, which only the browser form can do.
    if (!IsFirstParty(v, d_.authorization.settings().issuer) &&
        (v.prompt_consent || !d_.authorization.settings().basic_auth_implicit_consent)) {
      bool covered = false;
      if (!v.prompt_consent) {
        auto c = d_.consents.Covers(realm, user.user_id, v.client->client_id, v.scope);
        if (!c) return JsonError(c.error());
        covered = *c;
      }
      if (!covered) {
        log::Info("code.consent_required",
                  {{"user_id", user.user_id}, {"client_id", v.client->client_id}});
        return Deliver(302, d_.authorization.ErrorAnswer(AuthorizationService::FailureFor(
                                v, Error::OAuth(400, "consent_required",
                                                "The user has not consented to this "
                                                "client; sign in with the browser form."))));
      }
    }
    return Issue(false, v, user, v.remember, record, 302);
  }

  // The sign-in form for a GET that needs a sign-in. With SPNEGO configured it is a 401 with
  // WWW-Authenticate: Negotiate: a browser set up for Kerberos answers with a ticket, any other
  // shows the form (the page is the 401's body).
  Response SignInPage(const Request& req, const AuthorizationRequest& r,
                      const ValidAuthorization& v) const {
    if (d_.spnego == nullptr) return LoginForm(req, r, v, 200, {}, {});
    Response page = LoginForm(req, r, v, 401, {}, {});
    page.With("WWW-Authenticate", "Negotiate");
    return page;
  }

  // A signed-in user: consent if needed, else a code. Blocking.
  Response Proceed(const Request& req, const AuthorizationRequest& r, const ValidAuthorization& v,
                   const AuthenticatedUser& user, const oauth::SsoSession& session,
                   const AuthenticatorRegistry::Entry& source, const std::string& sso, int status,
                   const std::vector<std::string>& cookies, std::string_view base = {}) {
    // First-party clients (IsFirstParty) need no consent; others need a remembered one that
    // covers the scope, unless prompt=consent asks again.
    bool ask = !IsFirstParty(v, d_.authorization.settings().issuer);
    if (ask && !v.prompt_consent) {
      auto covered = d_.consents.Covers(source.realm, user.user_id, v.client->client_id, v.scope);
      if (!covered) return WithCookies(Shown(true, covered.error()), cookies);
      ask = !*covered;
    }
    if (!ask) {
      oauth::SignInRecord record = oauth::SignInRecord::FromSession(session);
      record.user_source = oauth::UserSourceOf(source);
      return WithCookies(Issue(true, v, user, session.remember, record, status), cookies);
    }
    if (v.prompt_none) {
      return WithCookies(
          Failed(true, status,
                 AuthorizationService::FailureFor(
                     v, Error::OAuth(400, "consent_required", "The user has not consented."))),
          cookies);
    }
    AuthorizationRequest again = r;
    again.prompt = v.prompt_consent ? "login consent" : "login";  // keep asking for consent
    code_pages::ConsentView view;
    view.client = v.client.get();
    view.user_id = user.user_id;
    view.scope = v.scope;
    view.hidden = Passthrough(r);
    view.csrf = d_.csrf.Issue(ConsentPurpose(r), sso);
    view.switch_user_href =
        std::string(base) + (Action(req) == "authorize" ? "authorize?" : "code?") + again.ToQuery();
    view.return_to = html::CspSource(v.redirect_uri);
    view.base = std::string(base);
    return WithCookies(code_pages::Consent(view), cookies);
  }

  Response Issue(bool browser, const ValidAuthorization& v, const AuthenticatedUser& user,
                 bool remember, const oauth::SignInRecord& sign_in, int status) {
    auto code = d_.authorization.IssueCode(v, user, remember, sign_in);
    if (!code) {
      // Another flow already got a code from this pushed request: the client hears of it.
      if (code.error().oauth_error == "invalid_request_uri") {
        return Deliver(status, d_.authorization.ErrorAnswer(
                                   AuthorizationService::FailureFor(v, code.error())));
      }
      return Shown(browser, code.error());
    }
    return Deliver(status, d_.authorization.Success(v, *code));
  }

  // An answer to the client in its response mode: a redirect (query), or a page that posts it
  // to the redirect URI (form_post).
  static Response Deliver(int status, const oauth::AuthorizationAnswer& a) {
    if (a.mode == oauth::ResponseMode::kFormPost) {
      return code_pages::FormPost(a.redirect_uri, a.params);
    }
    return Redirect(status, oauth::AppendQuery(a.redirect_uri, a.params));
  }

  struct Who {
    std::string realm;
    std::string user_id;
  };
  // The user of a session cookie, in whichever realm made it. Blocking.
  Result<std::optional<Who>> SessionUser(const std::string& sso) const {
    for (const auto& realm : d_.authenticators.Realms()) {
      auto s = d_.sessions.Find(realm.realm, sso);
      if (!s) return Fail(s.error());
      if (*s) return std::optional<Who>(Who{realm.realm, (*s)->user_id});
    }
    return std::optional<Who>();
  }

  // ---- Upstream OpenID providers (README "Upstream OpenID Connect providers")
 public:
  struct OfferedUpstreams {
    std::vector<const oauth::upstream::OidcProvider*> providers;
    bool password = true;  // the entry also checks passwords
  };
  // The providers a client's authenticator offers: itself, or the oidc members of a chain.
  static OfferedUpstreams Offered(const AuthenticatorRegistry::Entry& entry) {
    OfferedUpstreams out;
    using oauth::upstream::UpstreamLogin;
    if (auto* u = dynamic_cast<const UpstreamLogin*>(entry.authenticator)) {
      out.providers.push_back(u->provider().get());
      out.password = false;
      return out;
    }
    if (auto* chain = dynamic_cast<const oauth::ChainAuthenticator*>(entry.authenticator)) {
      bool any_password = false;
      for (const auto& m : chain->members()) {
        if (auto* u = dynamic_cast<const UpstreamLogin*>(m.authenticator.get())) {
          out.providers.push_back(u->provider().get());
        } else {
          any_password = true;
        }
      }
      out.password = any_password;
    }
    return out;
  }
  static bool Offers(const AuthenticatorRegistry::Entry& entry, std::string_view name) {
    for (const auto* p : Offered(entry).providers) {
      if (p->settings().name == name) return true;
    }
    return false;
  }
  std::string_view UpstreamCookie(const Request& req) const {
    return Secure(req) ? kUpstreamHostCookie : kUpstreamCookie;
  }
  static std::string UpstreamPurpose(std::string_view name) {
    return std::string(kUpstreamForm) + "\n" + std::string(name);
  }

  // GET /oauth2/upstream/start: the sign-in page's link. Its CSRF token binds it to this
  // browser's login cookie and to the provider, so another site cannot start flows in it.
  Reply UpstreamStart(Request& req) {
    if (d_.upstream == nullptr) return Shown(true, Error::OAuth(404, "not_found", "Not found."));
    auto fields = ParseForm(req.query);
    if (!fields) return Shown(true, Error::Status("ERR12000"));
    const std::string name = FormField(*fields, "authenticator");
    auto parsed = AuthorizationRequest::FromFields(*fields);
    if (!parsed) return Shown(true, parsed.error());
    if (name.empty() || !d_.csrf.Verify(FormField(*fields, "csrf"), UpstreamPurpose(name),
                                        RequestCookie(req, kLoginCookie))) {
      log::Warn("code.csrf_rejected", {{"form", kUpstreamForm}, {"remote", req.remote_ip}});
      return Shown(true, Forbidden(), "../" + Restart(*parsed));
    }
    return http::Blocking([this, &req, name, q = std::move(*parsed)]() -> Response {
      AuthorizationRequest effective = q;
      AuthorizationRequest shown = q;
      if (d_.authorization.NamesPushedRequest(q)) {
        auto resolved = d_.authorization.ResolvePushed(q, /*continuing=*/true);
        if (!resolved) return Shown(true, resolved.error());
        effective = *resolved;
        shown = Reference(q, *resolved);
        shown.remember = q.remember;
      }
      auto v = d_.authorization.Validate(effective, false);
      if (!v) return Failed(true, 303, v.error());
      auto entry = d_.authenticators.ForClient(*v->client);
      if (!entry) return Shown(true, entry.error());
      if (!Offers(*entry, name)) return Shown(true, Forbidden(), "../" + Restart(shown));
      auto started =
          d_.upstream->Start(name, shown.ToQuery(), RequestCookie(req, UpstreamCookie(req)),
                             v->prompt_login, req.remote_ip, v->max_age);
      if (!started) return Shown(true, started.error(), "../" + Restart(shown));
      log::Info("code.upstream_start",
                {{"authenticator", name}, {"client_id", v->client->client_id}});
      Response r = Redirect(303, started->url);
      if (!started->binding_cookie.empty()) {
        std::string cookie = SetCookieValue(UpstreamCookie(req), started->binding_cookie,
                                            oauth::upstream::kFlowTtl, "Lax", Secure(req));
        if (Secure(req)) cookie += "; Path=/";
        r.With("Set-Cookie", std::move(cookie));
      }
      return r;
    });
  }

  // GET /oauth2/upstream/callback: the provider's answer. Every refusal is an error page and
  // no session; the log names the rule (never a code, token or secret).
  Reply UpstreamCallback(Request& req) {
    if (d_.upstream == nullptr) return Shown(true, Error::OAuth(404, "not_found", "Not found."));
    auto fields = ParseForm(req.query);
    if (!fields) return Shown(true, Error::Status("ERR12000"));
    std::optional<std::string> iss;
    for (const auto& [k, val] : *fields) {
      if (k == "iss") iss = val;
    }
    return http::Blocking([this, &req, f = std::move(*fields), iss]() -> Response {
      auto done =
          d_.upstream->Finish(FormField(f, "state"), FormField(f, "code"), FormField(f, "error"),
                              iss ? std::optional<std::string_view>(*iss) : std::nullopt,
                              RequestCookie(req, UpstreamCookie(req)));
      if (!done) {
        const Error& e = done.error();
        log::Warn("code.upstream_refused",
                  {{"error", e.description}, {"detail", e.detail}, {"remote", req.remote_ip}});
        return code_pages::ErrorPage(e);
      }
      auto parsed = AuthorizationRequest::Parse(done->request);
      if (!parsed) return Shown(true, parsed.error());
      AuthorizationRequest effective = *parsed;
      AuthorizationRequest shown = *parsed;
      if (d_.authorization.NamesPushedRequest(*parsed)) {
        auto resolved = d_.authorization.ResolvePushed(*parsed, /*continuing=*/true);
        if (!resolved) return Shown(true, resolved.error());
        effective = *resolved;
        shown = Reference(*parsed, *resolved);
        shown.remember = parsed->remember;
      }
      auto v = d_.authorization.Validate(effective, false);
      if (!v) return Failed(true, 303, v.error());
      // max_age / prompt=login hold at the upstream too (its auth_time).
      if (auto st = d_.upstream->CheckAuthTime(*done, v->max_age, v->prompt_login); !st) {
        log::Warn("code.upstream_refused", {{"error", st.error().description},
                                            {"detail", st.error().detail},
                                            {"remote", req.remote_ip}});
        return code_pages::ErrorPage(st.error());
      }
      auto entry = d_.authenticators.ForClient(*v->client);
      if (!entry) return Shown(true, entry.error());
      // The client's configuration may have changed since the flow started.
      if (!Offers(*entry, done->authenticator)) {
        return Shown(true, Forbidden(), "../" + Restart(shown));
      }
      const oauth::AuthenticatedUser& u = done->user;
      auto factor = FactorFor(*entry, u, *v->client);
      if (!factor) return Shown(true, factor.error());
      if (*factor != Factor::kNone) return Failed(true, 303, NoSecondFactor(*v));
      const bool remember = shown.remember.value_or("") == "Y";
      if (std::string old = RequestCookie(req, kSsoCookie); !old.empty()) {
        if (auto st = d_.sessions.Delete(entry->realm, old); !st) return Shown(true, st.error());
      }
      // amr "fed": signed in by a federated identity provider.
      // The upstream's auth_time is when the user really signed in (max_age on later requests).
      auto created = d_.sessions.Create(entry->realm, u.user_id, remember, "fed", done->auth_time);
      if (!created) return Shown(true, created.error());
      log::Info("code.login", {{"user_id", u.user_id},
                               {"client_id", v->client->client_id},
                               {"remember", remember},
                               {"amr", "fed"},
                               {"authenticator", done->authenticator}});
      std::string sso(created->cookie.Reveal());
      // The page's directory is /oauth2/upstream here: the session cookie gets the path the
      // sign-in form would have given it (/oauth2, or a proxy's prefix before it).
      std::string dir(req.path);
      for (int i = 0; i < 2; ++i)
        dir = dir.substr(0, dir.rfind('/') == std::string::npos ? 0 : dir.rfind('/'));
      std::vector<std::string> cookies = {
          SetCookieValue(kSsoCookie, sso, remember ? created->max_age : -1, "Lax", Secure(req)) +
          "; Path=" + (dir.empty() ? "/" : dir)};
      if (!v->hint_subject.empty() && v->hint_subject != u.user_id) {
        return WithCookies(Failed(true, 303,
                                  AuthorizationService::FailureFor(
                                      *v, Error::OAuth(400, "login_required",
                                                       "The user who signed in is not the one "
                                                       "the id_token_hint names."))),
                           cookies);
      }
      return Proceed(req, shown, *v, u, created->session, *entry, sso, 303, cookies, "../");
    });
  }

 private:
  CodeApiDeps& d_;
};

}  // namespace

void RegisterCodeApi(http::Router& router, CodeApiDeps& deps) {
  auto ep = std::make_shared<Endpoint>(deps);
  // /oauth2/authorize is light-oauth2's legacy authorize module (reference §12): the same.
  for (const char* path : {"/oauth2/code", "/oauth2/authorize"}) {
    router.Add("GET", path, "code", [ep](Request& r) { return ep->Authorize(r); });
    router.Add("POST", path, "code", [ep](Request& r) { return ep->SignIn(r); });
  }
  router.Add("GET", "/oauth2/upstream/start", "code",
             [ep](Request& r) { return ep->UpstreamStart(r); });
  router.Add("GET", "/oauth2/upstream/callback", "code",
             [ep](Request& r) { return ep->UpstreamCallback(r); });
  router.Add("GET", "/oauth2/consent", "code", [ep](Request& r) { return ep->ConsentList(r); });
  router.Add("POST", "/oauth2/consent", "code",
             [ep](Request& r) { return ep->ConsentDecision(r); });
  router.Add("POST", "/oauth2/consent/{clientId}/revoke", "code",
             [ep](Request& r) { return ep->RevokeForm(r); });
  router.Add("DELETE", "/oauth2/consent/{clientId}", "code",
             [ep](Request& r) { return ep->RevokeApi(r); });
}

}  // namespace portcullis::api
