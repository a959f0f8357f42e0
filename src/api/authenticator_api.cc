#include "api/authenticator_api.h"

#include <boost/json.hpp>
#include <memory>

#include "common/log.h"
#include "common/secret.h"
#include "oauth/client/validation.h"

namespace portcullis::api {
namespace {

namespace json = boost::json;
using http::Reply;
using http::Request;
using http::Response;

}  // namespace

void RegisterAuthenticatorApi(http::Router& router, const AdminAuth& auth,
                              std::vector<AuthenticatorInfo> authenticators) {
  auto list = std::make_shared<const std::vector<AuthenticatorInfo>>(std::move(authenticators));
  router.Add("GET", "/oauth2/authenticators", "authenticators",
             [&auth, list](Request& req) -> Reply {
               auto caller = auth.Authorize(req, "oauth.user.r");
               if (!caller) return RenderAuthError(caller.error());
               json::array out;
               for (const auto& a : *list) out.push_back(a.description);
               return Response::Json(200, json::serialize(out));
             });
  router.Add("POST", "/oauth2/authenticators/{name}/test", "authenticators",
             [&auth, list](Request& req) -> Reply {
               auto caller = auth.Authorize(req, "oauth.user.w");
               if (!caller) return RenderAuthError(caller.error());
               const AuthenticatorInfo* chosen = nullptr;
               for (const auto& a : *list) {
                 if (a.name == req.Param("name")) chosen = &a;
               }
               if (chosen == nullptr) {
                 return http::RenderError(
                     Error::OAuth(404, "not_found", "No authenticator has this name."));
               }
               std::string user, password;
               if (!req.body.empty()) {
                 auto body = oauth::ParseJsonObject(req.body);
                 if (!body) return http::RenderError(body.error());
                 oauth::JsonFields f(*body);
                 user = f.Str("userId").value_or("");
                 password = f.Str("password").value_or("");
                 if (auto st = f.Finish(); !st) return http::RenderError(st.error());
                 if (user.empty() != password.empty()) {
                   return http::RenderError(
                       oauth::FieldError("password", "userId and password go together"));
                 }
               }
               log::Info("authenticator.test", {{"authenticator", chosen->name},
                                                {"client_id", caller->client_id},
                                                {"user_id", user}});
               return http::Deferred{
                   http::Pool::kHash,
                   [chosen, user = std::move(user), password = Secret(std::move(password)),
                    remote = std::string(req.remote_ip)]() -> Response {
                     json::object o;
                     o["name"] = chosen->name;
                     if (chosen->check) {
                       if (auto st = chosen->check(); !st) {
                         o["connection"] = "failed";
                         o["reason"] = st.error().detail;
                         return Response::Json(200, json::serialize(o));
                       }
                     }
                     o["connection"] = "ok";
                     if (user.empty()) return Response::Json(200, json::serialize(o));
                     // Throttled as any sign-in: the admin API is no way round the password limits.
                     auto u = chosen->login->Login(user, password.Reveal(), remote);
                     if (u) {
                       o["signIn"] = "ok";
                       o["userId"] = u->user_id;
                       o["userType"] = u->user_type;
                       o["roles"] = u->roles;
                     } else if (u.error().http_status == 429) {
                       o["signIn"] = "throttled";
                     } else if (u.error().http_status >= 500) {
                       o["signIn"] = "unavailable";
                       o["reason"] = u.error().detail;
                     } else {
                       o["signIn"] = "refused";
                     }
                     return Response::Json(200, json::serialize(o));
                   }};
             });
}

}  // namespace portcullis::api
