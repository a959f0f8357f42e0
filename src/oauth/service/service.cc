#include "oauth/service/service.h"

#include <algorithm>
#include <set>

#include <boost/json/array.hpp>

#include "oauth/client/validation.h"

namespace portcullis::oauth {
namespace {

namespace json = boost::json;

constexpr size_t kMaxEndpoints = 1000;

json::value OrNull(const std::string& s) {
  return s.empty() ? json::value(nullptr) : json::value(s);
}

}  // namespace

const Endpoint* ServiceEntry::FindEndpoint(std::string_view endpoint) const {
  auto it = std::lower_bound(endpoints.begin(), endpoints.end(), endpoint,
                             [](const Endpoint& e, std::string_view v) { return e.endpoint < v; });
  return it != endpoints.end() && it->endpoint == endpoint ? &*it : nullptr;
}

Result<ServicePatch> ServicePatchFromJson(const boost::json::object& body) {
  JsonFields f(body);
  ServicePatch p;
  p.service_id = f.Str("serviceId");
  p.service_type = f.Str("serviceType");
  p.service_name = f.Str("serviceName");
  p.service_desc = f.Str("serviceDesc");
  p.scope = f.Str("scope");
  p.owner_id = f.Str("ownerId");
  p.host = f.Str("host");
  p.path_case = f.Str("pathCase");
  f.Ignore("createdAt");
  f.Ignore("updatedAt");
  if (auto st = f.Finish(); !st) return Fail(std::move(st.error()));
  return p;
}

boost::json::object ServiceToJson(const Service& s) {
  json::object o;
  o["serviceId"] = s.service_id;
  o["serviceType"] = s.service_type;
  o["serviceName"] = s.service_name;
  o["serviceDesc"] = OrNull(s.service_desc);
  o["ownerId"] = s.owner_id;
  o["host"] = s.host;
  o["scope"] = OrNull(s.scope);
  o["pathCase"] = s.path_case;
  o["createdAt"] = s.created_at;
  o["updatedAt"] = s.updated_at;
  return o;
}

Result<std::vector<Endpoint>> EndpointsFromJson(const boost::json::value& body) {
  if (!body.is_array()) return Fail(FieldError("body", "must be a JSON array of endpoints"));
  std::vector<Endpoint> out;
  const auto& items = body.as_array();
  if (items.size() > kMaxEndpoints) {
    return Fail(FieldError("body", "at most " + std::to_string(kMaxEndpoints) + " endpoints"));
  }
  for (size_t i = 0; i < items.size(); ++i) {
    std::string prefix = "[" + std::to_string(i) + "].";
    if (!items[i].is_object()) {
      return Fail(FieldError("[" + std::to_string(i) + "]", "must be a JSON object"));
    }
    JsonFields f(items[i].as_object(), prefix);
    Endpoint e;
    e.endpoint = f.Str("endpoint").value_or("");
    e.operation = f.Str("operation").value_or("");
    e.scope = f.Str("scope").value_or("");
    if (auto st = f.Finish(); !st) return Fail(std::move(st.error()));
    out.push_back(std::move(e));
  }
  return out;
}

boost::json::object EndpointToJson(const Endpoint& e) {
  json::object o;
  o["endpoint"] = e.endpoint;
  o["operation"] = OrNull(e.operation);
  o["scope"] = e.scope;
  return o;
}

void ApplyPatch(const ServicePatch& p, Service& s) {
  if (p.service_type) s.service_type = *p.service_type;
  if (p.service_name) s.service_name = *p.service_name;
  if (p.service_desc) s.service_desc = *p.service_desc;
  if (p.scope) s.scope = *p.scope;
  if (p.owner_id) s.owner_id = *p.owner_id;
  if (p.host) s.host = *p.host;
  if (p.path_case) s.path_case = *p.path_case;
}

Status ValidateService(const Service& s) {
  if (auto st = CheckId("serviceId", s.service_id, 32); !st) return st;
  if (auto st =
          CheckEnum("serviceType", s.service_type, {"swagger", "openapi", "graphql", "hybrid"});
      !st) {
    return st;
  }
  if (auto st = CheckText("serviceName", s.service_name, 32, true); !st) return st;
  if (auto st = CheckText("serviceDesc", s.service_desc, 1024, false, true); !st) return st;
  if (auto st = CheckScope("scope", s.scope, 1024); !st) return st;
  if (auto st = CheckId("ownerId", s.owner_id, 64); !st) return st;
  if (s.host.empty()) return Fail(Error::Status("ERR12051", "host: is required"));
  if (auto st = CheckText("host", s.host, 64, true); !st) return st;
  if (auto st = CheckEnum("pathCase", s.path_case, {"exact", "insensitive"}); !st) return st;
  return {};
}

Status ValidateEndpoints(const std::vector<Endpoint>& endpoints) {
  if (endpoints.size() > kMaxEndpoints) {
    return Fail(FieldError("body", "at most " + std::to_string(kMaxEndpoints) + " endpoints"));
  }
  std::set<std::string_view> seen;
  for (size_t i = 0; i < endpoints.size(); ++i) {
    std::string prefix = "[" + std::to_string(i) + "].";
    const auto& e = endpoints[i];
    if (auto st = CheckText(prefix + "endpoint", e.endpoint, 256, true); !st) return st;
    if (auto st = CheckText(prefix + "operation", e.operation, 256, false); !st) return st;
    if (e.scope.empty()) return Fail(FieldError(prefix + "scope", "is required"));
    if (auto st = CheckScope(prefix + "scope", e.scope, 1024); !st) return st;
    if (!seen.insert(e.endpoint).second) {
      return Fail(FieldError(prefix + "endpoint", "'" + e.endpoint + "' is a duplicate"));
    }
  }
  return {};
}

}  // namespace portcullis::oauth
