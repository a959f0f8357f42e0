// Refresh-token admin routes (reference §11), scopes oauth.refresh_token.r / .w. The list
// takes userId (a prefix) and clientId (exact) filters and answers the total in X-Total-Count.
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
    auto client_id = QueryText(req, "clientId", 255);
    if (!client_id) return http::RenderError(client_id.error());
    oauth::RefreshTokenFilter filter{std::move(*prefix), std::move(*client_id)};
    return http::Blocking([ctx, p = *paging, filter = std::move(filter)] {
      auto list = ctx->refresh_tokens.List(filter, p.offset, p.page_size);
      if (!list) return ErrorResponse(list.error(), "refresh_token.list");
      json::array items = JsonArray(list->tokens, oauth::RefreshTokenToJson);
      // The body stays light-oauth2's bare array; the count of every match goes in a header.
      return Json(200, items).With("X-Total-Count", std::to_string(list->total));
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
