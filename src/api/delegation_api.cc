#include "api/delegation_api.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "api/admin_auth.h"
#include "api/registry_support.h"
#include "common/clock.h"
#include "http/message.h"
#include "http/router.h"
#include "oauth/audit/audit.h"
#include "oauth/client/authority.h"
#include "oauth/client/client.h"
#include "oauth/client/client_store.h"
#include "store/db.h"

namespace portcullis::api {
namespace {

namespace json = boost::json;
using http::Reply;
using http::Request;
using http::Response;
using store::Int;
using store::Text;

Error Invalid(std::string what) { return Error::Status("ERR11004", std::move(what)); }

Result<json::array> Load(store::Tx& tx, std::string_view client_id) {
  auto rows = tx.Query(
      "SELECT audience, scopes, max_depth FROM delegation_policies WHERE client_id = $1"
      " ORDER BY audience",
      {Text(client_id)});
  if (!rows) return Fail(rows.error());
  json::array out;
  for (const auto& r : *rows) {
    out.push_back(
        json::object{{"audience", r.Str(0)}, {"scope", r.Str(1)}, {"maxDepth", r.Int(2)}});
  }
  return out;
}

struct Policy {
  std::string audience;
  std::string scope;
  int64_t max_depth = 1;
};

Result<std::vector<Policy>> Parse(std::string_view body) {
  boost::system::error_code ec;
  json::value doc = json::parse(body, ec);
  if (ec || !doc.is_array()) return Fail(Invalid("The body must be a JSON array of policies."));
  if (doc.as_array().size() > 100) return Fail(Invalid("At most 100 policies per client."));
  std::vector<Policy> out;
  for (const auto& item : doc.as_array()) {
    if (!item.is_object()) return Fail(Invalid("Each policy must be an object."));
    Policy p;
    for (const auto& [k, v] : item.as_object()) {
      if (k == "audience" && v.is_string() && !v.as_string().empty() &&
          v.as_string().size() <= 64) {
        p.audience = v.as_string();
      } else if (k == "scope" && v.is_string() && v.as_string().size() <= 4096) {
        p.scope = oauth::JoinScope(oauth::SplitScope(v.as_string()));
      } else if (k == "maxDepth" && v.is_int64() && v.as_int64() >= 1 && v.as_int64() <= 10) {
        p.max_depth = v.as_int64();
      } else {
        return Fail(Invalid("Policy field " + std::string(k).substr(0, 64) +
                            " is unknown or invalid (audience: service id, scope: string, "
                            "maxDepth: 1-10)."));
      }
    }
    if (p.audience.empty() || p.scope.empty()) {
      return Fail(Invalid("Each policy needs audience and scope."));
    }
    for (const auto& q : out) {
      if (q.audience == p.audience) return Fail(Invalid("Duplicate audience " + p.audience + "."));
    }
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace

void RegisterDelegationApi(http::Router& router, store::Database& db, const AdminAuth& auth,
                           const Clock& clock) {
  router.Add(
      "GET", "/oauth2/client/{clientId}/delegation", "client", [&db, &auth](Request& req) -> Reply {
        if (auto c = auth.Authorize(req, "portal.r"); !c) return RenderAuthError(c.error());
        return http::Blocking([&db, id = std::string(req.Param("clientId"))] {
          json::array out;
          auto s = db.Transact("delegation.get", [&](store::Tx& tx) -> Status {
            auto exists = tx.QueryRow("SELECT 1 FROM clients WHERE client_id = $1", {Text(id)});
            if (!exists) return Fail(exists.error());
            if (!*exists) return Fail(Error::Status("ERR12014"));
            auto l = Load(tx, id);
            if (!l) return Fail(l.error());
            out = std::move(*l);
            return {};
          });
          if (!s) return http::RenderError(s.error());
          return Response::Json(200, json::serialize(out));
        });
      });

  router.Add(
      "PUT", "/oauth2/client/{clientId}/delegation", "client",
      [&db, &auth, &clock](Request& req) -> Reply {
        auto caller = auth.Authorize(req, "portal.w");
        if (!caller) return RenderAuthError(caller.error());
        auto policies = Parse(req.body);
        if (!policies) return http::RenderError(policies.error());
        return http::Blocking([&db, &clock, id = std::string(req.Param("clientId")),
                               actor = registry::ActorOf(*caller), by = AuthorityOf(*caller),
                               p = std::move(*policies)] {
          json::array after;
          auto s = db.Transact("delegation.put", [&](store::Tx& tx) -> Status {
            auto client = oauth::client_store::LoadForUpdate(tx, id);
            if (!client) return Fail(client.error());
            if (!*client) return Fail(Error::Status("ERR12014"));
            // A policy is part of the client: the caller must be allowed to write the client
            // and hold every admin scope a policy names, before or after (authority.h).
            if (auto r = oauth::CheckClientWrite(by, &**client, &**client); !r) return r;
            auto before = Load(tx, id);
            if (!before) return Fail(before.error());
            for (const auto& old : *before) {
              auto scopes = oauth::SplitScope(old.as_object().at("scope").as_string());
              if (auto r = oauth::CheckAdminScopes(by, scopes, "a delegation policy"); !r) return r;
            }
            for (const auto& policy : p) {
              if (auto r = oauth::CheckAdminScopes(by, oauth::SplitScope(policy.scope),
                                                   "a delegation policy");
                  !r) {
                return r;
              }
            }
            auto del = tx.Exec("DELETE FROM delegation_policies WHERE client_id = $1", {Text(id)});
            if (!del) return Fail(del.error());
            for (const auto& policy : p) {
              auto svc = tx.QueryRow("SELECT 1 FROM services WHERE service_id = $1",
                                     {Text(policy.audience)});
              if (!svc) return Fail(svc.error());
              if (!*svc) {
                return Fail(
                    Error::Status("ERR12015", "Service " + policy.audience + " is not found."));
              }
              auto n = tx.Exec(
                  "INSERT INTO delegation_policies (client_id, audience, scopes, max_depth)"
                  " VALUES ($1, $2, $3, $4)",
                  {Text(id), Text(policy.audience), Text(policy.scope), Int(policy.max_depth)});
              if (!n) return Fail(n.error());
            }
            auto l = Load(tx, id);
            if (!l) return Fail(l.error());
            after = *l;
            return oauth::audit::Record(tx, clock.Now(),
                                        {actor, "client.delegation", "client", id,
                                         json::value(std::move(*before)), json::value(after)});
          });
          if (!s) return http::RenderError(s.error());
          return Response::Json(200, json::serialize(after));
        });
      });
}

}  // namespace portcullis::api
