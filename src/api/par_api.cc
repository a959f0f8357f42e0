#include "api/par_api.h"

#include <strings.h>

#include "http/message.h"
#include "http/router.h"
#include "oauth/token/params.h"

namespace portcullis::api {
namespace {

using http::Reply;
using http::Request;
using http::Response;

bool IsForm(const Request& req) {
  auto ct = req.Header("content-type");
  if (!ct) return false;
  static constexpr std::string_view kForm = "application/x-www-form-urlencoded";
  std::string_view v = *ct;
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  return v.size() >= kForm.size() && strncasecmp(v.data(), kForm.data(), kForm.size()) == 0 &&
         (v.size() == kForm.size() || v[kForm.size()] == ';' || v[kForm.size()] == ' ');
}

Response ParError(const Error& e) {
  Response r = http::RenderError(e);
  if (e.http_status == 401) r.With("WWW-Authenticate", "Basic realm=\"portcullis\"");
  r.With("Pragma", "no-cache");
  return r;
}

}  // namespace

void RegisterParApi(http::Router& router, oauth::PushedAuthorizationService& par) {
  router.Add("POST", "/oauth2/par", "token", [&par](Request& req) -> Reply {
    if (!IsForm(req)) {
      return ParError(Error::OAuth(400, "invalid_request",
                                   "The body must be application/x-www-form-urlencoded."));
    }
    auto params = oauth::Params::FromForm(req.body);
    if (!params) return ParError(params.error());
    return http::Blocking([&par, &req, p = std::move(*params)] {
      auto r = par.Push(p, req.Header("authorization"));
      if (!r) return ParError(r.error());
      Response out = Response::Json(201, r->ToJson());
      out.With("Cache-Control", "no-store").With("Pragma", "no-cache");
      return out;
    });
  });
}

}  // namespace portcullis::api
