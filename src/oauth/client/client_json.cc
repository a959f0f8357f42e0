#include "oauth/client/client_json.h"

#include <algorithm>
#include <array>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "oauth/client/validation.h"

namespace portcullis::oauth {
namespace {

namespace json = boost::json;

json::value OrNull(const std::string& s) {
  return s.empty() ? json::value(nullptr) : json::value(s);
}

json::array Array(const std::vector<std::string>& items) {
  json::array a;
  for (const auto& s : items) a.emplace_back(s);
  return a;
}

// customClaim and jwks arrive either as JSON text (light-oauth2 sends customClaim as a string)
// or as an object; both are kept as text.
std::optional<std::string> JsonText(JsonFields& f, std::string_view key) {
  const json::value* v = f.Raw(key);
  if (v == nullptr) return std::nullopt;
  if (v->is_null()) return std::string();
  if (v->is_string()) return std::string(v->as_string().data(), v->as_string().size());
  if (v->is_object()) return json::serialize(*v);
  f.Fail(key, "must be a JSON object or a string holding one");
  return std::nullopt;
}

// A true/false member; null reads as false.
std::optional<bool> OptionalBool(JsonFields& f, std::string_view key) {
  const json::value* v = f.Raw(key);
  if (v == nullptr) return std::nullopt;
  if (v->is_bool()) return v->as_bool();
  if (v->is_null()) return false;
  f.Fail(key, "must be true or false");
  return std::nullopt;
}

// RFC 8705 §2.1.2 metadata, in our camelCase.
constexpr std::array<std::pair<std::string_view, TlsSubjectKind>, 5> kTlsSubjectFields = {{
    {"tlsClientAuthSubjectDn", TlsSubjectKind::kSubjectDn},
    {"tlsClientAuthSanDns", TlsSubjectKind::kSanDns},
    {"tlsClientAuthSanUri", TlsSubjectKind::kSanUri},
    {"tlsClientAuthSanIp", TlsSubjectKind::kSanIp},
    {"tlsClientAuthSanEmail", TlsSubjectKind::kSanEmail},
}};

// Exactly one name may be registered (RFC 8705 §2.1.2); null or "" members clear it.
void ReadTlsSubject(JsonFields& f, ClientPatch& p) {
  for (const auto& [key, kind] : kTlsSubjectFields) {
    auto v = f.Str(key);
    if (!v) continue;
    if (v->empty()) {
      if (!p.tls_subject) p.tls_subject.emplace(TlsSubjectKind::kNone, "");
      continue;
    }
    if (p.tls_subject && p.tls_subject->first != TlsSubjectKind::kNone) {
      f.Fail(key,
             "only one of tlsClientAuthSubjectDn, tlsClientAuthSanDns, tlsClientAuthSanUri, "
             "tlsClientAuthSanIp and tlsClientAuthSanEmail may be set");
      return;
    }
    p.tls_subject.emplace(kind, std::move(*v));
  }
  if (const json::value* b = f.Raw("tlsClientCertificateBoundAccessTokens")) {
    if (b->is_null()) {
      p.tls_bound_tokens = false;
    } else if (b->is_bool()) {
      p.tls_bound_tokens = b->as_bool();
    } else {
      f.Fail("tlsClientCertificateBoundAccessTokens", "must be a boolean");
    }
  }
}

}  // namespace

Result<ClientPatch> ClientPatchFromJson(const boost::json::object& body) {
  JsonFields f(body);
  ClientPatch p;
  p.client_id = f.Str("clientId");
  p.client_type = f.Str("clientType");
  p.client_profile = f.Str("clientProfile");
  p.client_name = f.Str("clientName");
  p.client_desc = f.Str("clientDesc");
  p.owner_id = f.Str("ownerId");
  p.host = f.Str("host");
  p.scope = f.Str("scope");
  p.custom_claim = JsonText(f, "customClaim");
  auto redirect_uri = f.Str("redirectUri");
  p.redirect_uris = f.StrList("redirectUris");
  p.grant_types = f.StrList("grantTypes");
  p.token_profile = f.Str("tokenProfile");
  p.access_token_ttl = f.Int("accessTokenTtl");
  p.auth_method = f.Str("authMethod");
  p.jwks = JsonText(f, "jwks");
  p.jwks_uri = f.Str("jwksUri");
  p.authenticate_class = f.Str("authenticateClass");
  p.deref_client_id = f.Str("derefClientId");
  p.post_logout_redirect_uris = f.StrList("postLogoutRedirectUris");
  p.backchannel_logout_uri = f.Str("backchannelLogoutUri");
  p.id_token_signed_response_alg = f.Str("idTokenSignedResponseAlg");
  p.require_par = OptionalBool(f, "requirePushedAuthorizationRequests");
  p.dpop_bound_access_tokens = OptionalBool(f, "dpopBoundAccessTokens");
  ReadTlsSubject(f, p);
  p.profile = f.Str("profile");
  p.second_factor = f.Str("secondFactor");
  // Echoed back by clients that GET, edit and PUT the whole object; never written from here.
  // A clientSecret in a request is ignored: secrets are only ever generated (create, rotate).
  f.Ignore("clientSecret");
  f.Ignore("createdAt");
  f.Ignore("updatedAt");
  if (auto st = f.Finish(); !st) return Fail(std::move(st.error()));

  // light-oauth2's single redirectUri is the first of the list.
  if (redirect_uri) {
    if (!p.redirect_uris) {
      p.redirect_uris = std::vector<std::string>{};
      if (!redirect_uri->empty()) p.redirect_uris->push_back(*redirect_uri);
    } else if (!redirect_uri->empty() && std::find(p.redirect_uris->begin(), p.redirect_uris->end(),
                                                   *redirect_uri) == p.redirect_uris->end()) {
      p.redirect_uris->insert(p.redirect_uris->begin(), *redirect_uri);
    }
  }
  return p;
}

boost::json::object ClientToJson(const Client& c) {
  json::object o;
  o["clientId"] = c.client_id;
  o["clientType"] = ClientTypeName(c.client_type);
  o["clientProfile"] = c.client_profile;
  o["clientName"] = c.client_name;
  o["clientDesc"] = OrNull(c.client_desc);
  o["ownerId"] = c.owner_id;
  o["host"] = c.host;
  o["scope"] = JoinScope(c.scope);
  o["customClaim"] = OrNull(c.custom_claim);
  o["redirectUri"] =
      c.redirect_uris.empty() ? json::value(nullptr) : json::value(c.redirect_uris[0]);
  o["redirectUris"] = Array(c.redirect_uris);
  o["grantTypes"] = Array(c.grant_types);
  o["tokenProfile"] = TokenProfileName(c.token_profile);
  o["accessTokenTtl"] =
      c.access_token_ttl ? json::value(*c.access_token_ttl) : json::value(nullptr);
  // null when the registration named no secret method: such a client accepts both (light-oauth2),
  // and a GET-edit-PUT that echoes null keeps it that way.
  o["authMethod"] = c.auth_method_explicit || !UsesSecret(c.auth_method)
                        ? json::value(AuthMethodName(c.auth_method))
                        : json::value(nullptr);
  json::value jwks = nullptr;
  if (!c.jwks.empty()) {
    json::error_code ec;
    jwks = json::parse(c.jwks, ec);
    if (ec) jwks = nullptr;
  }
  o["jwks"] = std::move(jwks);
  o["jwksUri"] = OrNull(c.jwks_uri);
  o["authenticateClass"] = OrNull(c.authenticate_class);
  o["derefClientId"] = OrNull(c.deref_client_id);
  o["postLogoutRedirectUris"] = Array(c.post_logout_redirect_uris);
  o["backchannelLogoutUri"] = OrNull(c.backchannel_logout_uri);
  o["idTokenSignedResponseAlg"] = OrNull(c.id_token_signed_response_alg);
  o["requirePushedAuthorizationRequests"] = c.require_par;
  o["dpopBoundAccessTokens"] = c.dpop_bound_access_tokens;
  for (const auto& [key, kind] : kTlsSubjectFields) {
    o[key] = c.tls_subject_kind == kind ? json::value(c.tls_subject) : json::value(nullptr);
  }
  o["tlsClientCertificateBoundAccessTokens"] = c.tls_bound_tokens;
  o["profile"] =
      c.IsFapi2() ? json::value(SecurityProfileName(c.security_profile)) : json::value(nullptr);
  o["secondFactor"] = c.second_factor_required ? "required" : "optional";
  o["createdAt"] = c.created_at;
  o["updatedAt"] = c.updated_at;
  return o;
}

}  // namespace portcullis::oauth
