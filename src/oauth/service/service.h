#pragma once
// The service (API) registry's model: light-oauth2's Service and ServiceEndpoint (reference §3.3,
// §8). An endpoint id is framework-specific; for REST it is `<path>@<method>`, e.g.
// `/v1/data@get`. Its scope is one or more space-separated scopes a caller needs.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "common/error.h"

namespace portcullis::oauth {

struct Endpoint {
  std::string endpoint;
  std::string operation;
  std::string scope;
};

struct Service {
  std::string service_id;
  std::string service_type;  // swagger | openapi | graphql | hybrid
  std::string service_name;
  std::string service_desc;
  std::string scope;
  std::string owner_id;
  std::string host;
  // How the service's upstream routes letter case in paths, for /oauth2/verify: "exact" (the
  // default: a path that differs from a declared endpoint only by case is refused) or
  // "insensitive" (endpoints match ignoring ASCII case).
  std::string path_case = "exact";
  int64_t created_at = 0;
  int64_t updated_at = 0;
};

// A service with its endpoints, sorted by endpoint id in byte order (what FindEndpoint's
// binary search expects).
struct ServiceEntry {
  Service service;
  std::vector<Endpoint> endpoints;

  const Endpoint* FindEndpoint(std::string_view endpoint) const;
};

// One page of a listing, with the number of services matching the filter.
struct ServicePage {
  std::vector<Service> services;
  int64_t total = 0;
};

struct ServicePatch {
  std::optional<std::string> service_id;
  std::optional<std::string> service_type;
  std::optional<std::string> service_name;
  std::optional<std::string> service_desc;
  std::optional<std::string> scope;
  std::optional<std::string> owner_id;
  std::optional<std::string> host;
  std::optional<std::string> path_case;
};

// JSON models: serviceId serviceType serviceName serviceDesc ownerId host scope pathCase
// createdAt updatedAt; endpoints are {endpoint, operation, scope}. Unknown members are refused.
Result<ServicePatch> ServicePatchFromJson(const boost::json::object& body);
boost::json::object ServiceToJson(const Service& s);
Result<std::vector<Endpoint>> EndpointsFromJson(const boost::json::value& body);
boost::json::object EndpointToJson(const Endpoint& e);

void ApplyPatch(const ServicePatch& patch, Service& service);
Status ValidateService(const Service& s);
// Each endpoint's fields, and no endpoint id twice.
Status ValidateEndpoints(const std::vector<Endpoint>& endpoints);

}  // namespace portcullis::oauth
