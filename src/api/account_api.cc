#include "api/account_api.h"

#include <strings.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "api/code_api_pages.h"
#include "api/html.h"
#include "api/page_cookies.h"
#include "common/encoding.h"
#include "common/log.h"
#include "http/router.h"

namespace portcullis::api {
namespace {

using html::Escape;
using http::Reply;
using http::Request;
using http::Response;
using oauth::SecondFactor;

constexpr std::string_view kAccountForm = "account-security";
constexpr size_t kMaxField = 1024;

bool IsForm(const Request& req) {
  auto ct = req.Header("content-type");
  static constexpr std::string_view kForm = "application/x-www-form-urlencoded";
  return ct && ct->size() >= kForm.size() &&
         strncasecmp(ct->data(), kForm.data(), kForm.size()) == 0;
}

// What the page shows around its forms.
struct View {
  std::string user_id;
  SecondFactor::State state = SecondFactor::State::kNone;
  int64_t codes_left = 0;
  std::string csrf;
  std::string notice;  // plain text, shown as a status line
  std::string error;   // plain text, shown as an alert
};

std::string ErrorBox(const std::string& error) {
  return "<div id=\"account-error\" class=\"error\" role=\"alert\" aria-live=\"assertive\">" +
         Escape(error) + "</div>\n";
}

std::string PasswordInput(std::string_view id) {
  return "<label for=\"" + std::string(id) + "\">Password</label>\n<input type=\"password\" id=\"" +
         std::string(id) +
         "\" name=\"password\" autocomplete=\"current-password\" required maxlength=\"1024\">\n";
}

std::string CodeInput(std::string_view id, std::string_view label) {
  return "<label for=\"" + std::string(id) + "\">" + std::string(label) +
         "</label>\n<input type=\"text\" id=\"" + std::string(id) +
         "\" name=\"code\" autocomplete=\"one-time-code\" autocapitalize=\"none\" "
         "spellcheck=\"false\" required maxlength=\"32\">\n";
}

std::string FormStart(std::string_view action, const std::string& csrf) {
  return "<form method=\"post\" action=\"security\">\n" + html::Hidden("action", action) +
         html::Hidden("csrf", csrf) + "\n";
}

Response StatusPage(int status, const View& v) {
  std::string b = "<h1>Second factor</h1>\n<p class=\"muted\">Signed in as <strong>" +
                  Escape(v.user_id) + "</strong></p>\n";
  if (!v.notice.empty()) {
    b += "<p id=\"account-notice\" role=\"status\">" + Escape(v.notice) + "</p>\n";
  }
  b += ErrorBox(v.error);
  switch (v.state) {
    case SecondFactor::State::kActive:
      b += "<p id=\"totp-state\">An authenticator app is set up. Recovery codes left: <strong "
           "id=\"recovery-left\">" +
           std::to_string(v.codes_left) + "</strong>.</p>\n";
      b +=
          "<h2>New recovery codes</h2>\n<p class=\"muted\">Replaces every old recovery code.</p>\n";
      b += FormStart("recovery", v.csrf) + PasswordInput("recovery_password") +
           CodeInput("recovery_code", "Current code or recovery code") +
           "<button type=\"submit\">Make new recovery codes</button>\n</form>\n";
      b += "<h2>Remove the second factor</h2>\n";
      b += FormStart("remove", v.csrf) + PasswordInput("remove_password") +
           CodeInput("remove_code", "Current code or recovery code (to remove)") +
           "<button type=\"submit\" class=\"secondary\">Remove</button>\n</form>\n";
      break;
    case SecondFactor::State::kPending:
    case SecondFactor::State::kNone:
      b += std::string("<p id=\"totp-state\">") +
           (v.state == SecondFactor::State::kPending
                ? "Setting up an authenticator app was started but not confirmed."
                : "No second factor is set up.") +
           " Enter your password to set one up.</p>\n";
      b += FormStart("enrol", v.csrf) + PasswordInput("enrol_password") +
           "<button type=\"submit\">Set up an authenticator app</button>\n</form>\n";
      break;
  }
  return html::Render(status, {"Second factor", std::move(b), {}});
}

// The new enrolment (shown once) or, when `e` is null, the confirmation form again.
Response EnrolPage(int status, const std::string& user_id, const SecondFactor::Enrolment* e,
                   const std::string& csrf, const std::string& error) {
  std::string b =
      "<h1>Set up an authenticator app</h1>\n<p class=\"muted\">Signed in as "
      "<strong>" +
      Escape(user_id) + "</strong></p>\n";
  if (e != nullptr) {
    b += "<p>Scan the QR code with your authenticator app, or add the account with the key "
         "below (or open the link on the device that has the app), then enter the code it "
         "shows.</p>\n";
    if (!e->qr_svg.empty()) b += "<p id=\"totp-qr\">" + e->qr_svg + "</p>\n";
    b += "<p>Key: <code id=\"totp-secret\">" + Escape(e->secret.Reveal()) + "</code></p>\n";
    b += "<p><a id=\"totp-uri\" href=\"" + Escape(e->otpauth_uri) +
         "\">Open in an authenticator app</a></p>\n";
    b += "<p>Recovery codes: each one signs you in once if you lose the app. Keep them "
         "somewhere safe; they are shown only now.</p>\n<ul id=\"recovery-codes\">\n";
    for (const auto& c : e->recovery_codes) b += "<li><code>" + Escape(c) + "</code></li>\n";
    b += "</ul>\n";
  } else {
    b += "<p>Enter the code your authenticator app shows for the key you just added.</p>\n";
  }
  b += ErrorBox(error);
  b += FormStart("confirm", csrf) + CodeInput("confirm_code", "Code") +
       "<button type=\"submit\">Confirm</button>\n</form>";
  return html::Render(status, {"Set up an authenticator app", std::move(b), {}});
}

Response CodesPage(const std::string& user_id, const std::vector<std::string>& codes) {
  std::string b = "<h1>New recovery codes</h1>\n<p class=\"muted\">Signed in as <strong>" +
                  Escape(user_id) +
                  "</strong></p>\n<p>Your old recovery codes no longer work. Keep these "
                  "somewhere safe; they are shown only now.</p>\n<ul id=\"recovery-codes\">\n";
  for (const auto& c : codes) b += "<li><code>" + Escape(c) + "</code></li>\n";
  b += "</ul>\n<p><a href=\"security\">Back</a></p>";
  return html::Render(200, {"New recovery codes", std::move(b), {}});
}

Response NotSignedIn() {
  return code_pages::Message(401, "You are not signed in",
                             "Sign in through an application first, then come back to this page.");
}

class Account {
 public:
  explicit Account(CodeApiDeps& d) : d_(d) {}

