// Federation registry routes (reference §10.3), scopes read:provider / write:provider.
#include <boost/json/object.hpp>

#include "api/registry_support.h"
#include "oauth/client/validation.h"

namespace portcullis::api::registry {
namespace {

namespace json = boost::json;
using http::Reply;
using http::Request;

constexpr std::string_view kRead = "read:provider";
constexpr std::string_view kWrite = "write:provider";

}  // namespace

void RegisterProviderRoutes(http::Router& r, const ContextPtr& ctx) {
  r.Add("POST", "/oauth2/provider", "provider", [ctx](Request& req) -> Reply {
    auto caller = Authorize(*ctx, req, kWrite);
    if (!caller) return RenderAuthError(caller.error());
    auto patch = ParseBody(req, oauth::ProviderPatchFromJson);
    if (!patch) return http::RenderError(patch.error());
    return http::Blocking([ctx, p = std::move(*patch), actor = ActorOf(*caller)] {
      auto out = ctx->providers.Create(p, actor);
      return out ? Json(200, oauth::ProviderToJson(*out))
                 : ErrorResponse(out.error(), "provider.create");
    });
  });

  r.Add("PUT", "/oauth2/provider", "provider", [ctx](Request& req) -> Reply {
    auto caller = Authorize(*ctx, req, kWrite);
    if (!caller) return RenderAuthError(caller.error());
    auto patch = ParseBody(req, oauth::ProviderPatchFromJson);
    if (!patch) return http::RenderError(patch.error());
    return http::Blocking([ctx, p = std::move(*patch), actor = ActorOf(*caller)] {
      auto out = ctx->providers.Update(p, actor);
      return out ? Json(200, oauth::ProviderToJson(*out))
                 : ErrorResponse(out.error(), "provider.update");
    });
  });

  // light-oauth2 answers an object keyed by providerId (its spec says array).
  r.Add("GET", "/oauth2/provider", "provider", [ctx](Request& req) -> Reply {
    auto caller = Authorize(*ctx, req, kRead, kWrite);
    if (!caller) return RenderAuthError(caller.error());
    return http::Blocking([ctx] {
      auto list = ctx->providers.List();
      if (!list) return ErrorResponse(list.error(), "provider.list");
      json::object o;
      for (const auto& p : *list) o[p.provider_id] = oauth::ProviderToJson(p);
      return Json(200, o);
    });
  });

  r.Add("GET", "/oauth2/provider/{providerId}", "provider", [ctx](Request& req) -> Reply {
    auto caller = Authorize(*ctx, req, kRead, kWrite);
    if (!caller) return RenderAuthError(caller.error());
    return http::Blocking([ctx, id = std::string(req.Param("providerId"))] {
      auto p = ctx->providers.Get(id);
      return p ? Json(200, oauth::ProviderToJson(*p)) : ErrorResponse(p.error(), "provider.get");
    });
  });

  r.Add("DELETE", "/oauth2/provider/{providerId}", "provider", [ctx](Request& req) -> Reply {
    auto caller = Authorize(*ctx, req, kWrite);
    if (!caller) return RenderAuthError(caller.error());
    return http::Blocking(
        [ctx, id = std::string(req.Param("providerId")), actor = ActorOf(*caller)] {
          auto st = ctx->providers.Delete(id, actor);
          return st ? Empty() : ErrorResponse(st.error(), "provider.delete");
        });
  });
}

}  // namespace portcullis::api::registry
