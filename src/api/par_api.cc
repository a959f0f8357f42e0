#include "api/par_api.h"

#include <string>
#include <vector>

#include "api/client_form.h"
#include "http/message.h"
#include "http/router.h"
#include "oauth/token/params.h"
#include "oauth/token/token_service.h"

namespace portcullis::api {
using http::Reply;
using http::Request;
using http::Response;

void RegisterParApi(http::Router& router, oauth::PushedAuthorizationService& par,
                    const oauth::TokenService& tokens) {
  router.Add("POST", "/oauth2/par", "token", [&par, &tokens](Request& req) -> Reply {
    if (!IsFormBody(req)) {
      return ClientFormError(Error::OAuth(400, "invalid_request",
                                          "The body must be application/x-www-form-urlencoded."));
    }
    auto params = oauth::Params::FromForm(req.body);
    if (!params) return ClientFormError(params.error());
    return http::Blocking([&par, &tokens, &req, p = std::move(*params)] {
      // RFC 9449 §10.1: DPoP proofs, every field (more than one is refused).
      std::vector<std::string> proofs;
      for (const auto& [name, value] : req.headers) {
        if (http::EqualsNoCase(name, "dpop")) proofs.emplace_back(value);
      }
      auto r = par.Push(p, req.Header("authorization"), ClientCertificateOf(req), proofs);
      Response out = r ? Response::Json(201, r->ToJson()) : ClientFormError(r.error());
      if (r) out.With("Cache-Control", "no-store").With("Pragma", "no-cache");
      // RFC 9449 §8: with nonces on, every answer hands out the current one, as the token
      // endpoint's do (a use_dpop_nonce refusal must).
      if (tokens.dpop().nonces_required()) out.With("DPoP-Nonce", tokens.dpop().CurrentNonce());
      return out;
    });
  });
}

}  // namespace portcullis::api
