#include "api/key_api.h"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "api/admin_auth.h"
#include "api/registry_support.h"
#include "http/message.h"
#include "http/router.h"
#include "oauth/key/key_admin.h"
#include "oauth/key/key_manager.h"
#include "oauth/provider/federation.h"
#include "oauth/token/token_service.h"

namespace portcullis::api {
namespace {

using http::Reply;
using http::Request;
using http::Response;

bool EtagMatches(std::string_view if_none_match, std::string_view etag) {
  // RFC 9110 §13.1.2: a list of entity tags, or "*"; weak comparison.
  size_t pos = 0;
  while (pos < if_none_match.size()) {
    size_t comma = if_none_match.find(',', pos);
    std::string_view item = if_none_match.substr(
        pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item.starts_with("W/")) item.remove_prefix(2);
    if (item == "*" || item == etag) return true;
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  return false;
}

Response KeyError(const Error& e) {
  Response r = http::RenderError(e);
  if (e.http_status == 401) r.With("WWW-Authenticate", "Basic realm=\"portcullis\"");
  return r;
}

}  // namespace

void RegisterKeyApi(http::Router& router, oauth::KeyManager& keys, oauth::KeyAdmin& admin,
                    oauth::TokenService& tokens, const AdminAuth& auth,
                    oauth::Federation& federation, const KeyApiOptions& options) {
  // Served from the ring's precomputed bytes and ETag: no store access per request.
  std::string cache_control = "public, max-age=" + std::to_string(options.jwks_max_age_s);
  auto jwks = [&keys, cache_control](Request& req) -> Reply {
    auto ring = keys.ring();
    if (auto inm = req.Header("if-none-match"); inm && EtagMatches(*inm, ring->jwks_etag())) {
      Response r = Response::Text(304, "", "");
      r.With("ETag", ring->jwks_etag()).With("Cache-Control", cache_control);
      return r;
    }
    Response r = Response::Json(200, ring->jwks_json());
    r.content_type = "application/jwk-set+json";
    r.With("ETag", ring->jwks_etag()).With("Cache-Control", cache_control);
    return r;
  };
  router.Add("GET", "/oauth2/keys", "key", jwks);
  router.Add("GET", "/.well-known/jwks.json", "key", jwks);

  // light-oauth2 §10.1: a two-digit provider prefix on kids of 4+ characters; "00" is the
  // unauthenticated path federated peers use; our own prefix (or none) needs client Basic
  // credentials.
  router.Add(
      "GET", "/oauth2/key/{kid}", "key",
      [&keys, &tokens, &federation, provider = options.provider_id](Request& req) -> Reply {
        std::string kid(req.Param("kid"));
        // [0-9A-Za-z]{1,64}, before anything else: a foreign kid becomes part of a URL.
        if (!oauth::IsValidKid(kid)) return KeyError(Error::Status("ERR12030"));
        std::string prefix = kid.size() >= 4 ? kid.substr(0, 2) : "";
        bool federation_path = prefix == "00";
        bool foreign = !prefix.empty() && !federation_path && prefix != provider;
        std::string local = federation_path ? provider + kid.substr(2) : kid;
        auto answer = [&keys, local] {
          auto ring = keys.ring();
          const std::string* pem = ring->CertificatePem(local);
          if (!pem) return KeyError(Error::Status("ERR12030"));
          return Response::Text(200, *pem, "application/text");
        };
        if (federation_path) return answer();
        auto authz = req.Header("authorization");
        if (!authz || authz->empty()) return KeyError(Error::Status("ERR12002"));
        auto creds = oauth::ReadClientCredentials(authz, nullptr);
        // Upstream answers a non-Basic header with ERR12007 (reference §10.1).
        if (!creds) {
          return KeyError(creds.error().code == "ERR12003" ? Error::Status("ERR12007")
                                                           : creds.error());
        }
        return http::Blocking([&tokens, &federation, c = std::move(*creds), answer, foreign, kid] {
          auto client = tokens.AuthenticateClient(c, true);
          if (!client) return KeyError(client.error());
          if (!foreign) return answer();
          // Another provider's key, relayed from its key service (§10.3).
          auto pem = federation.Certificate(kid);
          if (!pem) return KeyError(pem.error());
          return Response::Text(200, std::move(*pem), "application/text");
        });
      });

  // Admin: key states, on-demand rotation, emergency revocation.
  router.Add("GET", "/oauth2/keys/admin", "key", [&keys, &auth](Request& req) -> Reply {
    if (auto c = auth.Authorize(req, "oauth.key.r"); !c) return RenderAuthError(c.error());
    namespace json = boost::json;
    json::array out;
    for (const auto& k : keys.ring()->published()) out.push_back(oauth::KeyToJson(k));
    return Response::Json(200, json::serialize(out));
  });
  router.Add("POST", "/oauth2/keys/rotate", "key", [&admin, &auth](Request& req) -> Reply {
    auto c = auth.Authorize(req, "oauth.key.w");
    if (!c) return RenderAuthError(c.error());
    return http::Blocking([&admin, actor = registry::ActorOf(*c)] {
      auto kid = admin.Rotate(actor);
      if (!kid) return http::RenderError(kid.error());
      return Response::Json(200, "{\"kid\":\"" + *kid + "\"}");
    });
  });
  router.Add("POST", "/oauth2/keys/{kid}/revoke", "key", [&admin, &auth](Request& req) -> Reply {
    auto c = auth.Authorize(req, "oauth.key.w");
    if (!c) return RenderAuthError(c.error());
    return http::Blocking(
        [&admin, kid = std::string(req.Param("kid")), actor = registry::ActorOf(*c)] {
          auto s = admin.Revoke(kid, actor);
          if (!s) return http::RenderError(s.error());
          return Response::Json(200, "{\"kid\":\"" + kid + "\",\"state\":\"revoked\"}");
        });
  });
}

}  // namespace portcullis::api
