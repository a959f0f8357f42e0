#include "api/verify_api.h"

#include <openssl/evp.h>
#include <strings.h>

#include <atomic>
#include <memory>
#include <unordered_map>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "api/admin_auth.h"
#include "common/clock.h"
#include "common/encoding.h"
#include "http/message.h"
#include "http/router.h"
#include "oauth/service/service_catalog.h"
#include "oauth/token/token_service.h"
#include "verify/claims.h"
#include "verify/endpoint_table.h"
#include "verify/sender.h"

namespace portcullis::api {
namespace {

using http::Reply;
using http::Request;
using http::Response;

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : " ") + s;
  return out;
}

// Header values go back to the gateway, which copies them upstream: never let a claim smuggle
// a line break or a control character into them.
std::string HeaderSafe(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (static_cast<unsigned char>(c) >= 0x20 && c != 0x7f) out += c;
  }
  return out;
}

std::string Quoted(std::string_view v) {
  std::string out;
  for (char c : HeaderSafe(v)) {
    if (c != '"' && c != '\\') out += c;
  }
  return out;
}

std::optional<std::string_view> BearerOf(std::optional<std::string_view> value) {
  if (!value) return std::nullopt;
  std::string_view v = *value;
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  if (v.size() < 8 || strncasecmp(v.data(), "bearer ", 7) != 0) return std::nullopt;
  v.remove_prefix(7);
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
  if (v.empty()) return std::nullopt;
  return v;
}

// RFC 6750 §3.
Response Unauthorized(Error e) {
  Response r = http::RenderError(e);
  r.status = 401;
  r.With("WWW-Authenticate",
         "Bearer error=\"invalid_token\", error_description=\"" + Quoted(e.description) + "\"");
  return r;
}

Response Forbidden(Error e, std::string_view scope) {
  e.http_status = 403;
  Response r = http::RenderError(e);
  std::string challenge = "Bearer error=\"insufficient_scope\"";
  if (!scope.empty()) challenge += ", scope=\"" + Quoted(scope) + "\"";
  r.With("WWW-Authenticate", challenge);
  return r;
}

struct Identity {
  std::string client_id, user_id, subject;
  std::vector<std::string> scopes;
};

// Compiled endpoint tables per catalog entry: rebuilt only when the catalog swaps the entry.
// Copy-on-write behind an atomic pointer, so readers never lock; racing writers may both
// compile, harmlessly.
class TableCache {
 public:
  std::shared_ptr<const verify::EndpointTable> For(
      const std::shared_ptr<const oauth::ServiceEntry>& entry) {
    auto snap = map_.load(std::memory_order_acquire);
    if (auto it = snap->find(entry->service.service_id);
        it != snap->end() && it->second.first == entry) {
      return it->second.second;
    }
    std::vector<verify::EndpointTable::Entry> entries;
    entries.reserve(entry->endpoints.size());
    for (const auto& e : entry->endpoints) entries.push_back({e.endpoint, e.scope});
    auto path_case = entry->service.path_case == "insensitive" ? verify::PathCase::kInsensitive
                                                               : verify::PathCase::kExact;
    auto table = std::make_shared<const verify::EndpointTable>(
        verify::EndpointTable::FromEntries(entries, path_case));
    auto next = std::make_shared<Map>(*snap);
    (*next)[entry->service.service_id] = {entry, table};
    map_.store(std::move(next), std::memory_order_release);
    return table;
  }

 private:
  using Map =
      std::unordered_map<std::string, std::pair<std::shared_ptr<const oauth::ServiceEntry>,
                                                std::shared_ptr<const verify::EndpointTable>>>;
  std::atomic<std::shared_ptr<const Map>> map_{std::make_shared<const Map>()};
};

// A refused sender-constrained token: RFC 9449 §7.1 / RFC 8705 §3.
Response SenderRefused(const verify::SenderRefusal& r, const verify::DpopPolicy& policy) {
  Response out = http::RenderError(Error::OAuth(401, r.error, r.description, r.reason));
  out.With("WWW-Authenticate", verify::Challenge(r, policy));
  return out;
}

struct Ctx {
  explicit Ctx(const VerifyApiDeps& d)
      : deps(d), clock(d.clock ? *d.clock : SystemClock::Instance()), replay(kReplayCapacity) {
    policy.window_seconds = deps.dpop_window_s;
  }
  static constexpr size_t kReplayCapacity = 100000;
  VerifyApiDeps deps;
  const Clock& clock;
  std::vector<std::string> shared_audiences{deps.default_audience};
  TableCache tables;
  verify::DpopPolicy policy;
  mutable verify::ReplayCache replay;

  // What came with the request besides the token, for the binding checks; `proofs` and `htu`
  // keep the joined DPoP fields and the rebuilt URI alive while `presented` views them.
  struct Binding {
    verify::Presented presented;
    std::string proofs, htu;
  };

