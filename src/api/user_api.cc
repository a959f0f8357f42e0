// User registry routes (reference §9), scopes oauth.user.r / oauth.user.w, and what an
// administrator sees and ends of a user (oauth/user/user_access.h): sessions, consents, and the
// password reset.
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "api/registry_support.h"
#include "oauth/client/validation.h"

namespace portcullis::api::registry {
namespace {

namespace json = boost::json;
using http::Reply;
using http::Request;

constexpr std::string_view kRead = "oauth.user.r";
constexpr std::string_view kWrite = "oauth.user.w";

// {"password": "...", "passwordConfirm": "..."}: the confirmation is optional, equal when given.
Result<Secret> ResetBody(std::string_view text) {
  auto body = oauth::ParseJsonObject(text);
  if (!body) return Fail(std::move(body.error()));
  for (const auto& kv : *body) {
    if (kv.key() != "password" && kv.key() != "passwordConfirm") {
      return Fail(oauth::FieldError(std::string(kv.key()), "is not a known field"));
    }
  }
  const json::value* pw = body->if_contains("password");
  if (pw == nullptr || !pw->is_string() || pw->as_string().empty()) {
    return Fail(Error::Status("ERR12011"));
  }
  Secret password(std::string(pw->as_string()));
  if (const json::value* c = body->if_contains("passwordConfirm")) {
    if (!c->is_string() || !password.Equals(std::string_view(c->as_string()))) {
      return Fail(Error::Status("ERR12012"));
    }
  }
  return password;
}

}  // namespace

void RegisterUserRoutes(http::Router& r, const ContextPtr& ctx) {
  // light-oauth2 answers 200 with an empty body to create, update, delete and password change.
  r.Add("POST", "/oauth2/user", "user", [ctx](Request& req) -> Reply {
    auto caller = Authorize(*ctx, req, kWrite);
    if (!caller) return RenderAuthError(caller.error());
    auto patch = ParseBody(req, oauth::UserPatchFromJson);
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
    auto patch = ParseBody(req, oauth::UserPatchFromJson);
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
      json::array items = JsonArray(page->users, oauth::UserToJson);
      // light-oauth2's bare array; the count of every match (a count query) in a header.
      return Json(200, items).With("X-Total-Count", std::to_string(page->total));
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
    auto change = ParseBody(req, oauth::PasswordChangeFromJson);
    if (!change) return http::RenderError(change.error());
    return http::Deferred{http::Pool::kHash,
                          [ctx, id = std::string(req.Param("userId")), c = std::move(*change),
                           actor = ActorOf(*caller), by = AuthorityOf(*caller)] {
                            auto st = ctx->users.ChangePassword(id, c, actor, by);
                            return st ? Empty() : ErrorResponse(st.error(), "user.password");
                          }};
  });

  // ---- A user's sessions and consents, and an administrator's password reset ----

  r.Add("GET", "/oauth2/user/{userId}/sessions", "user", [ctx](Request& req) -> Reply {
    auto caller = Authorize(*ctx, req, kRead, kWrite);
    if (!caller) return RenderAuthError(caller.error());
    return http::Blocking([ctx, id = std::string(req.Param("userId")), by = AuthorityOf(*caller)] {
      auto list = ctx->user_access.Sessions(id, by);
      if (!list) return ErrorResponse(list.error(), "user.sessions");
      return NoStore(Json(200, JsonArray(*list, oauth::SessionToJson)));
    });
  });

  r.Add("DELETE", "/oauth2/user/{userId}/sessions", "user", [ctx](Request& req) -> Reply {
    auto caller = Authorize(*ctx, req, kWrite);
    if (!caller) return RenderAuthError(caller.error());
    return http::Blocking([ctx, id = std::string(req.Param("userId")), actor = ActorOf(*caller),
                           by = AuthorityOf(*caller)] {
      auto n = ctx->user_access.RevokeSessions(id, actor, by);
      if (!n) return ErrorResponse(n.error(), "user.sessions_revoke");
      return Json(200, json::object{{"revoked", *n}});
    });
  });

  r.Add("DELETE", "/oauth2/user/{userId}/sessions/{sid}", "user", [ctx](Request& req) -> Reply {
    auto caller = Authorize(*ctx, req, kWrite);
    if (!caller) return RenderAuthError(caller.error());
    return http::Blocking([ctx, id = std::string(req.Param("userId")),
                           sid = std::string(req.Param("sid")), actor = ActorOf(*caller),
                           by = AuthorityOf(*caller)] {
      auto st = ctx->user_access.RevokeSession(id, sid, actor, by);
      return st ? Empty() : ErrorResponse(st.error(), "user.session_revoke");
    });
  });

  r.Add("GET", "/oauth2/user/{userId}/consents", "user", [ctx](Request& req) -> Reply {
    auto caller = Authorize(*ctx, req, kRead, kWrite);
    if (!caller) return RenderAuthError(caller.error());
    return http::Blocking([ctx, id = std::string(req.Param("userId")), by = AuthorityOf(*caller)] {
      auto list = ctx->user_access.Consents(id, by);
      if (!list) return ErrorResponse(list.error(), "user.consents");
      return NoStore(Json(200, JsonArray(*list, oauth::ConsentToJson)));
    });
  });

  r.Add("DELETE", "/oauth2/user/{userId}/consents/{clientId}", "user",
        [ctx](Request& req) -> Reply {
          auto caller = Authorize(*ctx, req, kWrite);
          if (!caller) return RenderAuthError(caller.error());
          return http::Blocking([ctx, id = std::string(req.Param("userId")),
                                 client = std::string(req.Param("clientId")),
                                 actor = ActorOf(*caller), by = AuthorityOf(*caller)] {
            auto st = ctx->user_access.RevokeConsent(id, client, actor, by);
            return st ? Empty() : ErrorResponse(st.error(), "user.consent_revoke");
          });
        });

  r.Add("POST", "/oauth2/user/{userId}/password", "user", [ctx](Request& req) -> Reply {
    auto caller = Authorize(*ctx, req, kWrite);
    if (!caller) return RenderAuthError(caller.error());
    auto password = ResetBody(req.body);
    if (!password) return http::RenderError(password.error());
    // argon2id: the hash pool.
    return http::Deferred{http::Pool::kHash,
                          [ctx, id = std::string(req.Param("userId")), p = std::move(*password),
                           actor = ActorOf(*caller), by = AuthorityOf(*caller)] {
                            auto st = ctx->users.ResetPassword(id, p, actor, by);
                            return st ? Empty() : ErrorResponse(st.error(), "user.password_reset");
                          }};
  });
}

}  // namespace portcullis::api::registry
