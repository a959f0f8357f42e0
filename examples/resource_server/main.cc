// A tiny resource server protected by libportcullis-verify.
//
// Every request except GET /health must carry an access token; the verifier checks it and the
// endpoint's scope (from the service registry, or from --endpoints-json) and the server answers
// 200 with who called, 401, 403 or 503. The HTTP side is deliberately minimal (one thread per
// connection, one request per connection): the point is the five lines around Authorize().
//
//   resource_server --listen 127.0.0.1:8080 --issuer http://127.0.0.1:6880 \
//       --jwks-url http://127.0.0.1:6880/oauth2/keys \
//       --registry-url http://127.0.0.1:6880 --service-id petstore \
//       --token-url http://127.0.0.1:6880/oauth2/token --client-id ID --client-secret SECRET

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <thread>

#include <portcullis/verify.h>

#include "../common/json_string.h"

namespace {

namespace pv = portcullis::verify;
using example::JsonString;

constexpr char kUsage[] =
    "usage: resource_server [--listen HOST:PORT] [--port-file FILE] --issuer ISS\n"
    "         (--jwks-url URL | --key-url URL | --jwks-file FILE)\n"
    "         (--registry-url URL --service-id ID | --endpoints-json JSON | --no-scope)\n"
    "         [--token-url URL --client-id ID --client-secret SECRET] [--revoked-url URL]\n"
    "         [--audience AUD] [--path-case exact|insensitive] [--refresh-s N]\n"
    "         [--refetch-interval-s N]\n";

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : " ") + s;
  return out;
}

void Reply(int fd, int status, std::string_view reason, const std::string& body,
           const std::string& extra_headers = {}) {
  std::string r =
      "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason) +
      "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
      "\r\nConnection: close\r\n" + extra_headers + "\r\n" + body;
  size_t off = 0;
  while (off < r.size()) {
    ssize_t n = ::send(fd, r.data() + off, r.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return;
    off += static_cast<size_t>(n);
  }
}

void Serve(int fd, const pv::Verifier& verifier) {
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string head;
  char buf[4096];
  while (head.find("\r\n\r\n") == std::string::npos) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0 || head.size() + n > 16 * 1024) return;
    head.append(buf, static_cast<size_t>(n));
  }
  // Request line and the two headers we need; names are case-insensitive.
  size_t eol = head.find("\r\n");
  std::string line = head.substr(0, eol);
  size_t sp1 = line.find(' '), sp2 = line.rfind(' ');
  if (sp1 == std::string::npos || sp2 <= sp1) return Reply(fd, 400, "Bad Request", "{}");
  std::string method = line.substr(0, sp1), target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::map<std::string, std::string> headers;
  for (size_t pos = eol + 2; pos < head.size();) {
    size_t end = head.find("\r\n", pos);
    if (end == std::string::npos || end == pos) break;
    std::string field = head.substr(pos, end - pos);
    pos = end + 2;
    size_t colon = field.find(':');
    if (colon == std::string::npos) continue;
    std::string name = field.substr(0, colon);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    size_t v = field.find_first_not_of(' ', colon + 1);
    std::string value = v == std::string::npos ? "" : field.substr(v);
    // Repeated fields are joined with "," (RFC 9110 §5.3), so two DPoP proofs are refused.
    auto [it, fresh] = headers.emplace(name, value);
    if (!fresh) it->second += "," + value;
  }
  if (method == "GET" && target == "/health") return Reply(fd, 200, "OK", "{\"status\":\"ok\"}");

  // The whole integration: one call per request.
  pv::Request request{method, target, headers["authorization"], headers["x-scope-token"]};
  // DPoP-bound tokens: the proof, and the URI the client called (this server speaks plain
  // HTTP; behind a proxy, use the public scheme and host).
  request.dpop_proof = headers["dpop"];
  std::string htu = "http://" + headers["host"] + target;
  request.htu = htu;
  pv::Decision d = verifier.Authorize(request);

  if (d.allowed()) {
    std::string body = "{\"path\":" + JsonString(target) +
                       ",\"clientId\":" + JsonString(d.identity.client_id) +
                       ",\"userId\":" + JsonString(d.identity.user_id) +
                       ",\"scope\":" + JsonString(Join(d.identity.scopes));
    if (d.scope_caller) body += ",\"callerClientId\":" + JsonString(d.scope_caller->client_id);
    return Reply(fd, 200, "OK", body + "}");
  }
  std::string body = "{\"statusCode\":" + std::to_string(d.http_status()) +
                     ",\"code\":" + JsonString(d.code) + ",\"reason\":" + JsonString(d.reason) +
                     ",\"description\":" + JsonString(d.description) + "}";
  switch (d.verdict) {
    case pv::Verdict::kUnauthorized:  // RFC 6750 §3; RFC 9449 §7.1 for DPoP-bound tokens
      return Reply(fd, 401, "Unauthorized", body,
                   "WWW-Authenticate: " +
                       (d.www_authenticate.empty() ? std::string("Bearer error=\"invalid_token\"")
                                                   : d.www_authenticate) +
                       "\r\n");
    case pv::Verdict::kForbidden:
      return Reply(fd, 403, "Forbidden", body,
                   "WWW-Authenticate: Bearer error=\"insufficient_scope\", scope=\"" +
                       d.required_scope + "\"\r\n");
    default:
      return Reply(fd, 503, "Service Unavailable", body, "Retry-After: 1\r\n");
  }
}

}  // namespace

