#include "api/console_api.h"

#include <openssl/sha.h>

#include <array>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <boost/json.hpp>

#include "api/console_assets.h"
#include "api/html.h"
#include "api/page_cookies.h"
#include "common/encoding.h"
#include "common/log.h"
#include "common/secret.h"

namespace portcullis::api {
namespace {

namespace json = boost::json;
using http::Reply;
using http::Request;
using http::Response;

constexpr std::string_view kSessionCookie = "portcullis_console";
constexpr std::string_view kLoginCookie = "portcullis_console_login";
// Additional authenticated data of the two sealed cookies: one cannot pass for the other.
constexpr std::string_view kSessionAad = "portcullis console session v1";
constexpr std::string_view kLoginAad = "portcullis console login v1";
constexpr int64_t kLoginTtl = 600;

// No inline script or style anywhere: the page loads assets/app.js and assets/app.css.
constexpr std::string_view kCsp =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

// The admin routes the console may reach, by pattern prefix (a prefix matches the pattern
// itself or the pattern followed by "/").
constexpr std::array<std::string_view, 10> kAdminPrefixes = {
    "/oauth2/client",   "/oauth2/service",       "/oauth2/user",  "/oauth2/password",
    "/oauth2/provider", "/oauth2/refresh_token", "/oauth2/audit", "/oauth2/keys/admin",
    "/oauth2/keys/",    "/oauth2/instances"};

bool IsAdminPattern(std::string_view p) {
  for (std::string_view prefix : kAdminPrefixes) {
    if (prefix.ends_with('/')) {
      if (p.starts_with(prefix)) return true;
    } else if (p == prefix || p.starts_with(std::string(prefix) + "/")) {
      return true;
    }
  }
  return false;
}

Response Secured(Response r) {
  r.With("Content-Security-Policy", std::string(kCsp));
  r.With("X-Frame-Options", "DENY");
  r.With("X-Content-Type-Options", "nosniff");
  r.With("Referrer-Policy", "no-referrer");
  r.With("Cache-Control", "no-store");
  return r;
}

Response JsonError(int status, std::string error, std::string description) {
  json::object o{{"error", std::move(error)}, {"error_description", std::move(description)}};
  return Secured(Response::Json(status, json::serialize(o)));
}

std::string CookieValue(std::string_view name, std::string_view value, int64_t max_age,
                        std::string_view same_site, bool secure) {
  std::string c(name);
  c += "=";
  c += value;
  c += "; Path=/console; Max-Age=" + std::to_string(max_age) + "; HttpOnly; SameSite=";
  c += same_site;
  if (secure) c += "; Secure";
  return c;
}

// A sealed cookie's JSON, or nullopt (absent, tampered, another key, another purpose).
std::optional<json::object> OpenSealed(std::string_view sealed, std::string_view aad,
                                       const oauth::MasterKey& master, int64_t now) {
  if (sealed.empty() || sealed.size() > 8192) return std::nullopt;
  auto plain = oauth::OpenKey(sealed, aad, master);
  if (!plain) return std::nullopt;
  boost::system::error_code ec;
  json::value v = json::parse(plain->Reveal(), ec);
  if (ec || !v.is_object()) return std::nullopt;
  const json::value* exp = v.as_object().if_contains("e");
  if (!exp || !exp->is_int64() || exp->as_int64() <= now) return std::nullopt;
  return std::move(v.as_object());
}

std::string Str(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

// Runs a handler's reply to the end on this thread (we are on a pool thread already).
Response RunInline(Reply r) {
  if (auto* resp = std::get_if<Response>(&r)) return std::move(*resp);
  return std::get<http::Deferred>(r).work();
}

// Points a hand-made request's path and query into its target.
void SetTarget(Request& r, std::string target) {
  r.target = std::move(target);
  std::string_view t = r.target;
  size_t q = t.find('?');
  r.path = t.substr(0, q);
  r.query = q == std::string_view::npos ? std::string_view{} : t.substr(q + 1);
}

std::string PkceChallenge(std::string_view verifier) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(verifier.data()), verifier.size(), digest);
  return Base64UrlEncode(std::string_view(reinterpret_cast<const char*>(digest), sizeof digest));
}

bool HasAdminScope(std::string_view scope) {
  size_t start = 0;
  while (start < scope.size()) {
    size_t sp = scope.find(' ', start);
    std::string_view s = scope.substr(start, sp == std::string_view::npos ? sp : sp - start);
    if (s.starts_with("portal.") || s.starts_with("oauth.")) return true;
    if (sp == std::string_view::npos) break;
    start = sp + 1;
  }
  return false;
}

class Console : public std::enable_shared_from_this<Console> {
 public:
  Console(http::Router& router, ConsoleSettings settings, const oauth::MasterKey& master,
          const Clock& clock, Random& random)
      : router_(router),
        settings_(std::move(settings)),
        master_(master),
        clock_(clock),
        random_(random),
        redirect_uri_(ConsoleRedirectUri(settings_.issuer)) {}

