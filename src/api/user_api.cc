// User registry routes (reference §9), scopes oauth.user.r / oauth.user.w.
#include <boost/json/array.hpp>

#include "api/registry_support.h"
#include "oauth/client/validation.h"

namespace portcullis::api::registry {
namespace {

namespace json = boost::json;
using http::Reply;
using http::Request;

constexpr std::string_view kRead = "oauth.user.r";
constexpr std::string_view kWrite = "oauth.user.w";

}  // namespace

void RegisterUserRoutes(http::Router& r, const ContextPtr& ctx) {
  // light-oauth2 answers 200 with an empty body to create, update, delete and password change.
  r.Add("POST", "/oauth2/user", "user", [ctx](Request& req) -> Reply {
    auto caller = Authorize(*ctx, req, kWrite);
    if (!caller) return RenderAuthError(caller.error());
    auto body = oauth::ParseJsonObject(req.body);
    if (!body) return http::RenderError(body.error());
    auto patch = oauth::UserPatchFromJson(*body);
    if (!patch) return http::RenderError(patch.error());
    // argon2id: the hash pool.
    return http::Deferred{http::Pool::kHash, [ctx, p = std::move(*patch), actor = ActorOf(*caller),
                                              by = AuthorityOf(*caller)] {
                            auto u = ctx->users.Create(p, actor, by);
                            return u ? Empty() : ErrorResponse(u.error(), "user.create");
                          }};
  });

  r.Add("PUT", "/oauth2/user", "user", [ctx](Request& req) -> Reply {
    auto caller = Authorize(*ctx, req, kWrite);
    if (!caller) return RenderAuthError(caller.error());
    auto body = oauth::ParseJsonObject(req.body);
    if (!body) return http::RenderError(body.error());
    auto patch = oauth::UserPatchFromJson(*body);
    if (!patch) return http::RenderError(patch.error());
    if (!patch->user_id || patch->user_id->empty()) {
      return http::RenderError(oauth::FieldError("userId", "is required"));
    }
    return http::Blocking(
        [ctx, p = std::move(*patch), actor = ActorOf(*caller), by = AuthorityOf(*caller)] {
          auto u = ctx->users.Update(*p.user_id, p, actor, by);
          return u ? Empty() : ErrorResponse(u.error(), "user.update");
        });
  });

  r.Add("GET", "/oauth2/user", "user", [ctx](Request& req) -> Reply {
    auto caller = Authorize(*ctx, req, kRead, kWrite);
    if (!caller) return RenderAuthError(caller.error());
    auto paging = ParsePaging(req, 1);
    if (!paging) return http::RenderError(paging.error());
    auto prefix = QueryText(req, "userId", 64);
    if (!prefix) return http::RenderError(prefix.error());
    return http::Blocking([ctx, p = *paging, prefix = std::move(*prefix)] {
      auto page = ctx->users.List(prefix, p.offset, p.page_size);
      if (!page) return ErrorResponse(page.error(), "user.list");
      json::array items;
      for (const auto& u : page->users) items.emplace_back(oauth::UserToJson(u));
      return Json(200, items);
    });
  });

  r.Add("GET", "/oauth2/user/{userId}", "user", [ctx](Request& req) -> Reply {
    auto caller = Authorize(*ctx, req, kRead, kWrite);
    if (!caller) return RenderAuthError(caller.error());
    return http::Blocking([ctx, id = std::string(req.Param("userId"))] {
      auto u = ctx->users.Get(id);
      return u ? Json(200, oauth::UserToJson(*u)) : ErrorResponse(u.error(), "user.get");
    });
  });

  r.Add("DELETE", "/oauth2/user/{userId}", "user", [ctx](Request& req) -> Reply {
    auto caller = Authorize(*ctx, req, kWrite);
    if (!caller) return RenderAuthError(caller.error());
    return http::Blocking([ctx, id = std::string(req.Param("userId")), actor = ActorOf(*caller),
                           by = AuthorityOf(*caller)] {
      auto u = ctx->users.Delete(id, actor, by);
      return u ? Empty() : ErrorResponse(u.error(), "user.delete");
    });
  });

  r.Add("POST", "/oauth2/password/{userId}", "user", [ctx](Request& req) -> Reply {
    auto caller = Authorize(*ctx, req, kWrite);
    if (!caller) return RenderAuthError(caller.error());
    auto body = oauth::ParseJsonObject(req.body);
    if (!body) return http::RenderError(body.error());
    auto change = oauth::PasswordChangeFromJson(*body);
    if (!change) return http::RenderError(change.error());
    return http::Deferred{http::Pool::kHash,
                          [ctx, id = std::string(req.Param("userId")), c = std::move(*change),
                           actor = ActorOf(*caller), by = AuthorityOf(*caller)] {
                            auto st = ctx->users.ChangePassword(id, c, actor, by);
                            return st ? Empty() : ErrorResponse(st.error(), "user.password");
                          }};
  });
}

}  // namespace portcullis::api::registry
