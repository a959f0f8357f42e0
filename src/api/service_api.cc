// Service registry routes (reference §8), scopes portal.r / portal.w.
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "api/registry_support.h"
#include "oauth/client/validation.h"

namespace portcullis::api::registry {
namespace {

namespace json = boost::json;
using http::Reply;
using http::Request;

constexpr std::string_view kRead = "portal.r";
constexpr std::string_view kWrite = "portal.w";

}  // namespace

void RegisterServiceRoutes(http::Router& r, const ContextPtr& ctx) {
  r.Add("POST", "/oauth2/service", "service", [ctx](Request& req) -> Reply {
    auto caller = Authorize(*ctx, req, kWrite);
    if (!caller) return RenderAuthError(caller.error());
    auto patch = ParseBody(req, oauth::ServicePatchFromJson);
    if (!patch) return http::RenderError(patch.error());
    return http::Blocking([ctx, p = std::move(*patch), actor = ActorOf(*caller),
                           owner = OwnerOf(*caller), by = AuthorityOf(*caller)] {
      auto s = ctx->services.Create(p, actor, owner, by);
      return s ? Json(200, oauth::ServiceToJson(*s)) : ErrorResponse(s.error(), "service.create");
    });
  });

  r.Add("PUT", "/oauth2/service", "service", [ctx](Request& req) -> Reply {
    auto caller = Authorize(*ctx, req, kWrite);
    if (!caller) return RenderAuthError(caller.error());
    auto patch = ParseBody(req, oauth::ServicePatchFromJson);
    if (!patch) return http::RenderError(patch.error());
    if (!patch->service_id || patch->service_id->empty()) {
      return http::RenderError(oauth::FieldError("serviceId", "is required"));
    }
    return http::Blocking([ctx, p = std::move(*patch), actor = ActorOf(*caller),
                           by = AuthorityOf(*caller)] {
      auto s = ctx->services.Update(*p.service_id, p, actor, by);
      return s ? Json(200, oauth::ServiceToJson(*s)) : ErrorResponse(s.error(), "service.update");
    });
  });

  r.Add("GET", "/oauth2/service", "service", [ctx](Request& req) -> Reply {
    auto caller = Authorize(*ctx, req, kRead, kWrite);
    if (!caller) return RenderAuthError(caller.error());
    auto paging = ParsePaging(req, 0);
    if (!paging) return http::RenderError(paging.error());
    auto host = QueryText(req, "host", 64);
    if (!host) return http::RenderError(host.error());
    return http::Blocking([ctx, p = *paging, host = std::move(*host)] {
      auto page = ctx->services.List(host, p.offset, p.page_size);
      if (!page) return ErrorResponse(page.error(), "service.list");
      return Json(
          200, PageJson("services", JsonArray(page->services, oauth::ServiceToJson), page->total));
    });
  });

  r.Add("GET", "/oauth2/service/{serviceId}", "service", [ctx](Request& req) -> Reply {
    auto caller = Authorize(*ctx, req, kRead, kWrite);
    if (!caller) return RenderAuthError(caller.error());
    return http::Blocking([ctx, id = std::string(req.Param("serviceId"))] {
      auto s = ctx->services.Get(id);
      return s ? Json(200, oauth::ServiceToJson(*s)) : ErrorResponse(s.error(), "service.get");
    });
  });

  r.Add("DELETE", "/oauth2/service/{serviceId}", "service", [ctx](Request& req) -> Reply {
    auto caller = Authorize(*ctx, req, kWrite);
    if (!caller) return RenderAuthError(caller.error());
    return http::Blocking([ctx, id = std::string(req.Param("serviceId")), actor = ActorOf(*caller),
                           by = AuthorityOf(*caller)] {
      auto s = ctx->services.Delete(id, actor, by);
      if (!s) return ErrorResponse(s.error(), "service.delete");
      json::object o;
      o["serviceId"] = s->service_id;
      return Json(200, o);
    });
  });

  r.Add("POST", "/oauth2/service/{serviceId}/endpoint", "service", [ctx](Request& req) -> Reply {
    auto caller = Authorize(*ctx, req, kWrite);
    if (!caller) return RenderAuthError(caller.error());
    auto body = oauth::ParseStrictJson(req.body);
    if (!body) return http::RenderError(body.error());
    auto endpoints = oauth::EndpointsFromJson(*body);
    if (!endpoints) return http::RenderError(endpoints.error());
    if (auto st = oauth::ValidateEndpoints(*endpoints); !st) return http::RenderError(st.error());
    return http::Blocking([ctx, id = std::string(req.Param("serviceId")),
                           eps = std::move(*endpoints), actor = ActorOf(*caller),
                           by = AuthorityOf(*caller)] {
      auto st = ctx->services.SetEndpoints(id, eps, actor, by);
      return st ? Empty() : ErrorResponse(st.error(), "service.set_endpoints");
    });
  });

  r.Add("GET", "/oauth2/service/{serviceId}/endpoint", "service", [ctx](Request& req) -> Reply {
    auto caller = Authorize(*ctx, req, kRead, kWrite);
    if (!caller) return RenderAuthError(caller.error());
    return http::Blocking([ctx, id = std::string(req.Param("serviceId"))] {
      auto eps = ctx->services.Endpoints(id);
      if (!eps) return ErrorResponse(eps.error(), "service.endpoints");
      return Json(200, JsonArray(*eps, oauth::EndpointToJson));
    });
  });

  r.Add("DELETE", "/oauth2/service/{serviceId}/endpoint", "service", [ctx](Request& req) -> Reply {
    auto caller = Authorize(*ctx, req, kWrite);
    if (!caller) return RenderAuthError(caller.error());
    return http::Blocking([ctx, id = std::string(req.Param("serviceId")), actor = ActorOf(*caller),
                           by = AuthorityOf(*caller)] {
      auto st = ctx->services.DeleteEndpoints(id, actor, by);
      return st ? Empty() : ErrorResponse(st.error(), "service.delete_endpoints");
    });
  });
}

}  // namespace portcullis::api::registry