  // Signature, exp/nbf/iat (with the ring's leeway), issuer, typ, aud, deny-list, and the
  // sender constraint (`presented`; `refused` is set when that fails, and `used` to the policy
  // it was checked with, for the challenge's algs).
  Result<Identity> Check(std::string_view token, bool scope_token, std::string_view service_id,
                         const verify::Presented& presented,
                         std::optional<verify::SenderRefusal>& refused,
                         verify::DpopPolicy& used) const {
    auto claims = deps.keys.Verify(token);
    if (!claims) {
      Error e = claims.error();
      if (scope_token) {
        e = Error::Status(e.code == "ERR10001" ? "ERR10004" : "ERR10003", {}, e.detail);
      }
      return Fail(std::move(e));
    }
    auto invalid = [&](std::string why) {
      return Fail(scope_token ? Error::Status("ERR10003", "Invalid scope token (" + why + ").")
                              : Error::Status("ERR10000", "Invalid JWT token (" + why + ")."));
    };
    if (verify::FirstString(*claims, {"iss"}) != deps.issuer) return invalid("wrong_issuer");
    // RFC 8725 §3.11: tokens from POST /oauth2/signing sign data; they are not access tokens.
    if (verify::IsSignedPayloadTyp(verify::HeaderTyp(token))) return invalid("wrong_type");
    // RFC 9068 §4: a token requested for another service (resource=...) is not for this one.
    if (!verify::AudienceAdmits(*claims, service_id, shared_audiences)) {
      return invalid("wrong_audience");
    }
    std::string jti = verify::FirstString(*claims, {"jti"});
    if (!jti.empty() && deps.revoked.Contains(jti)) return invalid("revoked");
    // Unbound tokens sent as Bearer stop at the lookup of "cnf".
    if (presented.dpop_scheme || claims->contains("cnf")) {
      used = policy;
      // FAPI 2.0 §5.4.1: a fapi2 client's token takes PS256, ES256 or EdDSA proofs only.
      if (deps.proof_algorithms) {
        used.algorithms =
            deps.proof_algorithms(verify::FirstString(*claims, {"client_id"}), policy.algorithms);
      }
      refused = verify::CheckSenderConstraint(*claims, token, presented, used, clock.Now(), replay);
      if (refused) return Fail(Error::OAuth(401, refused->error, refused->description));
    }
    Identity id;
    id.client_id = verify::FirstString(*claims, {"client_id", "cid", "azp"});
    id.user_id = verify::FirstString(*claims, {"user_id", "uid"});
    id.subject = verify::FirstString(*claims, {"sub"});
    id.scopes = verify::ScopesOf(*claims);
    return id;
  }

  Reply Verify(const Request& req) {
    auto scope_header = req.Header("x-scope-token");
    std::optional<std::string_view> scope_token;
    if (scope_header) {
      scope_token = BearerOf(scope_header);
      if (!scope_token) {
        std::string_view raw = *scope_header;
        while (!raw.empty() && raw.front() == ' ') raw.remove_prefix(1);
        if (!raw.empty()) scope_token = raw;
      }
    }
    std::optional<std::string_view> token;
    Binding binding;
    verify::Presented& presented = binding.presented;
    if (auto a = req.Header("authorization")) {
      if (auto t = verify::ParseAuthorization(*a)) {
        token = t->token;
        presented.dpop_scheme = t->dpop;
      }
    }
    if (!token) {
      // light-4j getScopeToken: without a Bearer Authorization the X-Scope-Token is the token.
      if (!scope_token) return Unauthorized(Error::Status("ERR10002"));
      token = scope_token;
      scope_token.reset();
    }
    // Fail closed: without a service there is no endpoint table, and a token alone must not
    // pass (nginx drops an empty X-Service-Id, so a mistyped map would switch the check off).
    std::string_view service_id = deps.default_service;
    if (auto h = req.Header("x-service-id"); h && !h->empty()) service_id = *h;
    if (service_id.empty()) {
      Error e = Error::Status("ERR11017",
                              "No service to check: the gateway must send X-Service-Id "
                              "(or set verify.default_service).");
      e.http_status = 403;
      return http::RenderError(e);
    }
    auto method = req.Header("x-original-method");
    auto uri = req.Header("x-original-uri");
    if (!method || !uri || method->empty() || uri->empty()) {
      return http::RenderError(Error::OAuth(
          400, "invalid_request", "/oauth2/verify needs X-Original-Method and X-Original-URI."));
    }
    if (Status b = Bind(req, *method, *uri, binding); !b) return http::RenderError(b.error());
    std::optional<verify::SenderRefusal> refused;
    verify::DpopPolicy used = policy;
    auto primary = Check(*token, false, service_id, presented, refused, used);
    if (refused) return SenderRefused(*refused, used);
    if (!primary) return Unauthorized(primary.error());
    std::optional<Identity> caller;
    if (scope_token) {
      verify::Presented scope_presented;  // Bearer, no proof; the certificate may bind it
      scope_presented.certificate = presented.certificate;
      auto s = Check(*scope_token, true, service_id, scope_presented, refused, used);
      if (refused) return SenderRefused(*refused, used);
      if (!s) return Unauthorized(s.error());
      caller = std::move(*s);
    }

    auto entry = deps.services.Find(service_id);
    if (!entry) {
      return Forbidden(
          Error::Status("ERR10005", "Service " + HeaderSafe(service_id) + " is not registered."),
          {});
    }
    auto table = tables.For(entry);
    verify::MatchResult match = table->Lookup(*method, *uri);
    const verify::EndpointRule* rule = match.rule;
    if (rule == nullptr) {
      std::string why = match.status == verify::MatchStatus::kNoEndpoint
                            ? "No endpoint of service " + HeaderSafe(service_id) + " matches " +
                                  HeaderSafe(*method) + " " +
                                  HeaderSafe(uri->substr(0, uri->find('?'))) + "."
                            : "The request path is refused: " + match.why + ".";
      return Forbidden(Error::Status("ERR10007", std::move(why)), {});
    }
    const auto& granted = caller ? caller->scopes : primary->scopes;
    if (!verify::AnyScope(rule->scopes, granted)) {
      return Forbidden(
          Error::Status("ERR10005", std::string(caller ? "The scope token" : "The token") +
                                        " lacks scope " + rule->scope + "."),
          rule->scope);
    }

    Response r = Response::Text(204, "", "");
    r.With("X-Client-Id", HeaderSafe(primary->client_id))
        .With("X-User-Id", HeaderSafe(primary->user_id))
        .With("X-Scope", HeaderSafe(Join(primary->scopes)))
        .With("Cache-Control", "no-store");
    if (!primary->subject.empty()) r.With("X-Subject", HeaderSafe(primary->subject));
    if (caller) r.With("X-Scope-Client-Id", HeaderSafe(caller->client_id));
    return r;
  }

