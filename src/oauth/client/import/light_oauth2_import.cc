#include "oauth/client/import/light_oauth2_import.h"

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>

#include "oauth/client/client_service.h"
#include "oauth/client/validation.h"
#include "oauth/credentials/secret_hash.h"
#include "oauth/credentials/token_hash.h"

namespace portcullis::oauth::legacy {
namespace {

namespace json = boost::json;

std::string Get(const Row& row, const char* column, std::string fallback = {}) {
  auto it = row.find(column);
  if (it == row.end() || !it->second) return fallback;
  return *it->second;
}

// The grants light-oauth2 allowed a client of this type (reference §4.4): every client could
// use the code, client_credentials and refresh grants; trusted ones also the password grants.
std::vector<std::string> LegacyGrants(ClientType type) {
  std::vector<std::string> g = {"authorization_code", "client_credentials", "refresh_token"};
  if (type == ClientType::kTrusted) {
    g.insert(g.begin() + 2, "password");
    g.push_back("client_authenticated_user");
  }
  return g;
}

// Drops reserved and malformed custom claims; returns the JSON text to keep.
std::string SanitizeClaims(const std::string& text, const std::string& client_id,
                           std::vector<std::string>& warnings) {
  if (text.empty()) return {};
  json::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) {
    warnings.push_back("client " + client_id + ": customClaim is not a JSON object; dropped");
    return {};
  }
  json::object kept;
  for (const auto& [k, value] : v.as_object()) {
    std::string name(k.data(), k.size());
    if (name.empty() || IsReservedClaim(name)) {
      warnings.push_back("client " + client_id + ": custom claim '" + name +
                         "' is reserved and was dropped");
      continue;
    }
    kept[k] = value;
  }
  return kept.empty() ? std::string() : json::serialize(kept);
}

class Importer {
 public:
  Importer(store::Tx& tx, ClientStore& clients, ImportTarget& rows, audit::AuditLog& audit,
           const Tables& tables, const Clock& clock, Random& random, const ImportOptions& options,
           ImportReport& report)
      : tx_(tx),
        clients_(clients),
        rows_(rows),
        audit_(audit),
        tables_(tables),
        now_(clock.Now()),
        random_(random),
        options_(options),
        report_(report) {}

  Status Run() {
    for (auto step :
         {&Importer::Users, &Importer::Clients, &Importer::Services, &Importer::Endpoints,
          &Importer::Links, &Importer::Providers, &Importer::RefreshTokens}) {
      if (auto st = (this->*step)(); !st) return st;
    }
    if (auto st = tx_.Notify("*", ""); !st) return st;
    json::object counts;
    for (const auto& [kind, c] : report_.counts) {
      json::object o;
      o["imported"] = c.imported;
      o["skipped"] = c.skipped;
      counts[kind] = std::move(o);
    }
    json::object after;
    after["counts"] = std::move(counts);
    after["warnings"] = static_cast<int64_t>(report_.warnings.size());
    return audit_.Record(tx_, now_,
                         {options_.actor, "import.light_oauth2", "import", "light-oauth2",
                          std::nullopt, json::value(std::move(after))});
  }

 private:
  const std::vector<Row>& RowsOf(const char* table) {
    static const std::vector<Row> kNone;
    auto it = tables_.find(table);
    return it == tables_.end() ? kNone : it->second;
  }

  void Skip(const char* kind, std::string why) {
    ++report_.counts[kind].skipped;
    report_.warnings.push_back(std::move(why));
  }

  // Counts the outcome of an insert-unless-present.
  Status Count(const char* kind, const std::string& what, Result<bool> r) {
    if (!r) return Fail(std::move(r.error()));
    if (*r) {
      ++report_.counts[kind].imported;
    } else {
      Skip(kind, what + ": already present; kept the existing row");
    }
    return {};
  }

  Status Users() {
    report_.counts["users"];
    for (const auto& row : RowsOf("user_profile")) {
      std::string id = Get(row, "user_id");
      std::string email = Get(row, "email");
      std::string hash = Get(row, "password");
      if (id.empty() || id.size() > 64 || email.empty() || hash.empty()) {
        Skip("users", "user '" + id +
                          "': user_id (1-64 characters), email and password are "
                          "required; skipped");
        continue;
      }
      // The registry's own rule: no ':' in particular, which marks other realms' users
      // (TotpSubject), so an imported id can never name a directory user's enrolment.
      if (!CheckId("userId", id, 64)) {
        Skip("users",
             "user '" + id + "': userId may contain only letters, digits and . _ ~ @ + -; skipped");
        continue;
      }
      if (!IsLegacyPbkdf2(hash) && !hash.starts_with("$argon2id$")) {
        report_.warnings.push_back("user " + id +
                                   ": password hash in an unknown format; the user cannot sign "
                                   "in until the password is reset");
      }
      std::string type = Get(row, "user_type", "customer");
      if (!CheckEnum("userType", type, {"admin", "employee", "customer", "partner"})) {
        report_.warnings.push_back("user " + id + ": userType '" + type + "' is not standard");
      }
      auto r = rows_.InsertUser(tx_, {id, type, Get(row, "first_name"), Get(row, "last_name"),
                                      email, hash, Get(row, "roles"), now_});
      if (auto st = Count("users", "user " + id, std::move(r)); !st) return st;
    }
    return {};
  }

