#include "api/device_api.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/client_form.h"
#include "api/code_api_pages.h"
#include "api/html.h"
#include "api/page_cookies.h"
#include "common/encoding.h"
#include "common/log.h"
#include "http/message.h"
#include "http/router.h"
#include "oauth/client/client_catalog.h"
#include "oauth/code/scope_text.h"
#include "oauth/token/params.h"

namespace portcullis::api {
namespace {

using html::Escape;
using http::Reply;
using http::Request;
using http::Response;

// CSRF purposes of the verification page's forms.
constexpr std::string_view kCodeForm = "device";
constexpr std::string_view kLoginForm = "device_login";
constexpr std::string_view kDecisionForm = "device_consent";

constexpr size_t kMaxUserId = 256;

Response WithCookies(Response r, const std::vector<std::string>& cookies) {
  for (const auto& c : cookies) r.With("Set-Cookie", c);
  return r;
}

// ---- The verification page (code service)

class Verification {
 public:
  Verification(CodeApiDeps& d, oauth::DeviceVerification& v) : d_(d), v_(v) {}

  // GET /oauth2/device
  Reply Page(Request& req) {
    auto q = ParseForm(req.query);
    if (!q) return code_pages::ErrorPage(Error::OAuth(400, "invalid_request", "Malformed query."));
    std::string code = FormField(*q, "user_code");
    if (code.size() > 64) code.clear();
    return CodeForm(req, 200, code, {}, !code.empty());
  }

  // POST /oauth2/device
  Reply Post(Request& req) {
    if (!req.body.empty() && !IsFormBody(req)) {
      return code_pages::ErrorPage(Error::OAuth(
          400, "invalid_request", "The form must be application/x-www-form-urlencoded."));
    }
    auto parsed = ParseForm(req.body);
    if (!parsed)
      return code_pages::ErrorPage(Error::OAuth(400, "invalid_request", "Malformed form."));
    FormFields fields = std::move(*parsed);
    const std::string step = FormField(fields, "step");
    const std::string code = FormField(fields, "user_code");
    if (step == "code") {
      if (!d_.csrf.Verify(FormField(fields, "csrf"), kCodeForm,
                          RequestCookie(req, kLoginCookieName))) {
        return Forbidden(req);
      }
      return http::Blocking([this, &req, code]() -> Response { return AfterCode(req, code); });
    }
    if (step == "login") {
      if (!d_.csrf.Verify(FormField(fields, "csrf"), kLoginForm,
                          RequestCookie(req, kLoginCookieName))) {
        return Forbidden(req);
      }
      return SignIn(req, code, FormField(fields, "j_username"),
                    Secret(FormField(fields, "j_password")), FormField(fields, "remember") == "Y");
    }
    if (step == "decide") {
      std::string sso = RequestCookie(req, kSsoCookieName);
      if (!d_.csrf.Verify(FormField(fields, "csrf"), kDecisionForm, sso)) return Forbidden(req);
      const bool allow = FormField(fields, "decision") == "allow";
      return http::Blocking([this, &req, code, sso = std::move(sso), allow]() -> Response {
        return Decide(req, code, sso, allow);
      });
    }
    return code_pages::ErrorPage(Error::OAuth(400, "invalid_request", "Unknown form step."),
                                 "device");
  }

 private:
  bool Secure(const Request& req) const { return d_.secure_cookies || req.tls; }

  Response Forbidden(const Request& req) const {
    log::Warn("device.csrf_rejected", {{"remote", req.remote_ip}});
    return code_pages::ErrorPage(
        Error::OAuth(403, "access_denied",
                     "The form could not be verified (missing or invalid CSRF token)."),
        "device");
  }

  // The login cookie's nonce, made when the browser has none yet (then also in `cookies`).
  std::string LoginNonce(const Request& req, std::vector<std::string>& cookies) const {
    std::string nonce = RequestCookie(req, kLoginCookieName);
    if (nonce.size() < 32) {
      nonce = d_.random.Token(32);
      cookies.push_back(SetCookieValue(kLoginCookieName, nonce, -1, "Strict", Secure(req)));
    }
    return nonce;
  }

