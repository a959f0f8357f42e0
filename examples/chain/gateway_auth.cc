// gateway_auth: the check behind nginx's auth_request in front of service A (gateway.conf).
//
// nginx sends every request's method and URI (X-Original-Method, X-Original-URI) and its
// Authorization here first; this answers 204 with the caller's identity (copied to A by nginx),
// or 401/403. It is Portcullis' GET /oauth2/verify done in the gateway's own process with
// libportcullis-verify: the keys and the endpoint table are cached, so the gateway keeps
// admitting valid tokens while Portcullis is down.
//
//   gateway_auth --listen 127.0.0.1:7001 --service-id svc-a --issuer http://127.0.0.1:6880
//     --jwks-url http://127.0.0.1:6880/oauth2/keys
//     --endpoints-json '[{"endpoint":"/v1/orders@get","scope":"orders.read"}]'

#include <portcullis/verify.h>

#include "mini_http.h"

namespace pv = portcullis::verify;

constexpr char kUsage[] =
    "usage: gateway_auth --listen HOST:PORT [--port-file F] --service-id ID --issuer ISS\n"
    "         --jwks-url URL --endpoints-json JSON [--refetch-interval-s N]\n";

int main(int argc, char** argv) {
  auto a = mini_http::Flags(argc, argv, kUsage);
  pv::Options o;
  o.issuer = a["issuer"];
  o.jwks_url = a["jwks-url"];
  o.endpoints_json = a["endpoints-json"];
  o.service_id = a["service-id"];
  if (a.contains("refetch-interval-s")) {
    o.refetch_interval = std::chrono::seconds(std::stoi(a["refetch-interval-s"]));
  }
  auto verifier = pv::Verifier::Create(std::move(o));
  if (!verifier) {
    std::cerr << "gateway_auth: " << verifier.error() << "\n";
    return 2;
  }
  (*verifier)->WaitReady(std::chrono::seconds(10));
  return mini_http::Serve(a["listen"], a["port-file"], [&](const mini_http::Request& req) {
    pv::Decision d =
        (*verifier)->Authorize({req.Header("x-original-method"), req.Header("x-original-uri"),
                                req.Header("authorization")});
    if (d.allowed()) {
      return mini_http::Response{
          204, "",
          "X-User-Id: " + d.identity.user_id + "\r\nX-Client-Id: " + d.identity.client_id + "\r\n"};
    }
    std::string challenge = d.http_status() == 401 ? "Bearer error=\"invalid_token\""
                                                   : "Bearer error=\"insufficient_scope\"";
    return mini_http::Response{d.http_status(), "{}", "WWW-Authenticate: " + challenge + "\r\n"};
  });
}
