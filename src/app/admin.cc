#include "app/admin.h"

#include <chrono>
#include <cstdio>
#include <expected>
#include <fstream>
#include <sstream>

#include <boost/json/serialize.hpp>

#include "common/clock.h"
#include "jose/key_set.h"
#include "jose/verifier.h"
#include "verify/http_client.h"

namespace portcullis::app {
namespace {

int Die(const std::string& line) {
  std::fprintf(stderr, "portcullis: %s\n", line.c_str());
  return 2;
}

std::string Describe(const Error& e) { return e.detail.empty() ? e.description : e.detail; }

// The JWK Set text at `source`: a file, or an http(s):// URL fetched once with the verify
// library's bounded client (certificate and host name checked for https).
std::expected<std::string, std::string> ReadJwks(const AdminCommands& a) {
  const std::string& source = a.jwks;
  if (source.starts_with("http://") || source.starts_with("https://")) {
    verify::internal::HttpRequest request;
    request.url = source;
    request.headers.emplace_back("Accept", "application/jwk-set+json, application/json");
    verify::internal::HttpOptions options;
    options.timeout = std::chrono::milliseconds(10000);
    options.ca_file = a.ca_file;
    auto r = verify::internal::Fetch(request, options);
    if (!r) return std::unexpected("cannot fetch " + source + ": " + r.error());
    if (r->status != 200) {
      return std::unexpected("cannot fetch " + source + ": HTTP " + std::to_string(r->status));
    }
    return std::move(r->body);
  }
  std::ifstream f(source);
  if (!f) return std::unexpected("cannot read " + source);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

}  // namespace

int JwtVerify(const AdminCommands& a) {
  auto text = ReadJwks(a);
  if (!text) return Die("jwt verify: --jwks: " + text.error());
  auto keys = jose::ParseJwks(*text);
  if (!keys) return Die("jwt verify: " + Describe(keys.error()));
  jose::VerifyOptions options;
  options.issuer = a.issuer;
  options.audience = a.audience;
  jose::Verifier verifier(std::move(*keys), options, SystemClock::Instance());
  auto v = verifier.Verify(a.token);
  if (!v) {
    std::fprintf(stderr, "invalid: %s (%s)\n",
                 std::string(jose::ReasonName(v.error().reason)).c_str(), v.error().detail.c_str());
    return 1;
  }
  std::printf("%s\n", boost::json::serialize(v->payload).c_str());
  return 0;
}

void AddAdminCommands(CLI::App& cli, AdminCommands& a) {
  auto* jwt = cli.add_subcommand("jwt", "JWT tools");
  jwt->require_subcommand(1);
  a.jwt_verify = jwt->add_subcommand("verify", "Verify a JWT against a JWK Set; print its claims");
  a.jwt_verify->add_option("--jwks", a.jwks, "JWK Set: a file, or an http:// or https:// URL")
      ->required();
  a.jwt_verify->add_option("--ca-file", a.ca_file,
                           "PEM CA bundle for an https:// --jwks (default: the system store)");
  a.jwt_verify->add_option("--issuer", a.issuer, "Expected iss");
  a.jwt_verify->add_option("--audience", a.audience, "Expected aud");
  a.jwt_verify->add_option("token", a.token, "The JWT")->required();
}

}  // namespace portcullis::app
