#include "api/logout_api.h"

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/code_api_pages.h"
#include "api/html.h"
#include "api/page_cookies.h"
#include "common/encoding.h"
#include "common/log.h"
#include "http/message.h"
#include "http/router.h"
#include "store/db.h"

namespace portcullis::api {
namespace {

using code_pages::Redirect;
using http::Reply;
using http::Request;
using http::Response;
using oauth::EndSessionRequest;
using oauth::EndSessionTarget;

// The code service's session cookie (api/page_cookies.h) and this form's CSRF purpose.
constexpr std::string_view kSsoCookie = kSsoCookieName;
constexpr std::string_view kLogoutForm = "logout";

bool Has(const FormFields& fields, std::string_view name) {
  for (const auto& [k, v] : fields) {
    if (k == name) return true;
  }
  return false;
}

Response Page(const Error& e) {
  if (e.http_status >= 500) {
    log::Error("logout.failed", {{"error", e.detail.empty() ? e.description : e.detail}});
  }
  return code_pages::ErrorPage(e);
}

class Endpoint {
 public:
  explicit Endpoint(LogoutApiDeps d) : d_(d) {}

  // GET /oauth2/logout
  Reply Get(Request& req) {
    auto fields = ParseForm(req.query);
    if (!fields) return Page(Error::OAuth(400, "invalid_request", "Malformed query."));
    return Start(req, *fields, 302);
  }

  // POST /oauth2/logout: an end-session request, or the confirmation form.
  Reply Post(Request& req) {
    FormFields fields;
    if (!req.body.empty()) {
      if (!IsPageForm(req)) {
        return Page(
            Error::Status("ERR12000", "The body must be application/x-www-form-urlencoded."));
      }
      auto parsed = ParseForm(req.body);
      if (!parsed) return Page(Error::Status("ERR12000"));
      fields = std::move(*parsed);
    }
    const bool request =
        !Has(fields, "csrf") && (Has(fields, "id_token_hint") || Has(fields, "client_id") ||
                                 Has(fields, "post_logout_redirect_uri") || Has(fields, "state"));
    if (request) return Start(req, fields, 303);
    return Confirmed(req, fields);
  }

 private:
  // An end-session request: resolve it, then ask (or sign out at once, see logout_api.h).
  Reply Start(const Request& req, const FormFields& fields, int status) {
    auto r = EndSessionRequest::FromFields(fields);
    if (!r) return Page(r.error());
    auto target = d_.end_session.Resolve(*r);
    if (!target) {
      log::Info("logout.refused", {{"error", target.error().description}});
      return Page(target.error());
    }
    std::string sso = RequestCookie(req, kSsoCookie);
    if (sso.empty()) return SignedOut(*target, status, {});
    return http::Blocking([this, r = std::move(*r), t = std::move(*target), sso = std::move(sso),
                           secure = Secure(req), status]() -> Response {
      auto current = Current(sso);
      if (!current) return Page(current.error());
      if (current->empty()) return SignedOut(t, status, {ClearSso(secure)});
      // §2: no need to ask when the hint shows this RP was in this very session of this user.
      const auto& first = current->front();
      if (t.hint && !t.hint->sid.empty() && t.hint->sid == first.session.sid &&
          t.hint->sub == first.session.user_id) {
        return SignOut(*current, sso, t, status, secure);
      }
      code_pages::LogoutView view{r.ToFields(), d_.code.csrf.Issue(kLogoutForm, sso),
                                  first.session.user_id, html::CspSource(t.redirect)};
      return code_pages::LogoutConfirm(view);
    });
  }

  // The confirmation form.
  Reply Confirmed(const Request& req, const FormFields& fields) {
    std::string sso = RequestCookie(req, kSsoCookie);
    auto r = EndSessionRequest::FromFields(fields);
    if (!r) return Page(r.error());
    auto target = d_.end_session.Resolve(*r);
    if (!target) return Page(target.error());
    if (sso.empty()) return SignedOut(*target, 303, {});
    if (!d_.code.csrf.Verify(FormField(fields, "csrf"), kLogoutForm, sso)) {
      log::Warn("code.csrf_rejected", {{"form", kLogoutForm}, {"remote", req.remote_ip}});
      return code_pages::ErrorPage(
          Error::OAuth(403, "access_denied",
                       "The form could not be verified (missing or invalid CSRF token)."),
          "logout");
    }
    return http::Blocking(
        [this, t = std::move(*target), sso = std::move(sso), secure = Secure(req)]() -> Response {
          auto current = Current(sso);
          if (!current) return Page(current.error());
          return SignOut(*current, sso, t, 303, secure);
        });
  }

  struct Found {
    std::string realm;
    oauth::SsoSession session;
  };
  // The browser's sessions under its cookie, in whichever realms know it. Blocking.
  Result<std::vector<Found>> Current(const std::string& sso) const {
    std::vector<Found> out;
    for (const auto& realm : d_.code.authenticators.Realms()) {
      auto s = d_.code.sessions.Find(realm.realm, sso);
      if (!s) return Fail(s.error());
      if (*s) out.push_back({realm.realm, std::move(**s)});
    }
    return out;
  }

  // Ends the sessions and queues the back-channel logout tokens, in one transaction. Blocking.
  Response SignOut(const std::vector<Found>& current, const std::string& sso,
                   const EndSessionTarget& t, int status, bool secure) {
    int queued = 0;
    auto st = d_.db.Transact("logout", [&](store::Tx& tx) -> Status {
      queued = 0;
      for (const auto& f : current) {
        auto n = d_.backchannel.EndSession(tx, f.session.sid);
        if (!n) return Fail(std::move(n.error()));
        queued += *n;
        auto key = oauth::SsoSessions::Key(f.realm, sso);
        if (auto s = d_.session_store.DeleteIn(tx, key); !s) return s;
      }
      return {};
    });
    if (!st) return Page(st.error());
    for (const auto& f : current) {
      log::Info(
          "code.logout",
          {{"user_id", f.session.user_id}, {"client_id", t.client_id}, {"backchannel", queued}});
    }
    return SignedOut(t, status, {ClearSso(secure)});
  }

  Response SignedOut(const EndSessionTarget& t, int status,
                     const std::vector<std::string>& cookies) const {
    Response r =
        t.redirect.empty() ? code_pages::SignedOut() : Redirect(status, t.RedirectLocation());
    for (const auto& c : cookies) r.With("Set-Cookie", c);
    return r;
  }

  bool Secure(const Request& req) const { return d_.code.secure_cookies || req.tls; }

  static std::string ClearSso(bool secure) {
    return SetCookieValue(kSsoCookie, "", 0, "Lax", secure);
  }

  LogoutApiDeps d_;
};

}  // namespace

void RegisterLogoutApi(http::Router& router, LogoutApiDeps deps) {
  auto ep = std::make_shared<Endpoint>(deps);
  router.Add("GET", "/oauth2/logout", "code", [ep](Request& r) { return ep->Get(r); });
  router.Add("POST", "/oauth2/logout", "code", [ep](Request& r) { return ep->Post(r); });
}

}  // namespace portcullis::api
