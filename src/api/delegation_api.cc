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
#include "oauth/client/delegation_store.h"
#include "store/db.h"

namespace portcullis::api {
namespace {

namespace json = boost::json;
using http::Reply;
using http::Request;
using http::Response;
Error Invalid(std::string what) { return Error::Status("ERR11004", std::move(what)); }

json::array PoliciesJson(const std::vector<oauth::DelegationPolicy>& policies) {
  json::array out;
  for (const auto& p : policies) {
    out.push_back(json::object{{"audience", p.audience},
                               {"scope", oauth::JoinScope(p.scopes)},
                               {"maxDepth", p.max_depth.value_or(0)}});
  }
  return out;
}

Result<std::vector<oauth::DelegationPolicy>> Parse(std::string_view body) {
  boost::system::error_code ec;
  json::value doc = json::parse(body, ec);
  if (ec || !doc.is_array()) return Fail(Invalid("The body must be a JSON array of policies."));
  if (doc.as_array().size() > 100) return Fail(Invalid("At most 100 policies per client."));
  std::vector<oauth::DelegationPolicy> out;
  for (const auto& item : doc.as_array()) {
    if (!item.is_object()) return Fail(Invalid("Each policy must be an object."));
    oauth::DelegationPolicy p;
    p.max_depth = 1;
    for (const auto& [k, v] : item.as_object()) {
      if (k == "audience" && v.is_string() && !v.as_string().empty() &&
          v.as_string().size() <= 64) {
        p.audience = v.as_string();
      } else if (k == "scope" && v.is_string() && v.as_string().size() <= 4096) {
        p.scopes = oauth::SplitScope(v.as_string());
      } else if (k == "maxDepth" && v.is_int64() && v.as_int64() >= 1 && v.as_int64() <= 10) {
        p.max_depth = v.as_int64();
      } else {
        return Fail(Invalid("Policy field " + std::string(k).substr(0, 64) +
                            " is unknown or invalid (audience: service id, scope: string, "
                            "maxDepth: 1-10)."));
      }
    }
    if (p.audience.empty() || p.scopes.empty()) {
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

void RegisterDelegationApi(http::Router& router, store::Database& db, oauth::ClientStore& clients,
                           oauth::DelegationStore& policies, oauth::audit::AuditLog& audit,
                           const AdminAuth& auth, const Clock& clock) {
  router.Add(
      "GET", "/oauth2/client/{clientId}/delegation", "client",
      [&db, &clients, &policies, &auth](Request& req) -> Reply {
        if (auto c = auth.Authorize(req, "portal.r"); !c) return RenderAuthError(c.error());
        return http::Blocking([&db, &clients, &policies, id = std::string(req.Param("clientId"))] {
          json::array out;
          auto s = db.Transact("delegation.get", [&](store::Tx& tx) -> Status {
            auto client = clients.Load(tx, id);
            if (!client) return Fail(client.error());
            if (!*client) return Fail(Error::Status("ERR12014"));
            auto l = policies.List(tx, id);
            if (!l) return Fail(l.error());
            out = PoliciesJson(*l);
            return {};
          });
          if (!s) return http::RenderError(s.error());
          return Response::Json(200, json::serialize(out));
        });
      });

  router.Add(
      "PUT", "/oauth2/client/{clientId}/delegation", "client",
      [&db, &clients, &policies, &audit, &auth, &clock](Request& req) -> Reply {
        auto caller = auth.Authorize(req, "portal.w");
        if (!caller) return RenderAuthError(caller.error());
        auto parsed = Parse(req.body);
        if (!parsed) return http::RenderError(parsed.error());
        return http::Blocking([&db, &clients, &policies, &audit, &clock,
                               id = std::string(req.Param("clientId")),
                               actor = registry::ActorOf(*caller), by = AuthorityOf(*caller),
                               p = std::move(*parsed)] {
          json::array after;
          auto s = db.Transact("delegation.put", [&](store::Tx& tx) -> Status {
            auto client = clients.LoadForUpdate(tx, id);
            if (!client) return Fail(client.error());
            if (!*client) return Fail(Error::Status("ERR12014"));
            // A policy is part of the client: the caller must be allowed to write the client
            // and hold every admin scope a policy names, before or after (authority.h).
            if (auto r = oauth::CheckClientWrite(by, &**client, &**client); !r) return r;
            auto before = policies.List(tx, id);
            if (!before) return Fail(before.error());
            for (const auto& old : *before) {
              if (auto r = oauth::CheckAdminScopes(by, old.scopes, "a delegation policy"); !r) {
                return r;
              }
            }
            for (const auto& policy : p) {
              if (auto r = oauth::CheckAdminScopes(by, policy.scopes, "a delegation policy"); !r) {
                return r;
              }
            }
            for (const auto& policy : p) {
              auto known = policies.AudienceExists(tx, policy.audience);
              if (!known) return Fail(known.error());
              if (!*known) {
                return Fail(
                    Error::Status("ERR12015", "Service " + policy.audience + " is not found."));
              }
            }
            if (auto r = policies.Replace(tx, id, p); !r) return r;
            auto l = policies.List(tx, id);
            if (!l) return Fail(l.error());
            after = PoliciesJson(*l);
            return audit.Record(tx, clock.Now(),
                                {actor, "client.delegation", "client", id,
                                 json::value(PoliciesJson(*before)), json::value(after)});
          });
          if (!s) return http::RenderError(s.error());
          return Response::Json(200, json::serialize(after));
        });
      });
}

}  // namespace portcullis::api
