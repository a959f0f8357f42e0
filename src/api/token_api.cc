#include "api/token_api.h"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <memory>

#include "api/client_form.h"
#include "http/message.h"
#include "http/router.h"
#include "oauth/oidc/user_claims.h"
#include "oauth/token/claims.h"
#include "oauth/token/grant_registry.h"
#include "oauth/token/mtls.h"
#include "oauth/token/token_service.h"

namespace portcullis::api {
namespace {

using http::Reply;
using http::Request;
using http::Response;

// Token endpoint errors: RFC 6749 §5.2 plus WWW-Authenticate on client-authentication failures.
Response TokenError(const Error& e) { return ClientFormError(e); }

Response TokenResponse(const oauth::IssuedToken& t) {
  Response r = Response::Json(200, t.ToJson());
  r.With("Cache-Control", "no-store").With("Pragma", "no-cache");
  return r;
}

// RFC 9449 §8: with nonces on, every token response hands out the current one (a refusal with
// use_dpop_nonce must; on success it spares the client a round trip next time).
Response WithDpopNonce(Response r, const oauth::TokenService& tokens) {
  if (tokens.dpop().nonces_required()) r.With("DPoP-Nonce", tokens.dpop().CurrentNonce());
  return r;
}

// Every DPoP header field, in order (RFC 9449 §4.3 refuses more than one).
std::vector<std::string> DpopProofs(const Request& req) {
  std::vector<std::string> out;
  for (const auto& [name, value] : req.headers) {
    if (http::EqualsNoCase(name, "dpop")) out.emplace_back(value);
  }
  return out;
}

Result<oauth::Params> FormOf(const Request& req) {
  // An empty body needs no content type: it is an empty form (and then lacks grant_type).
  if (!req.body.empty() && !IsFormBody(req)) {
    return Fail(Error::Status("ERR12000", "The body must be application/x-www-form-urlencoded."));
  }
  return oauth::Params::FromForm(req.body);
}

}  // namespace

void RegisterTokenApi(http::Router& router, oauth::TokenService& tokens) {
  router.Add("POST", "/oauth2/token", "token", [&tokens](Request& req) -> Reply {
    auto params = FormOf(req);
    if (!params) return TokenError(params.error());
    // Parsed once: credentials, grant and client serve both the thread choice and the grant.
    oauth::TokenRequest request =
        tokens.Prepare(std::move(*params), req.Header("authorization"), req.remote_ip);
    request.SetDpopProofs(DpopProofs(req));
    if (!req.client_cert.empty()) request.AttachClientCertificate(ClientCertificateOf(req));
    const oauth::GrantNeeds needs = tokens.Needs(request);
    if (needs == oauth::GrantNeeds::kNothing) {
      // The hot path (client_credentials for a cached client) and every early refusal.
      auto t = tokens.Token(request, /*may_block=*/false);
      return WithDpopNonce(t ? TokenResponse(*t) : TokenError(t.error()), tokens);
    }
    auto pool = needs == oauth::GrantNeeds::kSlowHash ? http::Pool::kHash : http::Pool::kStore;
    // Deferred work must be copyable (std::function): the move-only request goes on the heap.
    // Its remote_ip view points into `req`, which outlives the deferred work.
    auto shared = std::make_shared<const oauth::TokenRequest>(std::move(request));
    return http::Deferred{pool, [&tokens, shared] {
                            auto t = tokens.Token(*shared, /*may_block=*/true);
                            return WithDpopNonce(t ? TokenResponse(*t) : TokenError(t.error()),
                                                 tokens);
                          }};
  });

  router.Add("POST", "/oauth2/introspect", "token", [&tokens](Request& req) -> Reply {
    auto params = FormOf(req);
    if (!params) return TokenError(params.error());
    // Parsed once: credentials and caller serve both the thread choice and the answer.
    oauth::IntrospectionRequest request = tokens.PrepareIntrospection(
        std::move(*params), req.Header("authorization"), ClientCertificateOf(req));
    auto answer = [&tokens](const oauth::IntrospectionRequest& r, bool may_block) {
      auto body = tokens.Introspect(r, may_block);
      if (!body) return TokenError(body.error());
      Response out = Response::Json(200, std::move(*body));
      out.With("Cache-Control", "no-store");
      return out;
    };
    // A JWT from a caller with a keyed-digest secret needs no store: answer on this thread.
    if (tokens.IntrospectionNeeds(request) == oauth::GrantNeeds::kNothing) {
      return answer(request, /*may_block=*/false);
    }
    // Deferred work must be copyable (std::function): the request goes on the heap.
    auto shared = std::make_shared<const oauth::IntrospectionRequest>(std::move(request));
    return http::Blocking([answer, shared] { return answer(*shared, /*may_block=*/true); });
  });

  router.Add("POST", "/oauth2/revoke", "token", [&tokens](Request& req) -> Reply {
    auto params = FormOf(req);
    if (!params) return TokenError(params.error());
    return http::Blocking([&tokens, &req, p = std::move(*params)] {
      auto s = tokens.Revoke(p, req.Header("authorization"), ClientCertificateOf(req));
      if (!s) return TokenError(s.error());
      return Response::Text(200, "", "");
    });
  });

  router.Add("GET", "/oauth2/deref/{token}", "token", [&tokens](Request& req) -> Reply {
    return http::Blocking([&tokens, &req] {
      auto jwt = tokens.Deref(req.Param("token"), req.Header("authorization"));
      if (!jwt) return TokenError(jwt.error());
      Response r = Response::Text(200, std::move(*jwt), "application/text");
      r.With("Cache-Control", "no-store");
      return r;
    });
  });

  router.Add("POST", "/oauth2/signing", "token", [&tokens](Request& req) -> Reply {
    return http::Blocking([&tokens, &req] {
      auto t = tokens.SignPayload(req.body, req.Header("authorization"), ClientCertificateOf(req));
      return t ? TokenResponse(*t) : TokenError(t.error());
    });
  });
}

void RegisterDiscovery(http::Router& router, const Discovery& d) {
  namespace json = boost::json;
  json::object m;
  const std::string& base = d.issuer;
  m["issuer"] = base;
  if (d.code_service) m["authorization_endpoint"] = base + "/oauth2/authorize";
  m["token_endpoint"] = base + "/oauth2/token";
  if (d.key_service) m["jwks_uri"] = base + "/oauth2/keys";
  m["introspection_endpoint"] = base + "/oauth2/introspect";
  m["revocation_endpoint"] = base + "/oauth2/revoke";
  m["device_authorization_endpoint"] = base + "/oauth2/device_authorization";  // RFC 8628 §4
  json::array auth_methods = {"client_secret_basic", "client_secret_post", "private_key_jwt"};
  // RFC 8705 §2: the mTLS methods only where a client certificate can reach us (own listener
  // asking for one, or a trusted proxy's header); else no client could ever use them.
  if (d.mtls) {
    auth_methods.emplace_back("tls_client_auth");
    auth_methods.emplace_back("self_signed_tls_client_auth");
  }
  // RFC 8414 §2: public clients (PKCE, RFC 7636) authenticate with `none` at the token endpoint
  // and may revoke their own tokens (RFC 7009 §2.1); introspection needs a confidential client.
  json::array with_none = auth_methods;
  with_none.emplace_back("none");
  m["token_endpoint_auth_methods_supported"] = with_none;
  m["token_endpoint_auth_signing_alg_values_supported"] =
      json::array{"RS256", "PS256", "ES256", "EdDSA"};
  m["introspection_endpoint_auth_methods_supported"] = auth_methods;
  if (!d.dpop_signing_algs.empty()) {
    json::array dpop_algs;
    for (const auto& a : d.dpop_signing_algs) dpop_algs.emplace_back(a);
    m["dpop_signing_alg_values_supported"] = std::move(dpop_algs);
  }
  m["revocation_endpoint_auth_methods_supported"] = with_none;
  // RFC 8705 §3.3: tokens are bound to the client certificate presented at the token endpoint,
  // which can happen only when certificates reach us (own listener or a trusted proxy's header).
  if (d.mtls) m["tls_client_certificate_bound_access_tokens"] = true;
  // RFC 8705 §5: an mTLS front of its own (so browsers on the ordinary host are never asked for
  // a certificate) has its endpoint URLs published as aliases. Without one, the same endpoints
  // serve both kinds of client and there are no aliases.
  if (d.mtls && !d.mtls_base_url.empty()) {
    const std::string& mtls = d.mtls_base_url;
    json::object aliases;
    aliases["token_endpoint"] = mtls + "/oauth2/token";
    aliases["introspection_endpoint"] = mtls + "/oauth2/introspect";
    aliases["revocation_endpoint"] = mtls + "/oauth2/revoke";
    aliases["device_authorization_endpoint"] = mtls + "/oauth2/device_authorization";
    aliases["userinfo_endpoint"] = mtls + "/oauth2/userinfo";
    if (d.code_service) aliases["pushed_authorization_request_endpoint"] = mtls + "/oauth2/par";
    m["mtls_endpoint_aliases"] = std::move(aliases);
  }
  json::array grant_types;
  for (const auto& g : oauth::GrantRegistry::Default().grants())
    grant_types.emplace_back(g->name());
  m["grant_types_supported"] = std::move(grant_types);
  if (d.code_service) {
    m["response_types_supported"] = json::array{"code"};
    m["code_challenge_methods_supported"] = json::array{"S256"};
    m["authorization_response_iss_parameter_supported"] = true;  // RFC 9207
    // authorize: the authorization request parameters (OIDC Discovery §3, OAuth 2.0 Form Post
    // Response Mode, OIDC Prompt Create §4.1). Request objects are refused.
    m["response_modes_supported"] = json::array{"query", "form_post"};
    m["prompt_values_supported"] = json::array{"none", "login", "consent"};
    m["request_parameter_supported"] = false;
    // request_uri_parameter_supported stays false: omitted it would mean true (OIDC Discovery
    // §3), i.e. request objects by reference, which are refused. RFC 9126 §5: a request_uri from
    // the PAR endpoint is usable whatever that member says.
    m["request_uri_parameter_supported"] = false;
    m["pushed_authorization_request_endpoint"] = base + "/oauth2/par";  // RFC 9126 §5
    m["require_pushed_authorization_requests"] = false;
  } else {
    m["response_types_supported"] = json::array{};
  }
  // OpenID Connect Discovery 1.0 §3: ID tokens, claims and userinfo (oauth/oidc).
  m["userinfo_endpoint"] = base + "/oauth2/userinfo";
  json::array oidc_scopes, claims, id_algs;
  for (auto s : oauth::oidc::OidcScopes()) oidc_scopes.emplace_back(s);
  for (auto c : oauth::oidc::ClaimsSupported()) claims.emplace_back(c);
  for (const auto& a : d.id_token_signing_algs) id_algs.emplace_back(a);
  m["scopes_supported"] = std::move(oidc_scopes);
  m["claims_supported"] = std::move(claims);
  m["subject_types_supported"] = json::array{"public"};
  m["id_token_signing_alg_values_supported"] = std::move(id_algs);
  if (d.code_service) m["claims_parameter_supported"] = true;
  // OpenID Connect logout (issue 15, logout slice): the end_session_endpoint is the code
  // service's /oauth2/logout (RP-Initiated Logout §2.1); back-channel logout tokens always carry
  // sid, participation being recorded per session (Back-Channel Logout §2.1).
  if (d.code_service) {
    m["end_session_endpoint"] = base + "/oauth2/logout";
    m["backchannel_logout_supported"] = true;
    m["backchannel_logout_session_supported"] = true;
  }
  std::string body = json::serialize(m);
  auto handler = [body](Request&) -> Reply {
    Response r = Response::Json(200, body);
    r.With("Cache-Control", "public, max-age=300");
    return r;
  };
  router.Add("GET", "/.well-known/oauth-authorization-server", "token", handler);
  router.Add("GET", "/.well-known/openid-configuration", "token", handler);
}

}  // namespace portcullis::api