  // "Enter the code shown on your device." `prefilled`: the code came from the link, so the
  // page asks the user to compare it with the device before continuing (RFC 8628 §5.4).
  Response CodeForm(const Request& req, int status, std::string_view code, std::string error,
                    bool prefilled = false) const {
    std::vector<std::string> cookies;
    std::string nonce = LoginNonce(req, cookies);
    const bool failed = !error.empty();
    std::string b;
    b += "<h1>Connect a device</h1>\n";
    b += prefilled ? "<p>Check that this code is the one shown on your device, then continue. If "
                     "you did not start this on a device of your own, stop here.</p>\n"
                   : "<p>Enter the code shown on your device.</p>\n";
    b += "<form method=\"post\" action=\"device\">\n";
    b +=
        html::Hidden("step", "code") + html::Hidden("csrf", d_.csrf.Issue(kCodeForm, nonce)) + "\n";
    b += "<div id=\"code-error\" class=\"error\" role=\"alert\" aria-live=\"assertive\">" +
         Escape(error) + "</div>\n";
    b += std::string(
             "<label for=\"user_code\">Code</label>\n"
             "<input type=\"text\" id=\"user_code\" name=\"user_code\" "
             "autocomplete=\"off\" autocapitalize=\"characters\" spellcheck=\"false\" "
             "required maxlength=\"64\" autofocus") +
         (failed ? " aria-invalid=\"true\" aria-describedby=\"code-error\"" : "") + " value=\"" +
         Escape(code) + "\">\n";
    b += "<button type=\"submit\">Continue</button>\n</form>";
    return WithCookies(html::Render(status, {"Connect a device", std::move(b), {}}), cookies);
  }

  Response TooMany(const Error& e) const {
    Response r = code_pages::Message(429, "Too many attempts",
                                     "Too many wrong codes were entered. Wait " +
                                         std::to_string(e.retry_after) +
                                         " seconds, then enter the code again.");
    r.With("Retry-After", std::to_string(std::max<int64_t>(1, e.retry_after)));
    return r;
  }

  // A code that did not lead anywhere: the code form again, or 429.
  Response CodeRefused(const Request& req, std::string_view code, const Error& e) const {
    if (e.http_status == 429) return TooMany(e);
    if (e.http_status >= 500) {
      log::Error("device.failed", {{"error", e.detail.empty() ? e.description : e.detail}});
      return code_pages::ErrorPage(e, "device");
    }
    // Echoed back for correction, but never more than a code's worth of it.
    return CodeForm(req, 400, code.substr(0, 64), e.description);
  }

  struct Found {
    oauth::DeviceGrant grant;
    std::shared_ptr<const oauth::Client> client;
    oauth::AuthenticatorRegistry::Entry entry;
    std::string shown;  // the user code as XXXX-XXXX
  };
  // The pending grant behind `code`, its client and the client's authenticator. Blocking.
  Result<Found> Lookup(const Request& req, std::string_view code) const {
    auto g = v_.Find(code, req.remote_ip);
    if (!g) return Fail(g.error());
    auto client = d_.clients.Find(g->client_id);
    if (!client) {
      return Fail(Error::OAuth(400, "invalid_grant", "The device's application is not known."));
    }
    auto entry = d_.authenticators.ForClient(*client);
    if (!entry) return Fail(entry.error());
    std::string shown = oauth::FormatUserCode(oauth::NormalizeUserCode(code).value_or(""));
    return Found{std::move(*g), std::move(client), *entry, std::move(shown)};
  }

  // After the code form. Blocking.
  Response AfterCode(const Request& req, const std::string& code) {
    auto f = Lookup(req, code);
    if (!f) return CodeRefused(req, code, f.error());
    std::string sso = RequestCookie(req, kSsoCookieName);
    if (!sso.empty()) {
      auto session = d_.sessions.Find(f->entry.realm, sso);
      if (!session) return code_pages::ErrorPage(session.error());
      if (*session) {
        auto user = f->entry.authenticator->Find((*session)->user_id);
        if (user) {
          auto otp = OtpMissing(*f, *user, (*session)->amr);
          if (!otp) return code_pages::ErrorPage(otp.error());
          if (*otp) return LoginForm(req, *f, 200, {}, kOtpMessage);
          return Consent(*f, user->user_id, sso, {});
        }
        if (user.error().http_status >= 500) return code_pages::ErrorPage(user.error());
      }
    }
    return LoginForm(req, *f, 200, {}, {});
  }