  Status Clients() {
    report_.counts["clients"];
    for (const auto& row : RowsOf("client")) {
      Client c;
      c.client_id = Get(row, "client_id");
      std::string type = Get(row, "client_type");
      auto parsed_type = ParseClientType(type);
      if (c.client_id.empty() || !parsed_type) {
        Skip("clients", "client '" + c.client_id + "': clientType '" + type +
                            "' is not public, confidential, trusted or external; skipped");
        continue;
      }
      c.client_type = *parsed_type;
      c.client_profile = Get(row, "client_profile", "service");
      c.client_name = Get(row, "client_name", c.client_id);
      c.client_desc = Get(row, "client_desc");
      c.secret_hash = Get(row, "client_secret");
      c.scope = SplitScope(Get(row, "scope"));
      c.custom_claim = SanitizeClaims(Get(row, "custom_claim"), c.client_id, report_.warnings);
      if (auto uri = Get(row, "redirect_uri"); !uri.empty()) c.redirect_uris.push_back(uri);
      c.grant_types = LegacyGrants(c.client_type);
      // auth_method stays client_secret_basic, not named (auth_method_explicit 0): imported
      // clients keep their secrets, public ones too, and accept Basic and post as upstream did.
      c.token_profile = TokenProfile::kLight4j;
      c.authenticate_class = Get(row, "authenticate_class");
      if (auto m = options_.authenticate_classes.find(c.authenticate_class);
          m != options_.authenticate_classes.end()) {
        report_.warnings.push_back("client " + c.client_id + ": authenticateClass " +
                                   c.authenticate_class + " is now the authenticator " + m->second);
        c.authenticate_class = m->second;
      }
      c.deref_client_id = Get(row, "deref_client_id");
      c.owner_id = Get(row, "owner_id", "admin");
      c.host = Get(row, "host");
      c.created_at = c.updated_at = now_;
      if (c.secret_hash.empty()) {
        report_.warnings.push_back("client " + c.client_id + ": no secret; rotate one to use it");
      } else if (!IsLegacyPbkdf2(c.secret_hash) && !c.secret_hash.starts_with("hs256$")) {
        report_.warnings.push_back("client " + c.client_id +
                                   ": secret hash in an unknown format; rotate the secret");
      }
      Client check = c;
      if (check.host.empty()) check.host = "-";  // reported below, not as a validation error
      if (auto st = ValidateClient(check, {}, {.grant_types = options_.grant_types}); !st) {
        report_.warnings.push_back("client " + c.client_id + ": imported as is, but " +
                                   st.error().description);
      }
      // The client store's one insert path (its column list), skipping an existing id.
      auto r = clients_.InsertIfAbsent(tx_, c);
      if (auto st = Count("clients", "client " + c.client_id, std::move(r)); !st) return st;
    }
    return {};
  }

  Status Services() {
    report_.counts["services"];
    for (const auto& row : RowsOf("service")) {
      std::string id = Get(row, "service_id");
      if (id.empty()) {
        Skip("services", "a service without service_id; skipped");
        continue;
      }
      auto r = rows_.InsertService(
          tx_, {id, Get(row, "service_type", "openapi"), Get(row, "service_name", id),
                Get(row, "service_desc"), Get(row, "scope"), Get(row, "owner_id", "admin"),
                Get(row, "host"), now_});
      if (auto st = Count("services", "service " + id, std::move(r)); !st) return st;
    }
    return {};
  }

  Status Endpoints() {
    report_.counts["endpoints"];
    for (const auto& row : RowsOf("service_endpoint")) {
      std::string sid = Get(row, "service_id"), ep = Get(row, "endpoint");
      auto known = rows_.ServiceExists(tx_, sid);
      if (!known) return Fail(std::move(known.error()));
      if (ep.empty() || !*known) {
        Skip("endpoints", "endpoint " + sid + " " + ep + ": no such service; skipped");
        continue;
      }
      auto r = rows_.InsertEndpoint(tx_, {sid, ep, Get(row, "operation"), Get(row, "scope")});
      if (auto st = Count("endpoints", "endpoint " + sid + " " + ep, std::move(r)); !st) {
        return st;
      }
    }
    return {};
  }