int main(int argc, char** argv) {
  pv::Options o;
  std::string listen = "127.0.0.1:8080", port_file;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::cout << kUsage;
      return 0;
    }
    if (a == "--no-scope") {
      o.verify_scope = false;
      continue;
    }
    if (i + 1 >= argc) {
      std::cerr << kUsage;
      return 2;
    }
    std::string v = argv[++i];
    auto seconds = [&v] { return std::chrono::seconds(std::stoi(v)); };
    if (a == "--listen") {
      listen = v;
    } else if (a == "--port-file") {
      port_file = v;
    } else if (a == "--issuer") {
      o.issuer = v;
    } else if (a == "--audience") {
      o.audience = v;
    } else if (a == "--path-case") {
      if (v != "exact" && v != "insensitive") {
        std::cerr << "--path-case: exact or insensitive\n";
        return 2;
      }
      o.path_case = v == "exact" ? pv::PathCase::kExact : pv::PathCase::kInsensitive;
    } else if (a == "--jwks-url") {
      o.jwks_url = v;
    } else if (a == "--key-url") {
      o.key_url = v;
    } else if (a == "--jwks-file") {
      std::ifstream f(v);
      o.jwks_json.assign(std::istreambuf_iterator<char>(f), {});
    } else if (a == "--registry-url") {
      o.registry_url = v;
    } else if (a == "--service-id") {
      o.service_id = v;
    } else if (a == "--endpoints-json") {
      o.endpoints_json = v;
    } else if (a == "--revoked-url") {
      o.revoked_url = v;
    } else if (a == "--token-url") {
      o.client.token_url = v;
    } else if (a == "--client-id") {
      o.client.client_id = v;
    } else if (a == "--client-secret") {
      o.client.client_secret = v;
    } else if (a == "--refresh-s") {
      o.endpoints_refresh = o.revoked_refresh = seconds();
    } else if (a == "--refetch-interval-s") {
      o.refetch_interval = seconds();
    } else {
      std::cerr << "unknown flag " << a << "\n" << kUsage;
      return 2;
    }
  }
  o.log = [](std::string_view event, std::string_view detail) {
    std::cerr << "resource_server: " << event << ": " << detail << "\n";
  };

  auto verifier = pv::Verifier::Create(std::move(o));
  if (!verifier) {
    std::cerr << "resource_server: " << verifier.error() << "\n";
    return 2;
  }
  if (!(*verifier)->WaitReady(std::chrono::seconds(10))) {
    std::cerr << "resource_server: not ready after 10 s; serving anyway (503 until warm)\n";
  }

  size_t colon = listen.rfind(':');
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(std::stoi(listen.substr(colon + 1))));
  if (inet_pton(AF_INET, listen.substr(0, colon).c_str(), &addr.sin_addr) != 1) {
    std::cerr << "resource_server: --listen needs IPv4:PORT\n";
    return 2;
  }
  int server = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(server, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(server, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(server, 128) != 0) {
    std::cerr << "resource_server: cannot listen on " << listen << ": " << std::strerror(errno)
              << "\n";
    return 2;
  }
  socklen_t len = sizeof addr;
  getsockname(server, reinterpret_cast<sockaddr*>(&addr), &len);
  if (!port_file.empty()) std::ofstream(port_file) << ntohs(addr.sin_port) << "\n";
  std::cerr << "resource_server: listening on port " << ntohs(addr.sin_port) << "\n";

  const pv::Verifier& v = **verifier;
  std::atomic<int> active{0};
  for (;;) {
    int fd = ::accept4(server, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    if (active.load() >= 256) {  // a bound on threads; the client retries
      ::close(fd);
      continue;
    }
    ++active;
    std::thread([fd, &v, &active] {
      Serve(fd, v);
      ::close(fd);
      --active;
    }).detach();
  }
}
