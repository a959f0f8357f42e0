// The audit trail of admin changes, scope oauth.audit.r:
//   GET /oauth2/audit?page=&pageSize=&entityKind=&entityId=&actor=&action=&since=&until=
// page counts from 0 and is optional here; the answer is {"entries":[...],"total":n}, newest
// first. `action` matches exactly, or as a prefix when it ends in '.' ("client.").
#include <charconv>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "api/registry_support.h"
#include "oauth/client/validation.h"

namespace portcullis::api::registry {
namespace {

using http::Reply;
using http::Request;

Result<std::optional<int64_t>> TimeParam(const Request& req, std::string_view name) {
  auto v = req.QueryParam(name);
  if (!v || v->empty()) return std::optional<int64_t>();
  int64_t out = 0;
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), out);
  if (ec != std::errc() || p != v->data() + v->size()) {
    return Fail(oauth::FieldError(name, "must be unix seconds"));
  }
  return std::optional<int64_t>(out);
}

}  // namespace

void RegisterAuditRoutes(http::Router& r, const ContextPtr& ctx) {
  r.Add("GET", "/oauth2/audit", "audit", [ctx](Request& req) -> Reply {
    auto caller = Authorize(*ctx, req, "oauth.audit.r");
    if (!caller) return RenderAuthError(caller.error());
    auto paging = ParsePaging(req, 0, false);
    if (!paging) return http::RenderError(paging.error());
    oauth::audit::Query q;
    for (auto [name, field] :
         {std::pair{"entityKind", &q.entity_kind}, std::pair{"entityId", &q.entity_id},
          std::pair{"actor", &q.actor}, std::pair{"action", &q.action}}) {
      auto v = QueryText(req, name, 256);
      if (!v) return http::RenderError(v.error());
      *field = std::move(*v);
    }
    auto since = TimeParam(req, "since");
    if (!since) return http::RenderError(since.error());
    auto until = TimeParam(req, "until");
    if (!until) return http::RenderError(until.error());
    q.since = *since;
    q.until = *until;
    q.offset = paging->offset;
    q.limit = paging->page_size;
    return http::Blocking([ctx, q] {
      auto page = ctx->audit.List(q);
      if (!page) return ErrorResponse(page.error(), "audit.list");
      return Json(
          200, PageJson("entries", JsonArray(page->entries, oauth::audit::RowToJson), page->total));
    });
  });
}

}  // namespace portcullis::api::registry