  struct Session {
    std::string token;
    std::string csrf;
    std::string user_id;
    std::string scope;
    int64_t expires_at = 0;
  };

  std::optional<Session> SessionOf(const Request& req) const {
    auto o = OpenSealed(RequestCookie(req, kSessionCookie), kSessionAad, master_, clock_.Now());
    if (!o) return std::nullopt;
    Session s{Str(*o, "t"), Str(*o, "c"), Str(*o, "u"), Str(*o, "s"), o->at("e").as_int64()};
    if (s.token.empty() || s.csrf.empty()) return std::nullopt;
    return s;
  }

  // GET /console: the page is /console/, so that its relative links work under a prefix.
  Reply Root(Request&) {
    Response r = Secured(Response::Text(308, "", "text/plain"));
    r.With("Location", "console/");
    return r;
  }

  Reply Asset(std::string_view name) {
    for (const auto& a : console_assets::All()) {
      if (a.name == name)
        return Secured(Response::Text(200, std::string(a.body), std::string(a.content_type)));
    }
    return JsonError(404, "not_found", "No such console asset.");
  }

  // GET /console/login: starts the code flow with PKCE (RFC 7636 S256).
  Reply Login(Request& req) {
    std::string state = random_.Token(24);
    std::string verifier = random_.Token(32);
    json::object o{{"st", state}, {"v", verifier}, {"e", clock_.Now() + kLoginTtl}};
    auto sealed = oauth::SealKey(Secret(json::serialize(o)), kLoginAad, master_, random_);
    if (!sealed) return Secured(http::RenderError(sealed.error()));
    std::string q = "response_type=code&client_id=" + PercentEncode(kConsoleClientId) +
                    "&redirect_uri=" + PercentEncode(redirect_uri_) +
                    "&scope=" + PercentEncode(settings_.scope) + "&state=" + PercentEncode(state) +
                    "&code_challenge=" + PercentEncode(PkceChallenge(verifier)) +
                    "&code_challenge_method=S256";
    // "Sign in as someone else" (from the refusal page): past the SSO session.
    if (req.QueryParam("switch")) q += "&prompt=login";
    Response r = Secured(Response::Text(302, "", "text/plain"));
    r.With("Location", "../oauth2/code?" + q);
    // Lax: it must come back with the top-level redirect from the sign-in pages.
    r.With("Set-Cookie",
           CookieValue(kLoginCookie, *sealed, kLoginTtl, "Lax", settings_.secure_cookies));
    return r;
  }

  Response Page(int status, const std::string& title, const std::string& text) const {
    std::string body = "<h1>" + html::Escape(title) + "</h1>\n<p>" + html::Escape(text) +
                       "</p>\n<p><a href=\"login?switch=1\">Sign in as another user</a></p>";
    Response r = html::Render(status, {title, std::move(body), {}});
    return r;
  }

  // GET /console/callback: redeems the code at the token endpoint (in process).
  Reply Callback(Request& req) {
    auto login = OpenSealed(RequestCookie(req, kLoginCookie), kLoginAad, master_, clock_.Now());
    std::string clear = CookieValue(kLoginCookie, "", 0, "Lax", settings_.secure_cookies);
    auto state = req.QueryParam("state");
    if (!login || !state || !ConstantTimeEquals(*state, Str(*login, "st"))) {
      log::Warn("console.state_mismatch", {{"remote", req.remote_ip}});
      return Page(400, "Sign-in failed",
                  "This sign-in did not start here, or took too long. Start it again.")
          .With("Set-Cookie", clear);
    }
    if (auto err = req.QueryParam("error")) {
      std::string text = "The authorization server answered " + *err;
      if (auto d = req.QueryParam("error_description")) text += ": " + *d;
      return Page(403, "Sign-in failed", text).With("Set-Cookie", clear);
    }
    auto code = req.QueryParam("code");
    if (!code || code->empty()) {
      return Page(400, "Sign-in failed", "The answer had no code.").With("Set-Cookie", clear);
    }
    return http::Blocking([self = shared_from_this(), &req, code = *code,
                           verifier = Str(*login, "v"), clear]() -> Response {
      return self->Redeem(req, code, verifier).With("Set-Cookie", clear);
    });
  }

