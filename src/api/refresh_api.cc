// Refresh-token admin routes (reference §11), scopes oauth.refresh_token.r / .w.
#include <boost/json/array.hpp>

#include "api/registry_support.h"

namespace portcullis::api::registry {
namespace {

namespace json = boost::json;
using http::Reply;
using http::Request;

constexpr std::string_view kRead = "oauth.refresh_token.r";
constexpr std::string_view kWrite = "oauth.refresh_token.w";

}  // namespace

void RegisterRefreshTokenRoutes(http::Router& r, const ContextPtr& ctx) {
  r.Add("GET", "/oauth2/refresh_token", "refresh-token", [ctx](Request& req) -> Reply {
    auto caller = Authorize(*ctx, req, kRead, kWrite);
    if (!caller) return RenderAuthError(caller.error());
    auto paging = ParsePaging(req, 1);
    if (!paging) return http::RenderError(paging.error());
    auto prefix = QueryText(req, "userId", 64);
    if (!prefix) return http::RenderError(prefix.error());
    return http::Blocking([ctx, p = *paging, prefix = std::move(*prefix)] {
      auto list = ctx->refresh_tokens.List(prefix, p.offset, p.page_size);
      if (!list) return ErrorResponse(list.error(), "refresh_token.list");
      json::array items;
      for (const auto& t : *list) items.emplace_back(oauth::RefreshTokenToJson(t));
      return Json(200, items);
    });
  });

  r.Add("GET", "/oauth2/refresh_token/{refreshToken}", "refresh-token",
        [ctx](Request& req) -> Reply {
          auto caller = Authorize(*ctx, req, kRead, kWrite);
          if (!caller) return RenderAuthError(caller.error());
          return http::Blocking([ctx, token = std::string(req.Param("refreshToken"))] {
            auto t = ctx->refresh_tokens.Get(token);
            return t ? Json(200, oauth::RefreshTokenToJson(*t))
                     : ErrorResponse(t.error(), "refresh_token.get");
          });
        });

  r.Add("DELETE", "/oauth2/refresh_token/{refreshToken}", "refresh-token",
        [ctx](Request& req) -> Reply {
          auto caller = Authorize(*ctx, req, kWrite);
          if (!caller) return RenderAuthError(caller.error());
          return http::Blocking(
              [ctx, token = std::string(req.Param("refreshToken")), actor = ActorOf(*caller)] {
                auto t = ctx->refresh_tokens.Delete(token, actor);
                return t ? Empty() : ErrorResponse(t.error(), "refresh_token.delete");
              });
        });
}

}  // namespace portcullis::api::registry
