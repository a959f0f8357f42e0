// event_consumer: receives the signed events service A publishes and trusts only what
// libportcullis-verify's VerifyEvent accepts: Portcullis' signature, the expected signer (A's
// client id, set by Portcullis), this consumer as the event audience, fresh, and never seen
// before (a replay is refused).
//
//   event_consumer --listen 127.0.0.1:7005 --service-id billing --issuer http://127.0.0.1:6880
//     --jwks-url http://127.0.0.1:6880/oauth2/keys
//     --endpoints-json '[{"endpoint":"/events@post","scope":"events.write"}]' --signer A
//
// POST /events (body: the event token) answers 200 {"ok":true,"claims":{...}} or 400
// {"ok":false,"reason":"bad_signature"|"replayed"|...}. GET /health counts both.

#include <portcullis/verify.h>

#include "mini_http.h"

namespace pv = portcullis::verify;
using example::JsonString;

constexpr char kUsage[] =
    "usage: event_consumer --listen HOST:PORT [--port-file F] --service-id ID --issuer ISS\n"
    "         --jwks-url URL --endpoints-json JSON --signer CLIENT_ID\n";

int main(int argc, char** argv) {
  auto a = mini_http::Flags(argc, argv, kUsage);
  pv::Options o;
  o.issuer = a["issuer"];
  o.jwks_url = a["jwks-url"];
  o.endpoints_json = a["endpoints-json"];
  o.service_id = a["service-id"];
  auto verifier = pv::Verifier::Create(std::move(o));
  if (!verifier) {
    std::cerr << "event_consumer: " << verifier.error() << "\n";
    return 2;
  }
  (*verifier)->WaitReady(std::chrono::seconds(10));
  const pv::EventCheck check{.signers = {a["signer"]}, .audience = a["service-id"]};
  std::atomic<int> accepted{0}, refused{0};
  return mini_http::Serve(a["listen"], a["port-file"], [&](const mini_http::Request& req) {
    if (req.method == "GET" && req.target == "/health") {
      return mini_http::Response{200, "{\"accepted\":" + std::to_string(accepted.load()) +
                                          ",\"refused\":" + std::to_string(refused.load()) + "}"};
    }
    // The delivery itself: the publisher's own token, with the scope the table requires.
    pv::Decision d = (*verifier)->Authorize({req.method, req.target, req.Header("authorization")});
    if (!d.allowed())
      return mini_http::Response{d.http_status(), "{\"reason\":" + JsonString(d.reason) + "}"};
    // The event: what the consumer acts on only if it verifies.
    pv::EventResult e = (*verifier)->VerifyEvent(req.body, check);
    if (!e.ok) {
      ++refused;
      return mini_http::Response{400, "{\"ok\":false,\"reason\":" + JsonString(e.reason) + "}"};
    }
    ++accepted;
    return mini_http::Response{200, "{\"ok\":true,\"signer\":" + JsonString(e.signer) +
                                        ",\"claims\":" + e.claims_json + "}"};
  });
}