  Response Redeem(const Request& req, const std::string& code, const std::string& verifier) {
    Request t;
    t.method = "POST";
    SetTarget(t, "/oauth2/token");
    t.headers.emplace_back("content-type", "application/x-www-form-urlencoded");
    t.headers.emplace_back("accept", "application/json");
    t.body = "grant_type=authorization_code&code=" + PercentEncode(code) +
             "&redirect_uri=" + PercentEncode(redirect_uri_) +
             "&client_id=" + PercentEncode(kConsoleClientId) +
             "&code_verifier=" + PercentEncode(verifier);
    t.remote_ip = req.remote_ip;
    t.peer_ip = req.peer_ip;
    t.tls = req.tls;
    auto m = router_.Find(t);
    if (!m.route) {
      return Page(503, "Sign-in failed",
                  "This process does not serve the token service, which the console needs.");
    }
    Response r = RunInline(m.route->handler(t));
    boost::system::error_code ec;
    json::value v = json::parse(r.body, ec);
    if (r.status != 200 || ec || !v.is_object()) {
      std::string why = !ec && v.is_object() ? Str(v.as_object(), "error_description") : "";
      log::Warn("console.token_refused", {{"status", r.status}, {"remote", req.remote_ip}});
      return Page(403, "Sign-in failed",
                  "The token endpoint refused the console" + (why.empty() ? "." : ": " + why));
    }
    const json::object& o = v.as_object();
    // The code grant always issues a refresh token (light-oauth2's behaviour). The console
    // signs in again through the SSO session instead, so none is left lying in the store.
    if (std::string refresh = Str(o, "refresh_token"); !refresh.empty()) {
      Request rv;
      rv.method = "POST";
      SetTarget(rv, "/oauth2/revoke");
      rv.headers.emplace_back("content-type", "application/x-www-form-urlencoded");
      rv.body = "token=" + PercentEncode(refresh) +
                "&token_type_hint=refresh_token&client_id=" + PercentEncode(kConsoleClientId);
      rv.remote_ip = req.remote_ip;
      rv.peer_ip = req.peer_ip;
      auto rm = router_.Find(rv);
      Response revoked =
          rm.route ? RunInline(rm.route->handler(rv)) : Response::Text(404, "", "text/plain");
      if (revoked.status != 200) {
        log::Warn("console.refresh_revoke_failed", {{"status", revoked.status}});
      }
    }
    std::string token = Str(o, "access_token");
    std::string scope = Str(o, "scope");
    int64_t ttl = 600;
    if (auto* e = o.if_contains("expires_in"); e && e->is_int64()) ttl = e->as_int64();
    // Whose token: its payload (we just received it from our own endpoint).
    std::string user_id;
    if (size_t a = token.find('.'), b = token.find('.', a + 1);
        a != std::string::npos && b != std::string::npos) {
      if (auto payload = Base64UrlDecode(std::string_view(token).substr(a + 1, b - a - 1))) {
        json::value p = json::parse(*payload, ec);
        if (!ec && p.is_object()) {
          user_id = Str(p.as_object(), "user_id");
          if (user_id.empty()) user_id = Str(p.as_object(), "sub");
        }
      }
    }
    if (token.empty() || !HasAdminScope(scope)) {
      // A user without the admin role gets a token without admin scopes: no session, no data.
      log::Info("console.refused_non_admin", {{"user_id", user_id}});
      return Page(403, "Not an administrator",
                  "You signed in as " + user_id +
                      ", who does not have the admin role. The console is only for "
                      "administrators; ask one to give you the role.");
    }
    json::object s{{"t", token},
                   {"c", random_.Token(24)},
                   {"u", user_id},
                   {"s", scope},
                   {"e", clock_.Now() + ttl}};
    auto sealed = oauth::SealKey(Secret(json::serialize(s)), kSessionAad, master_, random_);
    if (!sealed) return http::RenderError(sealed.error());
    log::Info("console.signed_in", {{"user_id", user_id}});
    Response out = Secured(Response::Text(303, "", "text/plain"));
    out.With("Location", "./");
    out.With("Set-Cookie",
             CookieValue(kSessionCookie, *sealed, ttl, "Strict", settings_.secure_cookies));
    return out;
  }

  // GET /console/session: who is signed in, and the CSRF token for state changes.
  Reply SessionInfo(Request& req) {
    auto s = SessionOf(req);
    if (!s) return JsonError(401, "login_required", "Sign in to the console.");
    json::object o{{"userId", s->user_id},
                   {"scope", s->scope},
                   {"csrf", s->csrf},
                   {"expiresAt", s->expires_at},
                   {"issuer", settings_.issuer}};
    return Secured(Response::Json(200, json::serialize(o)));
  }

