#include "app/admin.h"

#include <boost/json/serialize.hpp>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "app/master_key.h"
#include "app/store_open.h"
#include "common/clock.h"
#include "common/random.h"
#include "jose/key_set.h"
#include "jose/verifier.h"
#include "oauth/key/key_manager.h"
#include "store/db.h"
#include "store/sql/key_store.h"

namespace portcullis::app {
namespace {

int Die(const std::string& line) {
  std::fprintf(stderr, "portcullis: %s\n", line.c_str());
  return 2;
}

std::string Describe(const Error& e) { return e.detail.empty() ? e.description : e.detail; }

int KeysCommand(const AdminCommands& a, const Config& config, StoreCreation creation) {
  auto db = OpenStore(config, creation);
  if (!db) return Die("store: " + Describe(db.error()));
  if (auto m = (*db)->Migrate(); !m) return Die("store: " + Describe(m.error()));
  auto master = LoadMasterKey(config, creation == StoreCreation::kCreate);
  if (!master) return Die(master.error().description);
  store::SqlKeyStore store(**db);
  oauth::KeyManagerConfig kc = KeyManagerSettings(config);
  auto km = oauth::KeyManager::Create(store, SystemClock::Instance(), Random::System(),
                                      std::move(*master), kc);
  if (!km) return Die("keys: " + Describe(km.error()));
  if (a.keys_rotate->parsed()) {
    // Make sure there is a current key first, as a starting server would.
    if (auto s = (*km)->Tick(); !s) return Die("keys: " + Describe(s.error()));
    auto kid = (*km)->Rotate();
    if (!kid) return Die("keys rotate: " + Describe(kid.error()));
    std::printf("%s\n", kid->c_str());
    return 0;
  }
  if (a.keys_revoke->parsed()) {
    if (auto s = (*km)->Revoke(a.kid); !s) return Die("keys revoke: " + Describe(s.error()));
    std::printf("revoked %s\n", a.kid.c_str());
    return 0;
  }
  auto records = store.List();
  if (!records) return Die("keys list: " + Describe(records.error()));
  if (a.json) {
    boost::json::array out;
    for (const auto& r : *records) {
      out.push_back(boost::json::object{{"kid", r.kid},
                                        {"alg", std::string(jose::AlgName(r.alg))},
                                        {"state", std::string(oauth::KeyStateName(r.state))},
                                        {"createdAt", r.created_at},
                                        {"activateAt", r.activate_at},
                                        {"retiredAt", r.retired_at},
                                        {"expiresAt", r.expires_at}});
    }
    std::printf("%s\n", boost::json::serialize(out).c_str());
    return 0;
  }
  std::printf("%-10s %-6s %-9s %-12s %-12s %-12s\n", "KID", "ALG", "STATE", "CREATED", "ACTIVATES",
              "EXPIRES");
  for (const auto& r : *records) {
    std::printf("%-10s %-6s %-9s %-12lld %-12lld %-12lld\n", r.kid.c_str(),
                std::string(jose::AlgName(r.alg)).c_str(),
                std::string(oauth::KeyStateName(r.state)).c_str(),
                static_cast<long long>(r.created_at), static_cast<long long>(r.activate_at),
                static_cast<long long>(r.expires_at));
  }
  return 0;
}

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

void AddAdminCommands(CLI::App& cli, AdminCommands& a,
                      const std::function<void(CLI::App*)>& add_common) {
  a.keys = cli.add_subcommand("keys", "Signing keys: list, rotate, revoke");
  a.keys->require_subcommand(1);
  a.keys_list = a.keys->add_subcommand("list", "Show every key and its state");
  a.keys_list->add_flag("--json", a.json, "JSON output");
  a.keys_rotate = a.keys->add_subcommand(
      "rotate", "Start a rotation: a new key is published now and signs after publish_ahead");
  a.keys_revoke = a.keys->add_subcommand("revoke", "Remove a key from the JWKS at once");
  a.keys_revoke->add_option("kid", a.kid, "Key id")->required();
  for (auto* c : {a.keys_list, a.keys_rotate, a.keys_revoke}) add_common(c);

  auto* jwt = cli.add_subcommand("jwt", "JWT tools");
  jwt->require_subcommand(1);
  a.jwt_verify =
      jwt->add_subcommand("verify", "Verify a JWT against a JWKS file; print its claims");
  a.jwt_verify->add_option("--jwks", a.jwks_file, "JWK Set file")->required();
  a.jwt_verify->add_option("--issuer", a.issuer, "Expected iss");
  a.jwt_verify->add_option("--audience", a.audience, "Expected aud");
  a.jwt_verify->add_option("token", a.token, "The JWT")->required();
}

std::optional<int> RunAdmin(const AdminCommands& a, const Config& config, StoreCreation creation) {
  if (a.keys && a.keys->parsed()) return KeysCommand(a, config, creation);
  return std::nullopt;
}

}  // namespace portcullis::app