  Status Links() {
    report_.counts["links"];
    for (const auto& row : RowsOf("client_service")) {
      std::string cid = Get(row, "client_id"), sid = Get(row, "service_id"),
                  ep = Get(row, "endpoint");
      std::string what = "link " + cid + " -> " + sid + " " + ep;
      auto client = ClientExists(cid);
      if (!client) return Fail(std::move(client.error()));
      auto endpoint = rows_.EndpointExists(tx_, sid, ep);
      if (!endpoint) return Fail(std::move(endpoint.error()));
      if (!*client || !*endpoint) {
        Skip("links", what + ": the client or the endpoint is missing; skipped");
        continue;
      }
      auto r = rows_.InsertLink(tx_, cid, sid, ep);
      if (auto st = Count("links", what, std::move(r)); !st) return st;
    }
    return {};
  }

  Status Providers() {
    report_.counts["providers"];
    for (const auto& row : RowsOf("oauth_provider")) {
      std::string id = Get(row, "provider_id"), url = Get(row, "server_url");
      if (id.empty() || id.size() > 2 || url.empty()) {
        Skip("providers", "provider '" + id +
                              "': needs a 1-2 character id and a server_url; "
                              "skipped");
        continue;
      }
      if (!HttpsOrLoopbackHttp(url, false)) {
        // Federation fetches peer certificates over https only (README "Federation").
        report_.warnings.push_back("provider " + id +
                                   ": serverUrl is not https; no key is fetched from it until it "
                                   "is changed to https");
      }
      auto r = rows_.InsertProvider(
          tx_, {id, url, Get(row, "uri", "/oauth2/key"), Get(row, "provider_name")});
      if (auto st = Count("providers", "provider " + id, std::move(r)); !st) return st;
    }
    return {};
  }

  Status RefreshTokens() {
    report_.counts["refresh_tokens"];
    for (const auto& row : RowsOf("refresh_token")) {
      std::string token = Get(row, "refresh_token"), cid = Get(row, "client_id");
      // Tokens are named by a prefix of their hash in reports, never by their value.
      std::string hash = TokenHash(token);
      std::string what = "refresh token " + hash.substr(0, 8) + "...";
      auto client = ClientExists(cid);
      if (!client) return Fail(std::move(client.error()));
      if (token.empty() || !*client) {
        Skip("refresh_tokens", what + ": no token or no such client '" + cid + "'; skipped");
        continue;
      }
      std::string remember = Get(row, "remember", "N") == "Y" ? "Y" : "N";
      auto r = rows_.InsertRefreshToken(
          tx_,
          {hash, random_.Uuid(), cid, Get(row, "user_id"), Get(row, "user_type"), Get(row, "roles"),
           Get(row, "scope"), remember, now_, now_ + options_.refresh_token_ttl});
      if (auto st = Count("refresh_tokens", what, std::move(r)); !st) return st;
    }
    return {};
  }

  Result<bool> ClientExists(const std::string& client_id) {
    auto c = clients_.Load(tx_, client_id);
    if (!c) return Fail(std::move(c.error()));
    return c->has_value();
  }

  store::Tx& tx_;
  ClientStore& clients_;
  ImportTarget& rows_;
  audit::AuditLog& audit_;
  const Tables& tables_;
  int64_t now_;
  Random& random_;
  const ImportOptions& options_;
  ImportReport& report_;
};

constexpr std::string_view kDryRun = "portcullis: dry run, rolled back";

}  // namespace

const std::map<std::string, std::vector<std::string>>& LightOauth2Tables() {
  static const std::map<std::string, std::vector<std::string>> tables = {
      {"user_profile",
       {"user_id", "user_type", "first_name", "last_name", "email", "password", "roles"}},
      {"client",
       {"client_id", "client_type", "client_profile", "client_secret", "client_name", "client_desc",
        "scope", "custom_claim", "redirect_uri", "authenticate_class", "deref_client_id",
        "owner_id", "host"}},
      {"service",
       {"service_id", "service_type", "service_name", "service_desc", "scope", "owner_id", "host"}},
      {"service_endpoint", {"service_id", "endpoint", "operation", "scope"}},
      {"client_service", {"client_id", "service_id", "endpoint"}},
      {"refresh_token",
       {"user_id", "user_type", "roles", "client_id", "scope", "remember", "refresh_token",
        "start_time"}},
      {"oauth_provider", {"provider_id", "server_url", "uri", "provider_name"}},
  };
  return tables;
}

Result<ImportReport> ImportLightOauth2(store::Database& target, ClientStore& clients,
                                       ImportTarget& rows, audit::AuditLog& audit,
                                       const Tables& tables, const Clock& clock, Random& random,
                                       const ImportOptions& options) {
  ImportReport report;
  auto st = target.Transact("import.light_oauth2", [&](store::Tx& tx) -> Status {
    report = ImportReport{};  // a PostgreSQL retry starts over
    Importer importer(tx, clients, rows, audit, tables, clock, random, options, report);
    if (auto r = importer.Run(); !r) return r;
    if (options.dry_run) return Fail(Error::Internal(std::string(kDryRun)));
    return {};
  });
  if (!st && !(options.dry_run && st.error().detail == kDryRun)) return Fail(std::move(st.error()));
  return report;
}

}  // namespace portcullis::oauth::legacy