  bool CsrfOk(const Request& req, const Session& s) const {
    auto h = req.Header("x-csrf-token");
    return h && ConstantTimeEquals(*h, s.csrf);
  }

  // POST /console/logout: ends the console session (the SSO session stays: /oauth2/logout).
  Reply Logout(Request& req) {
    auto s = SessionOf(req);
    if (s && !CsrfOk(req, *s)) return JsonError(403, "csrf", "The CSRF token is missing or wrong.");
    Response r = Secured(Response::Text(204, "", "text/plain"));
    r.With("Set-Cookie", CookieValue(kSessionCookie, "", 0, "Strict", settings_.secure_cookies));
    return r;
  }

  // /console/api/<rest> -> /oauth2/<rest> with the session's token.
  Reply Forward(Request& req) {
    auto s = SessionOf(req);
    if (!s) return JsonError(401, "login_required", "Sign in to the console.");
    if (req.method != "GET" && req.method != "HEAD" && !CsrfOk(req, *s)) {
      log::Warn("console.csrf_rejected",
                {{"user_id", s->user_id}, {"method", req.method}, {"remote", req.remote_ip}});
      return JsonError(403, "csrf", "The CSRF token is missing or wrong.");
    }
    constexpr std::string_view kPrefix = "/console/api";
    auto inner = std::make_shared<Request>();
    inner->method = req.method;
    SetTarget(*inner, "/oauth2" + req.target.substr(req.target.find(kPrefix) + kPrefix.size()));
    for (const auto& [k, v] : req.headers) {
      if (k == "content-type" || k == "accept" || k == "content-length") {
        inner->headers.emplace_back(k, v);
      }
    }
    inner->headers.emplace_back("authorization", "Bearer " + s->token);
    inner->body = req.body;
    inner->remote_ip = req.remote_ip;
    inner->peer_ip = req.peer_ip;
    inner->tls = req.tls;
    auto m = router_.Find(*inner);
    // The twin's pattern decided the shape; this keeps anything but an admin route out of reach
    // even if the two spaces ever matched differently.
    if (!m.route || !IsAdminPattern(m.route->pattern)) {
      return JsonError(m.route ? 404 : m.status, "not_found", "No such admin route.");
    }
    Reply reply = m.route->handler(*inner);
    if (auto* resp = std::get_if<Response>(&reply)) return Secured(std::move(*resp));
    auto d = std::get<http::Deferred>(std::move(reply));
    return http::Deferred{d.pool, [inner, work = std::move(d.work)] { return Secured(work()); }};
  }

 private:
  http::Router& router_;
  const ConsoleSettings settings_;
  const oauth::MasterKey& master_;
  const Clock& clock_;
  Random& random_;
  const std::string redirect_uri_;
};

}  // namespace

std::string ConsoleRedirectUri(const std::string& issuer) {
  std::string base = issuer;
  while (base.ends_with('/')) base.pop_back();
  return base + "/console/callback";
}

void RegisterConsoleApi(http::Router& router, ConsoleSettings settings,
                        const oauth::MasterKey& master, const Clock& clock, Random& random) {
  auto c = std::make_shared<Console>(router, std::move(settings), master, clock, random);
  // The twins first, from a copy: adding routes while walking them would move the list.
  std::vector<std::pair<std::string, std::string>> admin;
  for (const auto& r : router.routes()) {
    if (IsAdminPattern(r->pattern)) admin.emplace_back(r->method, r->pattern);
  }
  for (const auto& [method, pattern] : admin) {
    router.Add(method, "/console/api" + pattern.substr(7), "console",
               [c](Request& r) { return c->Forward(r); });
  }
  router.Add("GET", "/console", "console", [c](Request& r) { return c->Root(r); });
  router.Add("GET", "/console/", "console", [c](Request&) { return c->Asset("index.html"); });
  router.Add("GET", "/console/assets/{name}", "console",
             [c](Request& r) { return c->Asset(r.Param("name")); });
  router.Add("GET", "/console/login", "console", [c](Request& r) { return c->Login(r); });
  router.Add("GET", "/console/callback", "console", [c](Request& r) { return c->Callback(r); });
  router.Add("GET", "/console/session", "console", [c](Request& r) { return c->SessionInfo(r); });
  router.Add("POST", "/console/logout", "console", [c](Request& r) { return c->Logout(r); });
}

}  // namespace portcullis::api
