#include "api/totp_api.h"

#include <boost/json.hpp>

#include "common/log.h"
#include "http/router.h"
#include "oauth/client/validation.h"

namespace portcullis::api {
namespace {

namespace json = boost::json;
using http::Reply;
using http::Request;
using http::Response;

constexpr std::string_view kRead = "oauth.user.r";
constexpr std::string_view kWrite = "oauth.user.w";

struct Deps {
  const AdminAuth& auth;
  oauth::SecondFactor& sf;
  oauth::UserStore& users;
};

// A write scope grants its read scope too.
Result<Caller> Check(const Deps& d, const Request& req, bool write) {
  if (!write) {
    auto c = d.auth.Authorize(req, kRead);
    if (c || c.error().http_status != 403) return c;
  }
  return d.auth.Authorize(req, kWrite);
}

Response JsonOf(int status, const json::value& v) {
  Response r = http::Response::Json(status, json::serialize(v));
  r.With("Cache-Control", "no-store").With("Pragma", "no-cache");
  return r;
}

Response NoContent() {
  Response r;
  r.status = 204;
  r.content_type.clear();
  return r;
}

Response Failed(const Error& e) {
  if (e.http_status >= 500) log::Error("totp.admin_failed", {{"detail", e.detail}});
  Response r = http::RenderError(e);
  if (e.http_status == 429)
    r.With("Retry-After", std::to_string(std::max<int64_t>(1, e.retry_after)));
  return r;
}

// UserNotFound unless the local user exists. Blocking.
Status Exists(const Deps& d, std::string_view user_id) {
  auto u = d.users.Find(user_id);
  if (!u) return Fail(u.error());
  if (!*u) return Fail(oauth::UserNotFound(user_id));
  return {};
}

std::string_view StateName(oauth::SecondFactor::State s) {
  switch (s) {
    case oauth::SecondFactor::State::kActive:
      return "active";
    case oauth::SecondFactor::State::kPending:
      return "pending";
    case oauth::SecondFactor::State::kNone:
      break;
  }
  return "none";
}

}  // namespace

void RegisterTotpAdminApi(http::Router& router, const AdminAuth& auth,
                          oauth::SecondFactor& second_factor, oauth::UserStore& users) {
  auto d = std::make_shared<Deps>(Deps{auth, second_factor, users});

  router.Add("GET", "/oauth2/user/{userId}/totp", "user", [d](Request& req) -> Reply {
    auto caller = Check(*d, req, false);
    if (!caller) return RenderAuthError(caller.error());
    return http::Blocking([d, id = std::string(req.Param("userId"))] {
      if (auto s = Exists(*d, id); !s) return Failed(s.error());
      auto state = d->sf.StateOf(id);
      if (!state) return Failed(state.error());
      auto left = d->sf.RecoveryCodesLeft(id);
      if (!left) return Failed(left.error());
      json::object o;
      o["userId"] = id;
      o["state"] = StateName(*state);
      o["recoveryCodesLeft"] = *left;
      return JsonOf(200, o);
    });
  });

  router.Add("POST", "/oauth2/user/{userId}/totp", "user", [d](Request& req) -> Reply {
    auto caller = Check(*d, req, true);
    if (!caller) return RenderAuthError(caller.error());
    return http::Blocking([d, id = std::string(req.Param("userId")), actor = caller->client_id] {
      if (auto s = Exists(*d, id); !s) return Failed(s.error());
      auto e = d->sf.Enrol(id);
      if (!e) return Failed(e.error());
      log::Info("totp.admin_enrol", {{"user_id", id}, {"client_id", actor}});
      json::object o;
      o["userId"] = id;
      o["state"] = "pending";
      o["secret"] = e->secret.Reveal();
      o["otpauthUri"] = e->otpauth_uri;
      if (!e->qr_svg.empty()) o["qrSvg"] = e->qr_svg;
      json::array codes;
      for (const auto& c : e->recovery_codes) codes.emplace_back(c);
      o["recoveryCodes"] = std::move(codes);
      return JsonOf(201, o);
    });
  });

  router.Add("POST", "/oauth2/user/{userId}/totp/confirm", "user", [d](Request& req) -> Reply {
    auto caller = Check(*d, req, true);
    if (!caller) return RenderAuthError(caller.error());
    auto body = oauth::ParseJsonObject(req.body);
    if (!body) return http::RenderError(body.error());
    const auto* code = body->if_contains("code");
    if (code == nullptr || !code->is_string() || code->as_string().empty() ||
        code->as_string().size() > 32) {
      return http::RenderError(oauth::FieldError("code", "is required (the current TOTP code)"));
    }
    return http::Blocking([d, id = std::string(req.Param("userId")),
                           c = std::string(code->as_string()), ip = req.remote_ip] {
      if (auto s = Exists(*d, id); !s) return Failed(s.error());
      if (auto s = d->sf.Confirm(id, c, ip); !s) return Failed(s.error());
      return NoContent();
    });
  });

  router.Add("DELETE", "/oauth2/user/{userId}/totp", "user", [d](Request& req) -> Reply {
    auto caller = Check(*d, req, true);
    if (!caller) return RenderAuthError(caller.error());
    return http::Blocking([d, id = std::string(req.Param("userId")), actor = caller->client_id] {
      auto gone = d->sf.Disable(id);
      if (!gone) return Failed(gone.error());
      if (!*gone) {
        return Failed(Error::OAuth(404, "not_found", "The user has no second factor."));
      }
      log::Info("totp.admin_disable", {{"user_id", id}, {"client_id", actor}});
      return NoContent();
    });
  });
}

}  // namespace portcullis::api