  Reply Show(Request& req) {
    std::string sso = RequestCookie(req, kSsoCookieName);
    if (sso.empty()) return NotSignedIn();
    return http::Blocking([this, sso = std::move(sso)]() -> Response {
      auto who = Who(sso);
      if (!who) return Failed(who.error());
      if (!*who) return NotSignedIn();
      return Page(200, **who, sso, {}, {});
    });
  }

  Reply Post(Request& req) {
    if (!IsForm(req)) return Failed(Error::Status("ERR12000"));
    auto fields = ParseForm(req.body);
    if (!fields) return Failed(Error::Status("ERR12000"));
    std::string sso = RequestCookie(req, kSsoCookieName);
    if (sso.empty()) return NotSignedIn();
    if (!d_.csrf.Verify(FormField(*fields, "csrf"), kAccountForm, sso)) {
      log::Warn("account.csrf_rejected", {{"remote", req.remote_ip}});
      return code_pages::ErrorPage(Error::OAuth(
          403, "access_denied", "The form could not be verified (missing or invalid CSRF token)."));
    }
    std::string action = FormField(*fields, "action");
    Secret password(FormField(*fields, "password"));
    std::string code = FormField(*fields, "code");
    if (password.Reveal().size() > kMaxField || code.size() > 32) {
      return Failed(Error::OAuth(400, "invalid_request", "A field is too long."));
    }
    if (action != "enrol" && action != "confirm" && action != "recovery" && action != "remove") {
      return Failed(Error::OAuth(400, "invalid_request", "Unknown action."));
    }
    // Password checks (argon2id) run on the hash pool, with the store calls after them.
    return http::Deferred{
        http::Pool::kHash,
        [this, ip = req.remote_ip, sso = std::move(sso), action = std::move(action),
         password = std::move(password), code = std::move(code)]() -> Response {
          auto who = Who(sso);
          if (!who) return Failed(who.error());
          if (!*who) return NotSignedIn();
          const Signed& user = **who;
          if (action == "confirm") return Confirm(user, sso, code, ip);
          // Every other action needs the password again: a session alone changes nothing.
          if (password.empty()) return Page(200, user, sso, {}, "Enter your password.");
          auto checked = user.entry.authenticator->Login(user.user_id, password.Reveal(), ip);
          if (!checked) {
            const Error& e = checked.error();
            if (e.http_status >= 500) return Failed(e);
            if (e.http_status == 429) {
              Response r = Page(429, user, sso, {},
                                "Too many failed attempts. Wait a few minutes, then try again.");
              r.With("Retry-After", std::to_string(std::max<int64_t>(1, e.retry_after)));
              return r;
            }
            log::Info("account.password_refused", {{"user_id", user.user_id}, {"remote", ip}});
            return Page(200, user, sso, {}, "The password is incorrect.");
          }
          if (action == "enrol") return Enrol(user, sso);
          // Recovery codes and removal need a current code as well (a TOTP or recovery code),
          // so that the password alone never weakens or removes the factor.
          if (code.empty()) return Page(200, user, sso, {}, "Enter a current code.");
          if (auto m = d_.second_factor->Verify(user.subject, code, ip); !m) {
            return CodeRefused(m.error(), user, sso);
          }
          if (action == "recovery") {
            auto codes = d_.second_factor->RegenerateRecoveryCodes(user.subject);
            if (!codes) {
              if (codes.error().http_status >= 500) return Failed(codes.error());
              return Page(200, user, sso, {}, codes.error().description);
            }
            log::Info("account.recovery_codes_replaced", {{"user_id", user.subject}});
            return CodesPage(user.user_id, *codes);
          }
          auto gone = d_.second_factor->Disable(user.subject);
          if (!gone) return Failed(gone.error());
          log::Info("account.totp_removed", {{"user_id", user.subject}});
          return Page(200, user, sso, "The second factor was removed.", {});
        }};
  }