  // Fills `b` from the forwarded headers: for the DPoP scheme the DPoP fields (all of them, so
  // that several are refused), the method and public URI; the client certificate when a
  // trusted proxy sent it. Fails (400) only when a DPoP request lacks what is needed to rebuild
  // its URI. A Bearer request without a certificate header costs one header lookup.
  Status Bind(const Request& req, std::string_view method, std::string_view uri, Binding& b) const {
    verify::Presented& p = b.presented;
    if (!deps.client_cert_header.empty()) {
      if (auto cert = req.Header(deps.client_cert_header);
          cert && !cert->empty() && deps.trusted_proxies.Contains(req.peer_ip)) {
        p.certificate = *cert;
      }
    }
    // Otherwise the certificate of the connection itself (server.tls_client_certs), or the one
    // the server's own proxy-header setting accepted (server.client_cert_header): DER.
    if (!p.certificate && !req.client_cert.empty()) p.certificate = req.client_cert;
    if (!p.dpop_scheme) return {};  // a bound token is refused whatever proof came along
    p.method = method;
    int proofs = 0;
    for (const auto& [name, value] : req.headers) {
      if (name == "dpop") {
        if (proofs++ > 0) b.proofs += ',';
        b.proofs += value;
      }
    }
    if (proofs > 0) p.proof = b.proofs;
    if (uri.starts_with("http://") || uri.starts_with("https://")) {
      b.htu = std::string(uri);
    } else {
      auto proto = req.Header("x-forwarded-proto");
      auto host = req.Header("x-forwarded-host");
      if (!proto || !host || proto->empty() || host->empty()) {
        return Fail(Error::OAuth(400, "invalid_request",
                                 "/oauth2/verify needs X-Forwarded-Proto and X-Forwarded-Host "
                                 "to check DPoP proofs."));
      }
      b.htu = std::string(*proto) + "://" + std::string(*host) + std::string(uri);
    }
    p.htu = b.htu;
    return {};
  }

  Reply Revoked(const Request& req) const {
    auto caller = deps.auth.Authorize(req, "oauth.revoked.r");
    if (!caller && caller.error().http_status == 403) caller = deps.auth.Authorize(req, "portal.r");
    if (!caller) return RenderAuthError(caller.error());
    boost::json::array list;
    for (const auto& [jti, exp] : deps.revoked.Entries()) {
      list.push_back(boost::json::object{{"jti", jti}, {"exp", exp}});
    }
    std::string body = boost::json::serialize(boost::json::object{{"revoked", list}});
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(body.data(), body.size(), md, &len, EVP_sha256(), nullptr);
    std::string etag = "\"" + HexEncode(std::string_view(reinterpret_cast<char*>(md), 16)) + "\"";
    if (auto inm = req.Header("if-none-match"); inm && *inm == etag) {
      Response r = Response::Text(304, "", "");
      r.With("ETag", etag).With("Cache-Control", "no-cache");
      return r;
    }
    Response r = Response::Json(200, std::move(body));
    r.With("ETag", etag).With("Cache-Control", "no-cache");
    return r;
  }
};

}  // namespace

void RegisterVerifyApi(http::Router& router, const VerifyApiDeps& deps) {
  auto ctx = std::make_shared<Ctx>(deps);
  router.Add("GET", "/oauth2/verify", "token", [ctx](Request& req) { return ctx->Verify(req); });
  router.Add("GET", "/oauth2/revoked", "token", [ctx](Request& req) { return ctx->Revoked(req); });
}

}  // namespace portcullis::api