  // A sign-in without "otp" in its amr, for a user or client that needs a second factor
  // (README "Second factor (TOTP)"). Blocking.
  Result<bool> OtpMissing(const Found& f, const oauth::AuthenticatedUser& user,
                          std::string_view amr) const {
    if (d_.second_factor == nullptr || oauth::SecondFactor::HasOtp(amr)) return false;
    // Every realm's users can enrol; the enrolment key names the realm ("" for a built-in store
    // account, also at a chain's client).
    return d_.second_factor->NeededFor(oauth::EnrolmentRealm(f.entry, user), user.user_id,
                                       user.roles, f.client->client_id,
                                       f.client->second_factor_required, user.chain_member);
  }
  static constexpr const char* kOtpMessage =
      "This account needs a second factor, which this page cannot ask for. Sign in to an "
      "application with it in this browser first, then enter the device code again.";

  Response LoginForm(const Request& req, const Found& f, int status, std::string username,
                     std::string error) const {
    std::vector<std::string> cookies;
    std::string nonce = LoginNonce(req, cookies);
    code_pages::LoginView view;
    view.action = "device";
    view.client = f.client.get();
    view.hidden = {{"step", "login"}, {"user_code", f.shown}};
    view.csrf = d_.csrf.Issue(kLoginForm, nonce);
    view.username = std::move(username);
    view.error = std::move(error);
    return WithCookies(code_pages::Login(status, view), cookies);
  }

  Response Consent(const Found& f, const std::string& user_id, const std::string& sso,
                   const std::vector<std::string>& cookies) const {
    const std::string name =
        Escape(f.client->client_name.empty() ? f.client->client_id : f.client->client_name);
    std::string b;
    b += "<h1>Connect " + name + "?</h1>\n";
    b += "<p class=\"muted\">Signed in as <strong>" + Escape(user_id) + "</strong>.</p>\n";
    b += "<p>Only allow this if your device shows the code <strong>" + Escape(f.shown) +
         "</strong> and you started the sign-in on it yourself. If someone sent you this code "
         "or link, deny.</p>\n";
    std::vector<std::string> scope = oauth::SplitScope(f.grant.scope);
    if (scope.empty()) {
      b += "<p>It asks to know that you signed in, and for nothing else.</p>\n";
    } else {
      b += "<p>If you allow it, " + name + " will be able to:</p>\n<ul>\n";
      for (const auto& s : scope) {
        b += "<li>" + Escape(oauth::DescribeScope(s)) + " <code>" + Escape(s) + "</code></li>\n";
      }
      b += "</ul>\n";
    }
    b += "<form method=\"post\" action=\"device\">\n";
    b += html::Hidden("step", "decide") + html::Hidden("user_code", f.shown) +
         html::Hidden("csrf", d_.csrf.Issue(kDecisionForm, sso)) + "\n";
    // Deny first: it is the form's default button, so Enter does not approve (as on the
    // authorization endpoint's consent page).
    b += "<div class=\"actions\"><button type=\"submit\" name=\"decision\" value=\"deny\" "
         "class=\"secondary\">Deny</button>"
         "<button type=\"submit\" name=\"decision\" value=\"allow\">Allow</button></div>\n"
         "</form>";
    return WithCookies(html::Render(200, {"Connect a device", std::move(b), {}}), cookies);
  }

  // POST step=login: the password on the hash pool, then the consent page.
  Reply SignIn(Request& req, std::string code, std::string user, Secret password, bool remember) {
    return http::Deferred{
        http::Pool::kHash,
        [this, &req, code = std::move(code), user = std::move(user), password = std::move(password),
         remember]() -> Response {
          auto f = Lookup(req, code);
          if (!f) return CodeRefused(req, code, f.error());
          if (user.empty() || password.empty()) {
            return LoginForm(req, *f, 200, user, "Enter your user name and password.");
          }
          if (user.size() > kMaxUserId) {
            return LoginForm(req, *f, 200, {}, "The user name or password is incorrect.");
          }
          auto u = f->entry.authenticator->Login(user, password.Reveal(), req.remote_ip);
          if (!u) {
            const int status = u.error().http_status;
            if (status == 429) {
              Response r = LoginForm(req, *f, 429, user,
                                     "Too many failed attempts. Wait a few minutes, then try "
                                     "again.");
              r.With("Retry-After", std::to_string(std::max<int64_t>(1, u.error().retry_after)));
              return r;
            }
            if (status >= 500) return code_pages::ErrorPage(u.error());
            return LoginForm(req, *f, 200, user, "The user name or password is incorrect.");
          }
          // This page asks for no second factor: a user who needs one signs in elsewhere.
          auto otp = OtpMissing(*f, *u, "pwd");
          if (!otp) return code_pages::ErrorPage(otp.error());
          if (*otp) return LoginForm(req, *f, 200, user, kOtpMessage);
          // A new session on every sign-in (session fixation), as the authorization endpoint.
          if (std::string old = RequestCookie(req, kSsoCookieName); !old.empty()) {
            if (auto s = d_.sessions.Delete(f->entry.realm, old); !s) {
              return code_pages::ErrorPage(s.error());
            }
          }
          auto created = d_.sessions.Create(f->entry.realm, u->user_id, remember);
          if (!created) return code_pages::ErrorPage(created.error());
          log::Info("device.login", {{"user_id", u->user_id}, {"client_id", f->client->client_id}});
          std::string sso(created->cookie.Reveal());
          std::string cookie = SetCookieValue(kSsoCookieName, sso, remember ? created->max_age : -1,
                                              "Lax", Secure(req));
          return Consent(*f, u->user_id, sso, {cookie});
        }};
  }