 private:
  struct Signed {
    oauth::AuthenticatorRegistry::Entry entry;
    std::string user_id;
    std::string subject;  // the enrolment key: oauth::TotpSubject(realm, user_id)
  };

  // The user of the session cookie, in whichever realm made it. Blocking.
  Result<std::optional<Signed>> Who(const std::string& sso) const {
    for (const auto& realm : d_.authenticators.Realms()) {
      auto s = d_.sessions.Find(realm.realm, sso);
      if (!s) return Fail(s.error());
      if (*s) {
        return std::optional<Signed>(
            Signed{realm, (*s)->user_id, oauth::TotpSubject(realm.realm, (*s)->user_id)});
      }
    }
    return std::optional<Signed>();
  }

  Response Page(int status, const Signed& user, const std::string& sso, std::string notice,
                std::string error) {
    View v;
    v.user_id = user.user_id;
    auto state = d_.second_factor->StateOf(user.subject);
    if (!state) return Failed(state.error());
    v.state = *state;
    auto left = d_.second_factor->RecoveryCodesLeft(user.subject);
    if (!left) return Failed(left.error());
    v.codes_left = *left;
    v.csrf = d_.csrf.Issue(kAccountForm, sso);
    v.notice = std::move(notice);
    v.error = std::move(error);
    return StatusPage(status, v);
  }

  Response Enrol(const Signed& user, const std::string& sso) {
    auto e = d_.second_factor->Enrol(user.subject, user.user_id);
    if (!e) {
      if (e.error().http_status == 409) {
        return Page(200, user, sso, {}, "An authenticator app is already set up.");
      }
      return Failed(e.error());
    }
    log::Info("account.totp_enrol", {{"user_id", user.subject}});
    return EnrolPage(200, user.user_id, &*e, d_.csrf.Issue(kAccountForm, sso), {});
  }

  Response Confirm(const Signed& user, const std::string& sso, const std::string& code,
                   const std::string& ip) {
    if (code.empty())
      return EnrolPage(200, user.user_id, nullptr, d_.csrf.Issue(kAccountForm, sso),
                       "Enter the code.");
    if (auto s = d_.second_factor->Confirm(user.subject, code, ip); !s) {
      const Error& e = s.error();
      if (e.http_status >= 500) return Failed(e);
      auto page = EnrolPage(
          e.http_status == 429 ? 429 : 200, user.user_id, nullptr, d_.csrf.Issue(kAccountForm, sso),
          e.http_status == 429 ? "Too many wrong codes. Wait a few minutes, then try again."
                               : "The code is not valid.");
      if (e.http_status == 429) {
        page.With("Retry-After", std::to_string(std::max<int64_t>(1, e.retry_after)));
      }
      return page;
    }
    log::Info("account.totp_confirmed", {{"user_id", user.subject}});
    return Page(200, user, sso, "The second factor is on.", {});
  }

  Response CodeRefused(const Error& e, const Signed& user, const std::string& sso) {
    if (e.http_status >= 500) return Failed(e);
    if (e.http_status == 429) {
      Response r = Page(429, user, sso, {},
                        "Too many wrong codes. Wait a few minutes, then try "
                        "again.");
      r.With("Retry-After", std::to_string(std::max<int64_t>(1, e.retry_after)));
      return r;
    }
    return Page(200, user, sso, {}, "The code is not valid.");
  }

  static Response Failed(const Error& e) {
    if (e.http_status >= 500) log::Error("account.failed", {{"detail", e.detail}});
    return code_pages::ErrorPage(e);
  }

  CodeApiDeps& d_;
};

}  // namespace

void RegisterAccountSecurityApi(http::Router& router, CodeApiDeps& deps) {
  if (deps.second_factor == nullptr) return;
  auto a = std::make_shared<Account>(deps);
  router.Add("GET", "/oauth2/account/security", "code", [a](Request& r) { return a->Show(r); });
  router.Add("POST", "/oauth2/account/security", "code", [a](Request& r) { return a->Post(r); });
}

}  // namespace portcullis::api
