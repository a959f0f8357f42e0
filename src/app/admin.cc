#include "app/admin.h"

#include <boost/json/serialize.hpp>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "common/clock.h"
#include "jose/key_set.h"
#include "jose/verifier.h"

namespace portcullis::app {
namespace {

int Die(const std::string& line) {
  std::fprintf(stderr, "portcullis: %s\n", line.c_str());
  return 2;
}

std::string Describe(const Error& e) { return e.detail.empty() ? e.description : e.detail; }

}  // namespace

int JwtVerify(const AdminCommands& a) {
  std::ifstream f(a.jwks_file);
  if (!f) return Die("jwt verify: cannot read " + a.jwks_file);
  std::stringstream ss;
  ss << f.rdbuf();
  auto keys = jose::ParseJwks(ss.str());
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
  a.jwt_verify =
      jwt->add_subcommand("verify", "Verify a JWT against a JWKS file; print its claims");
  a.jwt_verify->add_option("--jwks", a.jwks_file, "JWK Set file")->required();
  a.jwt_verify->add_option("--issuer", a.issuer, "Expected iss");
  a.jwt_verify->add_option("--audience", a.audience, "Expected aud");
  a.jwt_verify->add_option("token", a.token, "The JWT")->required();
}

}  // namespace portcullis::app
