// The key service: the JWKS (/oauth2/keys, /.well-known/jwks.json), certificates by kid
// (/oauth2/key/{kid}, with federation to other providers: oauth/provider/federation.h), the admin
// key routes (api/key_api.h) and `portcullis keys ...`. With the token module, it is the only one
// that may create and rotate signing keys (Shared::SigningKeys).
#include <algorithm>
#include <cstdio>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "api/key_api.h"
#include "app/cli_support.h"
#include "app/master_key.h"
#include "app/modules/module.h"
#include "app/modules/shared.h"
#include "common/random.h"
#include "jose/alg.h"
#include "oauth/key/key_admin.h"
#include "oauth/key/key_manager.h"
#include "oauth/provider/federation.h"
#include "store/db.h"
#include "store/sql/audit_log.h"
#include "store/sql/key_store.h"

namespace portcullis::app {
namespace {

class KeyModule final : public Module {
 public:
  static Result<std::unique_ptr<Module>> Build(Shared& shared) {
    auto keys = shared.SigningKeys();
    if (!keys) return Fail(std::move(keys.error()));
    // /oauth2/key/{kid} authenticates clients as the token endpoint does.
    auto tokens = shared.Tokens();
    if (!tokens) return Fail(std::move(tokens.error()));
    auto auth = shared.AdminAuth();
    if (!auth) return Fail(std::move(auth.error()));
    const Config& c = shared.config();
    oauth::Federation::Options fo;
    fo.ca_file = c.federation.ca_file;
    fo.allow_http_loopback = c.federation.allow_http_loopback;
    fo.max_entries = static_cast<size_t>(c.federation.cache_max_entries);
    fo.max_in_flight = static_cast<int>(c.federation.max_in_flight);
    auto federation =
        std::make_unique<oauth::Federation>(shared.provider_store(), shared.clock(), std::move(fo));
    auto admin =
        std::make_unique<oauth::KeyAdmin>(**keys, shared.db(), shared.audit(), shared.clock());
    return std::unique_ptr<Module>(new KeyModule(**keys, std::move(admin), **tokens, **auth,
                                                 std::move(federation),
                                                 {c.keys.provider_id, c.keys.jwks_max_age_s}));
  }

  Status Register(http::Router& router) override {
    api::RegisterKeyApi(router, keys_, *admin_, tokens_, auth_, *federation_, options_);
    return {};
  }

 private:
  KeyModule(oauth::KeyManager& keys, std::unique_ptr<oauth::KeyAdmin> admin,
            oauth::TokenService& tokens, const api::AdminAuth& auth,
            std::unique_ptr<oauth::Federation> federation, api::KeyApiOptions options)
      : keys_(keys),
        admin_(std::move(admin)),
        tokens_(tokens),
        auth_(auth),
        federation_(std::move(federation)),
        options_(std::move(options)) {}

  oauth::KeyManager& keys_;
  std::unique_ptr<oauth::KeyAdmin> admin_;  // rotate and revoke, audited
  oauth::TokenService& tokens_;
  const api::AdminAuth& auth_;
  std::unique_ptr<oauth::Federation> federation_;  // its per-kid certificate cache
  api::KeyApiOptions options_;
};

// ---- CLI: portcullis keys list|rotate|revoke ----

std::string Describe(const Error& e) { return e.detail.empty() ? e.description : e.detail; }

// A key time for people: ISO 8601 in UTC; "-" when the time is not set (0: not retired yet,
// no expiry scheduled).
std::string KeyTime(int64_t unix_seconds) {
  if (unix_seconds == 0) return "-";
  return cli::IsoUtc(unix_seconds);
}

int RunKeysCommand(const cli::State& s, const std::string& cmd, cli::Env& env) {
  using cli::Die;
  // Keys commands always bring the schema up to date, as a starting server would.
  if (auto m = env.db->Migrate(); !m) return Die("store: " + Describe(m.error()));
  auto master = LoadMasterKey(env.config, env.creation == StoreCreation::kCreate);
  if (!master) return Die(master.error().description);
  store::SqlKeyStore store(*env.db);
  auto km = oauth::KeyManager::Create(store, env.clock, Random::System(), std::move(*master),
                                      KeyManagerSettings(env.config));
  if (!km) return Die("keys: " + Describe(km.error()));
  store::SqlAuditLog audit(*env.db);
  oauth::KeyAdmin admin(**km, *env.db, audit, env.clock);
  if (cmd == "rotate") {
    // Make sure there is a current key first, as a starting server would.
    if (auto st = (*km)->Tick(); !st) return Die("keys: " + Describe(st.error()));
    auto kid = admin.Rotate(env.actor);
    if (!kid) return Die("keys rotate: " + Describe(kid.error()));
    std::printf("%s\n", kid->c_str());
    return 0;
  }
  if (cmd == "revoke") {
    if (auto st = admin.Revoke(s.id, env.actor); !st) {
      return Die("keys revoke: " + Describe(st.error()));
    }
    std::printf("revoked %s\n", s.id.c_str());
    return 0;
  }
  auto records = (*km)->Records();
  if (!records) return Die("keys list: " + Describe(records.error()));
  std::ranges::sort(*records, [](const auto& a, const auto& b) {
    return a.publish_at != b.publish_at ? a.publish_at < b.publish_at : a.kid < b.kid;
  });
  if (s.json) {
    // The admin API's shape (GET /oauth2/keys/admin), for every key in the store.
    boost::json::array out;
    for (const auto& r : *records) out.push_back(oauth::KeyToJson(r));
    std::printf("%s\n", boost::json::serialize(out).c_str());
    return 0;
  }
  std::printf("%-10s %-6s %-9s %-20s %-20s %-20s %s\n", "KID", "ALG", "STATE", "PUBLISHED",
              "ACTIVATES", "RETIRED", "EXPIRES");
  for (const auto& r : *records) {
    std::printf("%-10s %-6s %-9s %-20s %-20s %-20s %s\n", r.kid.c_str(),
                std::string(jose::AlgName(r.alg)).c_str(),
                std::string(oauth::KeyStateName(r.state)).c_str(), KeyTime(r.publish_at).c_str(),
                KeyTime(r.activate_at).c_str(), KeyTime(r.retired_at).c_str(),
                KeyTime(r.expires_at).c_str());
  }
  return 0;
}

void AddKeys(cli::Builder& b) {
  auto* g = b.AddGroup("keys", "Signing keys: list, rotate, revoke");
  b.Leaf(g, "list", "Show every key and its state");
  b.Leaf(g, "rotate", "Start a rotation: a new key is published now and signs after publish_ahead",
         /*json=*/false);
  auto* revoke = b.Leaf(g, "revoke", "Remove a key from the JWKS at once", /*json=*/false);
  revoke->add_option("kid", b.s.id, "Key id")->required();
}

// Keys commands keep the configured log level (key ring events are logged at info).
const cli::Group kCli{"keys", &AddKeys, &RunKeysCommand, /*quiet_log=*/false};

}  // namespace

const ModuleSpec kKeyModule{"key", &KeyModule::Build, &kCli};

}  // namespace portcullis::app