  // POST step=decide. Blocking.
  Response Decide(const Request& req, const std::string& code, const std::string& sso, bool allow) {
    auto f = Lookup(req, code);
    if (!f) return CodeRefused(req, code, f.error());
    auto session = d_.sessions.Find(f->entry.realm, sso);
    if (!session) return code_pages::ErrorPage(session.error());
    if (!*session) return LoginForm(req, *f, 200, {}, "Your sign-in has ended. Sign in again.");
    oauth::DeviceApproval who;
    if (allow) {
      // The account as it is now: current roles, and a deleted account approves nothing.
      auto user = f->entry.authenticator->Find((*session)->user_id);
      if (!user) {
        if (user.error().http_status >= 500) return code_pages::ErrorPage(user.error());
        return LoginForm(req, *f, 200, {}, "Sign in again.");
      }
      auto otp = OtpMissing(*f, *user, (*session)->amr);
      if (!otp) return code_pages::ErrorPage(otp.error());
      if (*otp) return LoginForm(req, *f, 200, {}, kOtpMessage);
      who = {user->user_id,   user->user_type,
             user->roles,     (*session)->created_at,
             (*session)->sid, (*session)->amr.empty() ? "pwd" : (*session)->amr,
             (*session)->acr, oauth::UserSourceOf(f->entry)};
    } else {
      who.user_id = (*session)->user_id;
    }
    auto won = v_.Decide(f->grant, allow, who);
    if (!won) return code_pages::ErrorPage(won.error());
    if (!*won) {
      return CodeForm(req, 400, code, "That code was already used or has expired.");
    }
    if (!allow) {
      return code_pages::Message(200, "Request denied",
                                 "The device was not connected. You can close this page.");
    }
    return code_pages::Message(200, "Device connected",
                               "You can return to your device: it continues on its own.");
  }

  CodeApiDeps& d_;
  oauth::DeviceVerification& v_;
};

}  // namespace

void RegisterDeviceAuthorizationApi(http::Router& router,
                                    oauth::DeviceAuthorizationService& devices) {
  router.Add("POST", "/oauth2/device_authorization", "token", [&devices](Request& req) -> Reply {
    if (!req.body.empty() && !IsFormBody(req)) {
      return ClientFormError(
          Error::Status("ERR12000", "The body must be application/x-www-form-urlencoded."));
    }
    auto params = oauth::Params::FromForm(req.body);
    if (!params) return ClientFormError(params.error());
    return http::Blocking([&devices, &req, p = std::move(*params)] {
      auto r = devices.Authorize(p, req.Header("authorization"), ClientCertificateOf(req));
      if (!r) return ClientFormError(r.error());
      Response out = Response::Json(200, r->ToJson());
      out.With("Cache-Control", "no-store").With("Pragma", "no-cache");
      return out;
    });
  });
}

void RegisterDeviceVerificationApi(http::Router& router, CodeApiDeps& code,
                                   oauth::DeviceVerification& verification) {
  auto ep = std::make_shared<Verification>(code, verification);
  router.Add("GET", "/oauth2/device", "code", [ep](Request& r) { return ep->Page(r); });
  router.Add("POST", "/oauth2/device", "code", [ep](Request& r) { return ep->Post(r); });
}

}  // namespace portcullis::api
