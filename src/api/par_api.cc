#include "api/par_api.h"

#include "api/client_form.h"
#include "http/message.h"
#include "http/router.h"
#include "oauth/token/params.h"

namespace portcullis::api {
using http::Reply;
using http::Request;
using http::Response;

void RegisterParApi(http::Router& router, oauth::PushedAuthorizationService& par) {
  router.Add("POST", "/oauth2/par", "token", [&par](Request& req) -> Reply {
    if (!IsFormBody(req)) {
      return ClientFormError(Error::OAuth(400, "invalid_request",
                                          "The body must be application/x-www-form-urlencoded."));
    }
    auto params = oauth::Params::FromForm(req.body);
    if (!params) return ClientFormError(params.error());
    return http::Blocking([&par, &req, p = std::move(*params)] {
      auto r = par.Push(p, req.Header("authorization"), ClientCertificateOf(req));
      if (!r) return ClientFormError(r.error());
      Response out = Response::Json(201, r->ToJson());
      out.With("Cache-Control", "no-store").With("Pragma", "no-cache");
      return out;
    });
  });
}

}  // namespace portcullis::api
