// chain_service: one hop of the example chain (gateway -> A -> B -> C, A -> event consumer).
//
// Each instance checks the token it is called with against its own endpoint table
// (libportcullis-verify), then, as configured:
// - GET with --next-url: calls the next service for its caller, with the incoming token exchanged
//   (RFC 8693) for one narrowed to the next hop's audience and scope (libportcullis-client);
// - POST with --events-url: publishes the request body as a signed event (Portcullis signs it),
//   sent to the consumer with this service's own token.
// It answers with who called it (sub, user, client, scope, the "act" chain) and the next hop's
// answer nested inside, so a caller at the gateway sees the whole chain.
//
//   chain_service --listen 127.0.0.1:7002 --name svc-a --issuer http://127.0.0.1:6880
//     --jwks-url http://127.0.0.1:6880/oauth2/keys
//     --endpoints-json '[{"endpoint":"/v1/orders@get","scope":"orders.read"},
//                        {"endpoint":"/v1/orders@post","scope":"orders.write"}]'
//     --token-url http://127.0.0.1:6880/oauth2/token --client-id A --client-secret S
//     --next-url http://127.0.0.1:7003/v1/orders --next-audience svc-b --next-scope orders.read
//     --events-url http://127.0.0.1:7005/events --events-audience billing
//     --events-scope events.write

#include <portcullis/client.h>
#include <portcullis/verify.h>

#include "../common/client_error.h"
#include "mini_http.h"

namespace {

namespace pc = portcullis::client;
namespace pv = portcullis::verify;
using example::JsonString;
using example::KindName;

constexpr char kUsage[] =
    "usage: chain_service --listen HOST:PORT [--port-file F] --name SERVICE_ID --issuer ISS\n"
    "         --jwks-url URL --endpoints-json JSON [--refetch-interval-s N]\n"
    "         --token-url URL --client-id ID --client-secret S\n"
    "         [--next-url URL --next-audience AUD --next-scope SCOPE]\n"
    "         [--events-url URL --events-audience AUD --events-scope SCOPE]\n";

// 502 for a hop this service could not make: the token was refused (e.g. the delegation policy
// forbids it), Portcullis or the next service did not answer, or the next service said no.
mini_http::Response Failed(const std::string& name, const pc::Error& e) {
  return {502, "{\"service\":" + JsonString(name) + ",\"error\":\"" + KindName(e.kind) +
                   "\",\"oauthError\":" + JsonString(e.error) +
                   ",\"message\":" + JsonString(e.message) + "}"};
}

}  // namespace

int main(int argc, char** argv) {
  auto a = mini_http::Flags(argc, argv, kUsage);
  const std::string name = a["name"];

  pv::Options vo;  // the incoming side
  vo.issuer = a["issuer"];
  vo.jwks_url = a["jwks-url"];
  vo.endpoints_json = a["endpoints-json"];
  vo.service_id = name;  // "aud" must name this service (or be Portcullis' default)
  vo.keep_claims_json = true;
  if (a.contains("refetch-interval-s")) {
    vo.refetch_interval = std::chrono::seconds(std::stoi(a["refetch-interval-s"]));
  }
  auto verifier = pv::Verifier::Create(std::move(vo));

  pc::Options co;  // the outbound side
  co.token_url = a["token-url"];
  co.client_id = a["client-id"];
  co.client_secret = a["client-secret"];
  co.log = [name](std::string_view event, std::string_view detail) {
    std::cerr << name << ": " << event << ": " << detail << std::endl;
  };
  auto client = pc::Client::Create(std::move(co));
  if (!verifier || !client) {
    std::cerr << name << ": " << (verifier ? client.error() : verifier.error()) << "\n";
    return 2;
  }
  (*verifier)->WaitReady(std::chrono::seconds(10));

  std::atomic<int> served{0};
  auto handle = [&](const mini_http::Request& req) -> mini_http::Response {
    if (req.method == "GET" && req.target == "/health") {
      return {200, "{\"status\":\"ok\",\"served\":" + std::to_string(served.load()) + "}"};
    }
    // 1. Who calls, and may they call this endpoint? (scope from this service's table)
    const std::string authorization = req.Header("authorization");
    pv::Decision d = (*verifier)->Authorize({req.method, req.target, authorization});
    if (!d.allowed()) {
      return {d.http_status(), "{\"service\":" + JsonString(name) +
                                   ",\"code\":" + JsonString(d.code) +
                                   ",\"reason\":" + JsonString(d.reason) + "}"};
    }
    ++served;
    std::string scope;
    for (const auto& s : d.identity.scopes) scope += (scope.empty() ? "" : " ") + s;
    std::string me = "{\"service\":" + JsonString(name) +
                     ",\"sub\":" + JsonString(d.identity.subject) +
                     ",\"userId\":" + JsonString(d.identity.user_id) +
                     ",\"clientId\":" + JsonString(d.identity.client_id) +
                     ",\"scope\":" + JsonString(scope) + ",\"claims\":" + d.identity.claims_json;

    // 2a. Call the next hop for the caller: the incoming token exchanged for the next audience.
    if (req.method == "GET" && a.contains("next-url")) {
      auto r = (*client)->Call({.method = "GET",
                                .url = a["next-url"],
                                .audience = a["next-audience"],
                                .scope = a["next-scope"],
                                .incoming = authorization});
      if (!r) return Failed(name, r.error());
      if (r->status != 200) {
        return {502, "{\"service\":" + JsonString(name) + ",\"error\":\"downstream\",\"status\":" +
                         std::to_string(r->status) + ",\"downstream\":" + r->body + "}"};
      }
      return {200, me + ",\"next\":" + r->body + "}"};
    }

    // 2b. Publish a signed event: Portcullis signs the body; the consumer gets it with this
    // service's own token (client_credentials toward the consumer).
    if (req.method == "POST" && a.contains("events-url")) {
      auto event = (*client)->Sign(req.body, a["events-audience"]);
      if (!event) return Failed(name, event.error());
      auto r = (*client)->Call({.method = "POST",
                                .url = a["events-url"],
                                .audience = a["events-audience"],
                                .scope = a["events-scope"],
                                .headers = {{"Content-Type", "application/jwt"}},
                                .body = *event});
      if (!r) return Failed(name, r.error());
      return {r->status == 200 ? 200 : 502,
              me + ",\"event\":" + JsonString(*event) + ",\"consumer\":" + r->body + "}"};
    }
    return {200, me + "}"};  // the end of the chain
  };
  return mini_http::Serve(a["listen"], a["port-file"], handle);
}
