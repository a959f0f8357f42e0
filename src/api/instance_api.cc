#include "api/instance_api.h"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

namespace portcullis::api {

namespace json = boost::json;
using http::Reply;
using http::Request;
using http::Response;

void RegisterInstanceApi(http::Router& router, const AdminAuth& auth, oauth::InstanceStore& store,
                         const Clock& clock) {
  router.Add("GET", "/oauth2/instances", "console", [&auth, &store, &clock](Request& req) -> Reply {
    auto caller = auth.Authorize(req, "oauth.audit.r");
    if (!caller) return RenderAuthError(caller.error());
    return http::Blocking([&store, &clock] {
      auto list = store.List();
      if (!list) return http::RenderError(list.error());
      const int64_t now = clock.Now();
      json::array items;
      for (const auto& i : *list) {
        json::array services;
        size_t start = 0;
        while (start < i.services.size()) {
          size_t sp = i.services.find(' ', start);
          if (sp == std::string::npos) sp = i.services.size();
          if (sp > start) services.emplace_back(i.services.substr(start, sp - start));
          start = sp + 1;
        }
        json::object o;
        o["instanceId"] = i.instance_id;
        o["host"] = i.host;
        o["pid"] = i.pid;
        o["services"] = std::move(services);
        o["version"] = i.version;
        o["startedAt"] = i.started_at;
        o["lastSeen"] = i.last_seen;
        o["stale"] = i.last_seen < now - oauth::kInstanceStaleSeconds;
        items.emplace_back(std::move(o));
      }
      Response r = Response::Json(200, json::serialize(items));
      r.With("Cache-Control", "no-store");
      return r;
    });
  });
}

}  // namespace portcullis::api
