// client_call: what a service does before each outbound call, from the command line.
//
//   client_call --token-url http://127.0.0.1:6880/oauth2/token --client-id svc-a
//       --client-secret S --audience svc-b --scope "orders.read" --repeat 3
//
// Prints one JSON line per call ({"ok":true,"headers":{...},"scope":..} or {"ok":false,
// "kind":..,"status":..,"error":..,"message":..}) and a last line with the client's stats.
// --exchange TOKEN exchanges TOKEN (RFC 8693) instead; --two-token AUTH prints light-4j's
// Authorization + X-Scope-Token pair; --dpop-key-file signs a DPoP proof for --url. --call sends
// the request to --url itself (Client::Call: the token, a DPoP proof, the resource's nonce retry)
// and prints {"ok":true,"status":..,"body":..}.

#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <thread>

#include <portcullis/client.h>
#include <portcullis/verify.h>

#include "../common/client_error.h"
#include "../common/json_string.h"

namespace {

namespace pc = portcullis::client;
using example::JsonString;
using example::KindName;

constexpr char kUsage[] =
    "usage: client_call --token-url URL --client-id ID\n"
    "         (--client-secret S | --private-key-file PEM [--key-id KID] [--assertion-audience A]\n"
    "          | --tls-cert-file PEM --tls-key-file PEM) [--ca-file PEM] [--dpop-key-file PEM]\n"
    "         [--audience AUD] [--scope SCOPE] [--exchange TOKEN | --two-token AUTHORIZATION]\n"
    "         [--method GET] [--url URL] [--call yes] [--repeat N] [--interval-ms N]\n"
    "         [--deadline-ms N]\n"
    "         [--renew-at FRACTION] [--renew-jitter FRACTION] [--backoff-initial-ms N]\n"
    "         [--backoff-max-ms N]\n"
    "       client_call ... --sign JSON [--event-audience AUD]      (publish a signed event)\n"
    "       client_call --verify-event TOKEN --jwks-url URL --issuer ISS --signer ID\n"
    "         [--event-audience AUD] [--repeat N]                   (consume one)\n";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> a;
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    if (k == "--help") {
      std::cout << kUsage;
      return 0;
    }
    if (k.rfind("--", 0) != 0 || i + 1 >= argc) {
      std::cerr << kUsage;
      return 2;
    }
    a[k.substr(2)] = argv[++i];
  }
  if (a.contains("verify-event")) {
    // The consumer's side: libportcullis-verify's VerifyEvent, one line per check.
    portcullis::verify::Options vo;
    vo.jwks_url = a["jwks-url"];
    vo.issuer = a["issuer"];
    vo.verify_scope = false;
    auto v = portcullis::verify::Verifier::Create(std::move(vo));
    if (!v) {
      std::cerr << "client_call: " << v.error() << "\n";
      return 2;
    }
    (*v)->WaitReady(std::chrono::seconds(5));
    int n = a.contains("repeat") ? std::stoi(a["repeat"]) : 1;
    int refused = 0;
    for (int i = 0; i < n; ++i) {
      auto r = (*v)->VerifyEvent(a["verify-event"], {{a["signer"]}, a["event-audience"]});
      if (!r.ok) ++refused;
      std::cout << "{\"ok\":" << (r.ok ? "true" : "false") << ",\"reason\":" << JsonString(r.reason)
                << ",\"signer\":" << JsonString(r.signer)
                << ",\"claims\":" << (r.ok ? r.claims_json : "null") << "}\n";
    }
    std::cout << "{\"stats\":{}}\n";
    return refused ? 1 : 0;
  }
  pc::Options o;
  o.token_url = a["token-url"];
  o.client_id = a["client-id"];
  if (a.contains("private-key-file")) {
    o.auth_method = pc::AuthMethod::kPrivateKeyJwt;
    o.private_key_pem = ReadFile(a["private-key-file"]);
    o.key_id = a["key-id"];
    o.assertion_audience = a["assertion-audience"];
  } else if (a.contains("tls-cert-file") && !a.contains("client-secret")) {
    o.auth_method = pc::AuthMethod::kTlsClientAuth;
  } else {
    o.client_secret = a["client-secret"];
  }
  o.tls_cert_file = a["tls-cert-file"];
  o.tls_key_file = a["tls-key-file"];
  o.ca_file = a["ca-file"];
  if (a.contains("dpop-key-file")) o.dpop_key_pem = ReadFile(a["dpop-key-file"]);
  if (a.contains("deadline-ms"))
    o.deadline = std::chrono::milliseconds(std::stoi(a["deadline-ms"]));
  if (a.contains("renew-at")) o.renew_at = std::stod(a["renew-at"]);
  if (a.contains("renew-jitter")) o.renew_jitter = std::stod(a["renew-jitter"]);
  if (a.contains("backoff-initial-ms")) {
    o.backoff_initial = std::chrono::milliseconds(std::stoi(a["backoff-initial-ms"]));
  }
  if (a.contains("backoff-max-ms")) {
    o.backoff_max = std::chrono::milliseconds(std::stoi(a["backoff-max-ms"]));
  }
  // The library's events (failed requests, back-off) go to stderr.
  o.log = [](std::string_view event, std::string_view detail) {
    std::cerr << "client_call: " << event << ": " << detail << std::endl;
  };
  auto client = pc::Client::Create(std::move(o));
  if (!client) {
    std::cerr << "client_call: " << client.error() << "\n";
    return 2;
  }
  int repeat = a.contains("repeat") ? std::stoi(a["repeat"]) : 1;
  std::string method = a.contains("method") ? a["method"] : "GET";
  std::string url = a.contains("url") ? a["url"] : "http://localhost/";
  if (a.contains("sign")) {
    auto t = (*client)->Sign(a["sign"], a["event-audience"]);
    if (t) {
      std::cout << "{\"ok\":true,\"event\":" << JsonString(*t) << "}\n";
    } else {
      std::cout << "{\"ok\":false,\"kind\":\"" << KindName(t.error().kind)
                << "\",\"status\":" << t.error().http_status
                << ",\"error\":" << JsonString(t.error().error)
                << ",\"message\":" << JsonString(t.error().message) << "}\n";
    }
    std::cout << "{\"stats\":{}}\n";
    return t ? 0 : 1;
  }
  int interval_ms = a.contains("interval-ms") ? std::stoi(a["interval-ms"]) : 0;
  int failures = 0;
  for (int i = 0; i < repeat; ++i) {
    if (i > 0 && interval_ms > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(interval_ms));
    }
    if (a.contains("call")) {
      pc::Outbound out{.method = method,
                       .url = url,
                       .audience = a["audience"],
                       .scope = a["scope"],
                       .incoming = a["exchange"]};
      auto r = (*client)->Call(out);
      if (r) {
        std::cout << "{\"ok\":true,\"status\":" << r->status << ",\"body\":" << JsonString(r->body)
                  << "}" << std::endl;
        continue;
      }
      ++failures;
      const auto& e = r.error();
      std::cout << "{\"ok\":false,\"kind\":\"" << KindName(e.kind)
                << "\",\"status\":" << e.http_status << ",\"error\":" << JsonString(e.error)
                << ",\"message\":" << JsonString(e.message) << "}" << std::endl;
      continue;
    }
    pc::Result<pc::Headers> h;
    if (a.contains("exchange")) {
      h = (*client)->DelegatedHeaders(a["exchange"], a["audience"], a["scope"], method, url);
    } else if (a.contains("two-token")) {
      h = (*client)->TwoTokenHeaders(a["two-token"], a["audience"], a["scope"]);
    } else {
      h = (*client)->ServiceHeaders(a["audience"], a["scope"], method, url);
    }
    if (!h) {
      ++failures;
      const auto& e = h.error();
      std::cout << "{\"ok\":false,\"kind\":\"" << KindName(e.kind)
                << "\",\"status\":" << e.http_status << ",\"error\":" << JsonString(e.error)
                << ",\"message\":" << JsonString(e.message) << "}\n";
      continue;
    }
    std::cout << "{\"ok\":true,\"headers\":{";
    bool first = true;
    for (const auto& [k, v] : *h) {
      std::cout << (first ? "" : ",") << JsonString(k) << ":" << JsonString(v);
      first = false;
    }
    std::cout << "}}" << std::endl;
  }
  auto s = (*client)->stats();
  std::cout << "{\"stats\":{\"token_requests\":" << s.token_requests
            << ",\"exchange_requests\":" << s.exchange_requests
            << ",\"token_failures\":" << s.token_failures << ",\"renewals\":" << s.renewals
            << ",\"cache_hits\":" << s.cache_hits
            << ",\"dpop_nonce_retries\":" << s.dpop_nonce_retries
            << ",\"deadline_exceeded\":" << s.deadline_exceeded << "}}\n";
  return failures ? 1 : 0;
}
