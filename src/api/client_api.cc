// Client registry routes (reference §7.1), scopes portal.r / portal.w.
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "api/registry_support.h"
#include "oauth/client/client_json.h"
#include "oauth/client/validation.h"

namespace portcullis::api::registry {
namespace {

namespace json = boost::json;
using http::Reply;
using http::Request;
using http::Response;

constexpr std::string_view kRead = "portal.r";
constexpr std::string_view kWrite = "portal.w";

Response ClientResponse(const oauth::ClientWithSecret& c) {
  json::object o = oauth::ClientToJson(c.client);
  if (c.secret) {
    // The only moments a secret is shown: it is not stored anywhere in clear.
    o["clientSecret"] = c.secret->Reveal();
    return NoStore(Json(200, o));
  }
  return Json(200, o);
}

json::object ScopeChangeJson(const oauth::ScopeChange& c) {
  json::object o;
  o["old_scope"] = c.old_scope;
  o["new_scope"] = c.new_scope;
  return o;
}

Result<std::vector<std::string>> EndpointIds(std::string_view body) {
  auto v = oauth::ParseStrictJson(body);
  if (!v) return Fail(std::move(v.error()));
  if (!v->is_array()) return Fail(oauth::FieldError("body", "must be a JSON array of endpoints"));
  if (v->as_array().size() > 1000) return Fail(oauth::FieldError("body", "at most 1000 endpoints"));
  std::vector<std::string> out;
  for (size_t i = 0; i < v->as_array().size(); ++i) {
    const auto& item = v->as_array()[i];
    if (!item.is_string()) {
      return Fail(oauth::FieldError("[" + std::to_string(i) + "]", "must be a string"));
    }
    out.emplace_back(item.as_string().data(), item.as_string().size());
  }
  return out;
}

}  // namespace

void RegisterClientRoutes(http::Router& r, const ContextPtr& ctx) {
  r.Add("POST", "/oauth2/client", "client", [ctx](Request& req) -> Reply {
    auto caller = Authorize(*ctx, req, kWrite);
    if (!caller) return RenderAuthError(caller.error());
    auto patch = ParseBody(req, oauth::ClientPatchFromJson);
    if (!patch) return http::RenderError(patch.error());
    return http::Blocking([ctx, p = std::move(*patch), actor = ActorOf(*caller),
                           owner = OwnerOf(*caller), by = AuthorityOf(*caller)] {
      auto c = ctx->clients.Create(p, actor, owner, by);
      return c ? ClientResponse(*c) : ErrorResponse(c.error(), "client.create");
    });
  });

  r.Add("PUT", "/oauth2/client", "client", [ctx](Request& req) -> Reply {
    auto caller = Authorize(*ctx, req, kWrite);
    if (!caller) return RenderAuthError(caller.error());
    auto patch = ParseBody(req, oauth::ClientPatchFromJson);
    if (!patch) return http::RenderError(patch.error());
    if (!patch->client_id || patch->client_id->empty()) {
      return http::RenderError(oauth::FieldError("clientId", "is required"));
    }
    return http::Blocking(
        [ctx, p = std::move(*patch), actor = ActorOf(*caller), by = AuthorityOf(*caller)] {
          auto c = ctx->clients.Update(*p.client_id, p, actor, by);
          return c ? ClientResponse(*c) : ErrorResponse(c.error(), "client.update");
        });
  });

  r.Add("GET", "/oauth2/client", "client", [ctx](Request& req) -> Reply {
    auto caller = Authorize(*ctx, req, kRead, kWrite);
    if (!caller) return RenderAuthError(caller.error());
    auto paging = ParsePaging(req, 0);
    if (!paging) return http::RenderError(paging.error());
    auto host = QueryText(req, "host", 64);
    if (!host) return http::RenderError(host.error());
    return http::Blocking([ctx, p = *paging, host = std::move(*host)] {
      auto page = ctx->clients.List({host, p.offset, p.page_size});
      if (!page) return ErrorResponse(page.error(), "client.list");
      return Json(200,
                  PageJson("clients", JsonArray(page->clients, oauth::ClientToJson), page->total));
    });
  });

  r.Add("GET", "/oauth2/client/{clientId}", "client", [ctx](Request& req) -> Reply {
    auto caller = Authorize(*ctx, req, kRead, kWrite);
    if (!caller) return RenderAuthError(caller.error());
    return http::Blocking([ctx, id = std::string(req.Param("clientId"))] {
      auto c = ctx->clients.Get(id);
      return c ? Json(200, oauth::ClientToJson(*c)) : ErrorResponse(c.error(), "client.get");
    });
  });

  r.Add("DELETE", "/oauth2/client/{clientId}", "client", [ctx](Request& req) -> Reply {
    auto caller = Authorize(*ctx, req, kWrite);
    if (!caller) return RenderAuthError(caller.error());
    return http::Blocking([ctx, id = std::string(req.Param("clientId")), actor = ActorOf(*caller),
                           by = AuthorityOf(*caller)] {
      auto c = ctx->clients.Delete(id, actor, by);
      return c ? Json(200, oauth::ClientToJson(*c)) : ErrorResponse(c.error(), "client.delete");
    });
  });

  // Beyond light-oauth2: a new secret, shown once; the old one stops working at once.
  r.Add("POST", "/oauth2/client/{clientId}/secret", "client", [ctx](Request& req) -> Reply {
    auto caller = Authorize(*ctx, req, kWrite);
    if (!caller) return RenderAuthError(caller.error());
    return http::Blocking([ctx, id = std::string(req.Param("clientId")), actor = ActorOf(*caller),
                           by = AuthorityOf(*caller)] {
      auto c = ctx->clients.RotateSecret(id, actor, by);
      return c ? ClientResponse(*c) : ErrorResponse(c.error(), "client.rotate_secret");
    });
  });

  r.Add("GET", "/oauth2/client/{clientId}/service", "client", [ctx](Request& req) -> Reply {
    auto caller = Authorize(*ctx, req, kRead, kWrite);
    if (!caller) return RenderAuthError(caller.error());
    return http::Blocking([ctx, id = std::string(req.Param("clientId"))] {
      auto links = ctx->clients.Links(id);
      if (!links) return ErrorResponse(links.error(), "client.links");
      json::object o;
      for (const auto& [sid, endpoints] : *links) {
        json::array a;
        for (const auto& e : endpoints) a.emplace_back(e);
        o[sid] = std::move(a);
      }
      return Json(200, o);
    });
  });

  r.Add("DELETE", "/oauth2/client/{clientId}/service", "client", [ctx](Request& req) -> Reply {
    auto caller = Authorize(*ctx, req, kWrite);
    if (!caller) return RenderAuthError(caller.error());
    return http::Blocking([ctx, id = std::string(req.Param("clientId")), actor = ActorOf(*caller),
                           by = AuthorityOf(*caller)] {
      auto c = ctx->clients.Unlink(id, std::nullopt, actor, by);
      return c ? Json(200, ScopeChangeJson(*c)) : ErrorResponse(c.error(), "client.unlink");
    });
  });

  r.Add("POST", "/oauth2/client/{clientId}/service/{serviceId}", "client",
        [ctx](Request& req) -> Reply {
          auto caller = Authorize(*ctx, req, kWrite);
          if (!caller) return RenderAuthError(caller.error());
          auto endpoints = EndpointIds(req.body);
          if (!endpoints) return http::RenderError(endpoints.error());
          return http::Blocking([ctx, id = std::string(req.Param("clientId")),
                                 sid = std::string(req.Param("serviceId")),
                                 eps = std::move(*endpoints), actor = ActorOf(*caller),
                                 by = AuthorityOf(*caller)] {
            auto c = ctx->clients.Link(id, sid, eps, actor, by);
            if (!c) return ErrorResponse(c.error(), "client.link");
            // light-oauth2 answers {} to an empty list, which changes nothing.
            return Json(200, eps.empty() ? json::object() : ScopeChangeJson(*c));
          });
        });

  r.Add("GET", "/oauth2/client/{clientId}/service/{serviceId}", "client",
        [ctx](Request& req) -> Reply {
          auto caller = Authorize(*ctx, req, kRead, kWrite);
          if (!caller) return RenderAuthError(caller.error());
          return http::Blocking([ctx, id = std::string(req.Param("clientId")),
                                 sid = std::string(req.Param("serviceId"))] {
            auto links = ctx->clients.ServiceLinks(id, sid);
            if (!links) return ErrorResponse(links.error(), "client.service_links");
            json::array a;
            for (const auto& e : *links) a.emplace_back(e);
            return Json(200, a);
          });
        });

  r.Add("DELETE", "/oauth2/client/{clientId}/service/{serviceId}", "client",
        [ctx](Request& req) -> Reply {
          auto caller = Authorize(*ctx, req, kWrite);
          if (!caller) return RenderAuthError(caller.error());
          return http::Blocking([ctx, id = std::string(req.Param("clientId")),
                                 sid = std::string(req.Param("serviceId")),
                                 actor = ActorOf(*caller), by = AuthorityOf(*caller)] {
            auto c = ctx->clients.Unlink(id, std::string_view(sid), actor, by);
            return c ? Json(200, ScopeChangeJson(*c)) : ErrorResponse(c.error(), "client.unlink");
          });
        });
}

}  // namespace portcullis::api::registry
