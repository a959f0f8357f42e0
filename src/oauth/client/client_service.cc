#include "oauth/client/client_service.h"

#include <strings.h>

#include <algorithm>
#include <set>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "common/log.h"
#include "jose/key_set.h"
#include "oauth/audit/audit.h"
#include "oauth/client/validation.h"

namespace portcullis::oauth {
namespace {

namespace json = boost::json;

constexpr size_t kMaxRedirectUris = 20;
constexpr int64_t kMaxAccessTokenTtl = 86400;

json::object LinksJson(std::string_view service_id, const std::vector<std::string>& endpoints,
                       const std::string& scope) {
  json::object o;
  if (!service_id.empty()) o["serviceId"] = service_id;
  json::array a;
  for (const auto& e : endpoints) a.emplace_back(e);
  o["endpoints"] = std::move(a);
  o["scope"] = scope;
  return o;
}

json::object LinkMapJson(const ClientLinkMap& links, const std::string& scope) {
  json::object services;
  for (const auto& [sid, eps] : links) {
    json::array a;
    for (const auto& e : eps) a.emplace_back(e);
    services[sid] = std::move(a);
  }
  json::object o;
  o["links"] = std::move(services);
  o["scope"] = scope;
  return o;
}

Status RequireClient(const std::optional<Client>& c, std::string_view id) {
  if (!c) return Fail(Error::Status("ERR12014", "Client " + std::string(id) + " is not found."));
  return {};
}

Status RequireService(ClientStore& store, store::Tx& tx, std::string_view service_id) {
  auto found = store.LockService(tx, service_id);
  if (!found) return Fail(std::move(found.error()));
  if (!*found) {
    return Fail(Error::Status("ERR12015", "Service " + std::string(service_id) + " is not found."));
  }
  return {};
}

Status CheckRedirectUris(std::string_view name, const std::vector<std::string>& uris) {
  if (uris.size() > kMaxRedirectUris) {
    return Fail(FieldError(name, "at most " + std::to_string(kMaxRedirectUris) + " URIs"));
  }
  std::set<std::string_view> seen;
  for (size_t i = 0; i < uris.size(); ++i) {
    std::string field = std::string(name) + "[" + std::to_string(i) + "]";
    if (auto st = CheckRedirectUri(field, uris[i]); !st) return st;
    if (!seen.insert(uris[i]).second) return Fail(FieldError(field, "is a duplicate"));
  }
  return {};
}

const std::vector<std::string>& IdTokenAlgsOf(const RegistrationPolicy& policy) {
  static const std::vector<std::string> kAll = {"RS256", "PS256", "ES256", "EdDSA"};
  return policy.id_token_algs.empty() ? kAll : policy.id_token_algs;
}

// FAPI 2.0 Security Profile (Final) rules that registration can check (README "FAPI 2.0
// profile"); the request-time ones live where the requests are served.
Status ValidateFapi2(const Client& c, const RegistrationPolicy& policy) {
  // §5.3.2.1: confidential clients only, authenticated by private_key_jwt or mTLS.
  if (c.IsPublic()) {
    return Fail(FieldError("profile", "fapi2 is for confidential clients only (FAPI 2.0 5.3.2.1)"));
  }
  if (!Fapi2AllowsAuthMethod(c.auth_method)) {
    return Fail(FieldError("authMethod",
                           "profile fapi2 allows only private_key_jwt, tls_client_auth or "
                           "self_signed_tls_client_auth (FAPI 2.0 5.3.2.1)"));
  }
  // §5.3.2.1: no resource owner password credentials, nor another grant that shows the client a
  // password (light-oauth2's client_authenticated_user).
  for (size_t i = 0; i < c.grant_types.size(); ++i) {
    const auto& g = c.grant_types[i];
    const GrantType* type = FindGrantType(policy.grant_types, g);
    if (type && type->traits.shows_password) {
      return Fail(FieldError("grantTypes[" + std::to_string(i) + "]",
                             g + " is not allowed with profile fapi2 (FAPI 2.0 5.3.2.1)"));
    }
  }
  // §5.4.1: PS256, ES256 or EdDSA, never RS256. Access tokens are signed with keys.algorithm,
  // ID and logout tokens with idTokenSignedResponseAlg (ApplyProfileDefaults fills it in).
  const auto& algs = IdTokenAlgsOf(policy);
  if (std::ranges::none_of(algs, [](const std::string& a) { return a != "RS256"; })) {
    return Fail(FieldError("profile",
                           "fapi2 needs tokens signed with PS256, ES256 or EdDSA, and this server "
                           "signs with RS256 (keys.algorithm) (FAPI 2.0 5.4.1)"));
  }
  if (c.id_token_signed_response_alg.empty() || c.id_token_signed_response_alg == "RS256") {
    return Fail(
        FieldError("idTokenSignedResponseAlg",
                   "profile fapi2 needs PS256, ES256 or EdDSA, not RS256 (FAPI 2.0 5.4.1)"));
  }
  // §5.4.1 for what the client signs: its assertions are refused unless PS256, ES256 or EdDSA
  // (TokenService), so inline keys usable with none of them (e.g. RSA keys marked alg RS256)
  // would register a client that can never authenticate. A jwksUri is read only at use.
  if (!c.jwks.empty()) {
    static constexpr jose::Alg kAllowed[] = {jose::Alg::kPS256, jose::Alg::kES256,
                                             jose::Alg::kEdDSA};
    auto set = jose::ParseJwks(c.jwks);
    const bool usable =
        set && std::ranges::any_of(set->entries(), [](const auto& kv) {
          const jose::KeyEntry& e = kv.second;
          if (e.alg) return std::ranges::find(kAllowed, *e.alg) != std::end(kAllowed);
          return std::ranges::any_of(kAllowed, [&e](jose::Alg a) { return e.key.Supports(a); });
        });
    if (!usable) {
      return Fail(FieldError("jwks",
                             "profile fapi2 needs a key usable with PS256, ES256 or EdDSA, not "
                             "only RS256 (FAPI 2.0 5.4.1)"));
    }
  }
  return {};
}

}  // namespace

void ApplyProfileDefaults(Client& c, const RegistrationPolicy& policy) {
  if (!c.IsFapi2() || !c.id_token_signed_response_alg.empty()) return;
  for (const auto& a : IdTokenAlgsOf(policy)) {
    if (a != "RS256") {
      c.id_token_signed_response_alg = a;
      return;
    }
  }
}

std::vector<std::string> DefaultGrantTypes(ClientType client_type) {
  if (client_type == ClientType::kTrusted) {
    return {"authorization_code", "client_credentials", "password", "refresh_token",
            "client_authenticated_user"};
  }
  if (client_type == ClientType::kPublic) return {"authorization_code", "refresh_token"};
  return {"authorization_code", "client_credentials", "refresh_token"};
}

RejectedEnums ApplyPatch(const ClientPatch& p, Client& c) {
  RejectedEnums rejected;
  if (p.client_type) {
    if (auto t = ParseClientType(*p.client_type)) {
      c.client_type = *t;
    } else {
      rejected.client_type = *p.client_type;
    }
  }
  if (p.client_profile) c.client_profile = *p.client_profile;
  if (p.client_name) c.client_name = *p.client_name;
  if (p.client_desc) c.client_desc = *p.client_desc;
  if (p.owner_id) c.owner_id = *p.owner_id;
  if (p.host) c.host = *p.host;
  if (p.scope) c.scope = SplitScope(*p.scope);
  if (p.custom_claim) c.custom_claim = *p.custom_claim;
  if (p.redirect_uris) c.redirect_uris = *p.redirect_uris;
  if (p.grant_types) c.grant_types = *p.grant_types;
  if (p.token_profile) {
    auto profile =
        p.token_profile->empty() ? TokenProfile::kRfc9068 : ParseTokenProfile(*p.token_profile);
    if (profile) {
      c.token_profile = *profile;
    } else {
      rejected.token_profile = *p.token_profile;
    }
  }
  if (p.access_token_ttl) c.access_token_ttl = *p.access_token_ttl;
  if (p.auth_method) {
    // null or "" clears it: back to the type's default, not named.
    c.auth_method_explicit = !p.auth_method->empty();
    auto method =
        p.auth_method->empty() ? DefaultAuthMethod(c.client_type) : ParseAuthMethod(*p.auth_method);
    if (method) {
      c.auth_method = *method;
    } else {
      rejected.auth_method = *p.auth_method;
    }
  }
  if (p.jwks) c.jwks = *p.jwks;
  if (p.jwks_uri) c.jwks_uri = *p.jwks_uri;
  if (p.authenticate_class) c.authenticate_class = *p.authenticate_class;
  if (p.deref_client_id) c.deref_client_id = *p.deref_client_id;
  if (p.post_logout_redirect_uris) c.post_logout_redirect_uris = *p.post_logout_redirect_uris;
  if (p.backchannel_logout_uri) c.backchannel_logout_uri = *p.backchannel_logout_uri;
  if (p.id_token_signed_response_alg) {
    c.id_token_signed_response_alg = *p.id_token_signed_response_alg;
  }
  if (p.require_par) c.require_par = *p.require_par;
  if (p.dpop_bound_access_tokens) c.dpop_bound_access_tokens = *p.dpop_bound_access_tokens;
  if (p.tls_subject) {
    c.tls_subject_kind = p.tls_subject->first;
    c.tls_subject = p.tls_subject->second;
  }
  if (p.tls_bound_tokens) c.tls_bound_tokens = *p.tls_bound_tokens;
  if (p.second_factor) {
    if (p.second_factor->empty() || *p.second_factor == "optional") {
      c.second_factor_required = false;
    } else if (*p.second_factor == "required") {
      c.second_factor_required = true;
    } else {
      rejected.second_factor = *p.second_factor;
    }
  }
  if (p.profile) {
    if (auto profile = ParseSecurityProfile(*p.profile)) {
      c.security_profile = *profile;
    } else {
      rejected.profile = *p.profile;
    }
  }
  return rejected;
}

Status ValidateClient(const Client& c, const RejectedEnums& rejected,
                      const RegistrationPolicy& policy) {
  if (auto st = CheckId("clientId", c.client_id, 64); !st) return st;
  if (rejected.client_type) {
    return CheckEnum("clientType", *rejected.client_type,
                     {"public", "confidential", "trusted", "external"});
  }
  if (auto st = CheckEnum("clientProfile", c.client_profile,
                          {"webserver", "browser", "mobile", "service", "batch"});
      !st) {
    return st;
  }
  if (auto st = CheckText("clientName", c.client_name, 32, true); !st) return st;
  if (auto st = CheckText("clientDesc", c.client_desc, 2048, false, true); !st) return st;
  if (auto st = CheckId("ownerId", c.owner_id, 64); !st) return st;
  if (c.host.empty()) return Fail(Error::Status("ERR12051", "host: is required"));
  if (auto st = CheckText("host", c.host, 64, true); !st) return st;
  std::string scope = JoinScope(c.scope);
  if (auto st = CheckScope("scope", scope, 4096); !st) return st;
  if (auto st = CheckCustomClaims("customClaim", c.custom_claim, 4096); !st) return st;

  if (c.redirect_uris.size() > kMaxRedirectUris) {
    return Fail(
        FieldError("redirectUris", "at most " + std::to_string(kMaxRedirectUris) + " URIs"));
  }
  if (auto st = CheckRedirectUris("redirectUris", c.redirect_uris); !st) return st;
  // OIDC RP-Initiated Logout §3.1: the same rules as redirect URIs, matched exactly.
  if (auto st = CheckRedirectUris("postLogoutRedirectUris", c.post_logout_redirect_uris); !st) {
    return st;
  }
  std::set<std::string_view> seen;

  seen.clear();
  for (size_t i = 0; i < c.grant_types.size(); ++i) {
    std::string field = "grantTypes[" + std::to_string(i) + "]";
    const auto& g = c.grant_types[i];
    // The grant registry's list (RegistrationPolicy::grant_types): the grants the token endpoint
    // serves, no more.
    const GrantType* type = FindGrantType(policy.grant_types, g);
    if (type == nullptr) {
      std::string list;
      for (const auto& k : policy.grant_types)
        list += (list.empty() ? "" : ", ") + std::string(k.name);
      return Fail(FieldError(field, "'" + g.substr(0, 64) + "' is not one of " + list));
    }
    if (!seen.insert(g).second) return Fail(FieldError(field, "is a duplicate"));
    // RFC 6749 §2.1, §4.4: a public client cannot authenticate, so it gets no grant that rests
    // on client authentication; it uses the code flow with PKCE (RFC 9700 §2.1.1).
    if (c.IsPublic() && type->traits.needs_client_authentication) {
      return Fail(
          FieldError(field, g + " needs client authentication; public clients cannot use it"));
    }
    // Reference §4.4: only trusted (first-party) clients may see user passwords.
    if (type->traits.trusted_only && !c.IsTrusted()) {
      return Fail(FieldError(field, g + " is allowed for trusted clients only"));
    }
  }

  if (rejected.token_profile) {
    return CheckEnum("tokenProfile", *rejected.token_profile, {"rfc9068", "light-4j"});
  }
  if (c.access_token_ttl && (*c.access_token_ttl < 1 || *c.access_token_ttl > kMaxAccessTokenTtl)) {
    return Fail(FieldError("accessTokenTtl", "must be between 1 and " +
                                                 std::to_string(kMaxAccessTokenTtl) + " seconds"));
  }
  if (rejected.auth_method) {
    return CheckEnum("authMethod", *rejected.auth_method,
                     {"client_secret_basic", "client_secret_post", "private_key_jwt", "none",
                      "tls_client_auth", "self_signed_tls_client_auth"});
  }
  if (c.auth_method == AuthMethod::kNone && !c.IsPublic()) {
    return Fail(FieldError("authMethod", "none is allowed for public clients only"));
  }
  if (c.auth_method == AuthMethod::kPrivateKeyJwt ||
      c.auth_method == AuthMethod::kSelfSignedTlsClientAuth) {
    // RFC 7523 §2.2 / OIDC Core §9, RFC 8705 §2.2: the keys come from exactly one place.
    if (c.jwks.empty() == c.jwks_uri.empty()) {
      return Fail(FieldError("jwks", std::string(AuthMethodName(c.auth_method)) +
                                         " needs exactly one of jwks and jwksUri"));
    }
  } else if (!c.jwks.empty() || !c.jwks_uri.empty()) {
    return Fail(FieldError(c.jwks.empty() ? "jwksUri" : "jwks",
                           "is only used with authMethod private_key_jwt or "
                           "self_signed_tls_client_auth"));
  }
  if (c.auth_method == AuthMethod::kTlsClientAuth) {
    if (c.tls_subject_kind == TlsSubjectKind::kNone) {
      return Fail(FieldError("authMethod",
                             "tls_client_auth needs one of tlsClientAuthSubjectDn, "
                             "tlsClientAuthSanDns, tlsClientAuthSanUri, tlsClientAuthSanIp, "
                             "tlsClientAuthSanEmail"));
    }
    if (auto st = CheckText("tlsClientAuthSubjectDn", c.tls_subject, 1024, false); !st) return st;
  } else if (c.tls_subject_kind != TlsSubjectKind::kNone) {
    return Fail(
        FieldError("authMethod", "tlsClientAuth* names are only used with tls_client_auth"));
  }
  if (UsesCertificate(c.auth_method) && c.IsPublic()) {
    return Fail(FieldError("authMethod", "a public client does not authenticate"));
  }
  if (!c.jwks.empty()) {
    if (auto st = CheckJwks("jwks", c.jwks); !st) return st;
  }
  if (!c.jwks_uri.empty()) {
    if (auto st = CheckHttpUrl("jwksUri", c.jwks_uri, true, 1024); !st) return st;
    // Fetched by the server (client_jwks.h): plain http would let anyone on the path swap the
    // client's keys, so loopback http is for tests and development, when configured.
    if (!policy.allow_http_loopback_jwks_uri && c.jwks_uri.size() >= 5 &&
        strncasecmp(c.jwks_uri.c_str(), "http:", 5) == 0) {
      return Fail(FieldError("jwksUri", "must use https"));
    }
  }
  if (auto st = CheckText("authenticateClass", c.authenticate_class, 256, false); !st) return st;
  if (!c.backchannel_logout_uri.empty()) {
    if (auto st = CheckBackchannelLogoutUri("backchannelLogoutUri", c.backchannel_logout_uri);
        !st) {
      return st;
    }
  }
  if (!c.id_token_signed_response_alg.empty()) {
    // The JWS algorithms the key ring signs ID tokens with (OIDC Registration §2).
    const auto& algs = IdTokenAlgsOf(policy);
    if (std::ranges::find(algs, c.id_token_signed_response_alg) == algs.end()) {
      std::string list;
      for (const auto& a : algs) list += (list.empty() ? "" : ", ") + a;
      return Fail(FieldError("idTokenSignedResponseAlg",
                             "'" + c.id_token_signed_response_alg + "' is not one of " + list));
    }
  }
  if (!c.deref_client_id.empty()) {
    if (auto st = CheckId("derefClientId", c.deref_client_id, 64); !st) return st;
    if (!c.IsExternal()) {
      return Fail(Error::Status("ERR12043", "derefClientId: only external clients have one"));
    }
  }
  if (rejected.profile) return CheckEnum("profile", *rejected.profile, {"fapi2"});
  if (rejected.second_factor) {
    return CheckEnum("secondFactor", *rejected.second_factor, {"required", "optional"});
  }
  if (c.IsFapi2()) return ValidateFapi2(c, policy);
  return {};
}

ClientService::ClientService(store::Database& db, ClientStore& store, audit::AuditLog& audit,
                             const Clock& clock, Random& random, const SecretHasher& secrets,
                             ClientCatalog* catalog, std::span<const GrantType> grant_types)
    : db_(db),
      store_(store),
      audit_(audit),
      clock_(clock),
      random_(random),
      secrets_(secrets),
      catalog_(catalog) {
  policy_.grant_types = grant_types;
}

void ClientService::RefreshCatalog(std::string_view client_id) {
  if (catalog_ == nullptr) return;
  if (auto st = catalog_->Refresh(client_id); !st) {
    // The write is committed; the notification and the periodic reload will catch up.
    log::Warn("client.catalog_refresh_failed",
              {{"client_id", client_id}, {"detail", st.error().detail}});
  }
}

Result<ClientWithSecret> ClientService::Create(const ClientPatch& p, std::string_view actor,
                                               std::string_view default_owner,
                                               const Authority& by) {
  for (auto [field, value] :
       {std::pair{"clientType", &p.client_type}, std::pair{"clientProfile", &p.client_profile},
        std::pair{"clientName", &p.client_name}}) {
    if (!value->has_value() || (*value)->empty()) {
      return Fail(FieldError(field, "is required"));
    }
  }
  if (!p.host || p.host->empty()) return Fail(Error::Status("ERR12051", "host: is required"));

  Client c;
  RejectedEnums rejected = ApplyPatch(p, c);
  // No authMethod named: the type's default (a public client gets `none` and no secret).
  if (!p.auth_method) c.auth_method = DefaultAuthMethod(c.client_type);
  c.client_id = p.client_id && !p.client_id->empty() ? *p.client_id : random_.Uuid();
  if (c.owner_id.empty()) c.owner_id = std::string(default_owner);
  if (!p.grant_types) c.grant_types = DefaultGrantTypes(c.client_type);
  ApplyProfileDefaults(c, policy_);
  if (auto st = ValidateClient(c, rejected, policy_); !st) {
    return Fail(std::move(st.error()));
  }
  if (auto st = CheckClientWrite(by, nullptr, &c); !st) return Fail(std::move(st.error()));

  ClientWithSecret out;
  if (UsesSecret(c.auth_method)) {
    out.secret = Secret(random_.Token(kClientSecretBytes));
    c.secret_hash = secrets_.Digest(out.secret->Reveal());
  }
  c.created_at = c.updated_at = clock_.Now();

  auto st = db_.Transact("client.create", [&](store::Tx& tx) -> Status {
    // A taken id fails with ClientExists (ERR12019).
    if (auto r = store_.Insert(tx, c); !r) return r;
    if (auto r = tx.Notify("client", c.client_id); !r) return r;
    return audit_.Record(tx, c.created_at,
                         {std::string(actor), "client.create", "client", c.client_id, std::nullopt,
                          json::value(ClientToJson(c))});
  });
  if (!st) return Fail(std::move(st.error()));
  RefreshCatalog(c.client_id);
  out.client = std::move(c);
  return out;
}

Result<ClientWithSecret> ClientService::Update(std::string_view client_id, const ClientPatch& p,
                                               std::string_view actor, const Authority& by) {
  ClientWithSecret out;
  auto st = db_.Transact("client.update", [&](store::Tx& tx) -> Status {
    out.secret.reset();
    auto loaded = store_.LoadForUpdate(tx, client_id);
    if (!loaded) return Fail(std::move(loaded.error()));
    if (auto r = RequireClient(*loaded, client_id); !r) return r;
    Client before = **loaded;
    Client c = before;
    RejectedEnums rejected = ApplyPatch(p, c);
    // A type change that names no grants moves a client still on its type's defaults to the
    // new type's defaults (light-oauth2's PUT to "trusted" is how password grants were enabled).
    if (!p.grant_types && c.client_type != before.client_type &&
        before.grant_types == DefaultGrantTypes(before.client_type)) {
      c.grant_types = DefaultGrantTypes(c.client_type);
    }
    // Likewise an auth method the registration never named follows the type (public: none).
    if (!p.auth_method && c.client_type != before.client_type && !before.auth_method_explicit &&
        before.auth_method == DefaultAuthMethod(before.client_type)) {
      c.auth_method = DefaultAuthMethod(c.client_type);
    }
    ApplyProfileDefaults(c, policy_);
    if (auto r = ValidateClient(c, rejected, policy_); !r) return r;
    if (auto r = CheckClientWrite(by, &before, &c); !r) return r;
    if (UsesSecret(c.auth_method) && c.secret_hash.empty()) {
      out.secret = Secret(random_.Token(kClientSecretBytes));
      c.secret_hash = secrets_.Digest(out.secret->Reveal());
    } else if (!UsesSecret(c.auth_method)) {
      c.secret_hash.clear();
    }
    c.updated_at = clock_.Now();
    auto updated = store_.Update(tx, c);
    if (!updated) return Fail(std::move(updated.error()));
    if (auto r = tx.Notify("client", c.client_id); !r) return r;
    if (auto r = audit_.Record(tx, c.updated_at,
                               {std::string(actor), "client.update", "client", c.client_id,
                                json::value(ClientToJson(before)), json::value(ClientToJson(c))});
        !r) {
      return r;
    }
    out.client = std::move(c);
    return {};
  });
  if (!st) return Fail(std::move(st.error()));
  RefreshCatalog(client_id);
  return out;
}

Result<Client> ClientService::Get(std::string_view client_id) {
  auto c = store_.Find(client_id);
  if (!c) return Fail(std::move(c.error()));
  if (auto r = RequireClient(*c, client_id); !r) return Fail(std::move(r.error()));
  return std::move(**c);
}

Result<ClientPage> ClientService::List(const ClientListQuery& q) {
  return db_.TransactValue<ClientPage>("client.list", [&](store::Tx& tx) -> Result<ClientPage> {
    ClientPage page;
    auto total = store_.Count(tx, q.host_prefix);
    if (!total) return Fail(std::move(total.error()));
    page.total = *total;
    auto list = store_.List(tx, q);
    if (!list) return Fail(std::move(list.error()));
    page.clients = std::move(*list);
    return page;
  });
}

Result<Client> ClientService::Delete(std::string_view client_id, std::string_view actor,
                                     const Authority& by) {
  Client before;
  auto st = db_.Transact("client.delete", [&](store::Tx& tx) -> Status {
    auto loaded = store_.LoadForUpdate(tx, client_id);
    if (!loaded) return Fail(std::move(loaded.error()));
    if (auto r = RequireClient(*loaded, client_id); !r) return r;
    before = **loaded;
    if (auto r = CheckClientWrite(by, &before, nullptr); !r) return r;
    auto links = store_.Links(tx, client_id);
    if (!links) return Fail(std::move(links.error()));
    auto deleted = store_.Delete(tx, client_id);
    if (!deleted) return Fail(std::move(deleted.error()));
    if (auto r = tx.Notify("client", client_id); !r) return r;
    json::object recorded = ClientToJson(before);
    recorded["links"] = LinkMapJson(*links, JoinScope(before.scope))["links"];
    return audit_.Record(tx, clock_.Now(),
                         {std::string(actor), "client.delete", "client", std::string(client_id),
                          json::value(std::move(recorded)), std::nullopt});
  });
  if (!st) return Fail(std::move(st.error()));
  RefreshCatalog(client_id);
  return before;
}

Result<ClientWithSecret> ClientService::RotateSecret(std::string_view client_id,
                                                     std::string_view actor, const Authority& by) {
  ClientWithSecret out;
  auto st = db_.Transact("client.rotate_secret", [&](store::Tx& tx) -> Status {
    auto loaded = store_.LoadForUpdate(tx, client_id);
    if (!loaded) return Fail(std::move(loaded.error()));
    if (auto r = RequireClient(*loaded, client_id); !r) return r;
    Client c = **loaded;
    // The new secret is shown to the caller: it takes over the client.
    if (auto r = CheckClientWrite(by, &c, &c); !r) return r;
    if (!UsesSecret(c.auth_method)) {
      return Fail(FieldError("authMethod", std::string(AuthMethodName(c.auth_method)) +
                                               " clients have no secret to rotate"));
    }
    out.secret = Secret(random_.Token(kClientSecretBytes));
    c.secret_hash = secrets_.Digest(out.secret->Reveal());
    c.updated_at = clock_.Now();
    auto updated = store_.UpdateSecretHash(tx, client_id, c.secret_hash, c.updated_at);
    if (!updated) return Fail(std::move(updated.error()));
    if (auto r = tx.Notify("client", client_id); !r) return r;
    json::object after;
    after["clientId"] = c.client_id;
    after["secretRotatedAt"] = c.updated_at;
    if (auto r = audit_.Record(tx, c.updated_at,
                               {std::string(actor), "client.rotate_secret", "client", c.client_id,
                                std::nullopt, json::value(std::move(after))});
        !r) {
      return r;
    }
    out.client = std::move(c);
    return {};
  });
  if (!st) return Fail(std::move(st.error()));
  RefreshCatalog(client_id);
  return out;
}

Result<ClientLinkMap> ClientService::Links(std::string_view client_id) {
  return db_.TransactValue<ClientLinkMap>("client.links",
                                          [&](store::Tx& tx) -> Result<ClientLinkMap> {
                                            auto c = store_.Load(tx, client_id);
                                            if (!c) return Fail(std::move(c.error()));
                                            if (auto r = RequireClient(*c, client_id); !r)
                                              return Fail(std::move(r.error()));
                                            return store_.Links(tx, client_id);
                                          });
}

Result<std::vector<std::string>> ClientService::ServiceLinks(std::string_view client_id,
                                                             std::string_view service_id) {
  using Out = std::vector<std::string>;
  return db_.TransactValue<Out>("client.service_links", [&](store::Tx& tx) -> Result<Out> {
    auto c = store_.Load(tx, client_id);
    if (!c) return Fail(std::move(c.error()));
    if (auto r = RequireClient(*c, client_id); !r) return Fail(std::move(r.error()));
    if (auto r = RequireService(store_, tx, service_id); !r) return Fail(std::move(r.error()));
    return store_.ServiceLinks(tx, client_id, service_id);
  });
}

Result<ScopeChange> ClientService::Link(std::string_view client_id, std::string_view service_id,
                                        const std::vector<std::string>& endpoints,
                                        std::string_view actor, const Authority& by) {
  std::set<std::string_view> seen;
  for (size_t i = 0; i < endpoints.size(); ++i) {
    std::string field = "endpoints[" + std::to_string(i) + "]";
    if (auto st = CheckText(field, endpoints[i], 256, true); !st)
      return Fail(std::move(st.error()));
    if (!seen.insert(endpoints[i]).second) return Fail(FieldError(field, "is a duplicate"));
  }
  ScopeChange change;
  bool changed = false;
  auto st = db_.Transact("client.link", [&](store::Tx& tx) -> Status {
    changed = false;
    auto c = store_.LoadForUpdate(tx, client_id);
    if (!c) return Fail(std::move(c.error()));
    if (auto r = RequireClient(*c, client_id); !r) return r;
    if (auto r = RequireService(store_, tx, service_id); !r) return r;
    change.old_scope = change.new_scope = JoinScope((*c)->scope);
    for (const auto& e : endpoints) {
      auto found = store_.EndpointExists(tx, service_id, e);
      if (!found) return Fail(std::move(found.error()));
      if (!*found) {
        return Fail(Error::Status("ERR12042", "Endpoint " + e + " of service " +
                                                  std::string(service_id) + " is not found."));
      }
    }
    if (endpoints.empty()) return {};
    auto before = store_.ServiceLinks(tx, client_id, service_id);
    if (!before) return Fail(std::move(before.error()));
    if (auto r = store_.ReplaceServiceLinks(tx, client_id, service_id, endpoints); !r) {
      return r;
    }
    auto scope = store_.LinkedScope(tx, client_id);
    if (!scope) return Fail(std::move(scope.error()));
    Client after = **c;
    after.scope = *scope;
    if (auto r = CheckClientWrite(by, &**c, &after); !r) return r;
    int64_t now = clock_.Now();
    if (auto r = store_.SetScope(tx, client_id, *scope, now); !r) return r;
    change.new_scope = JoinScope(*scope);
    changed = true;
    if (auto r = tx.Notify("client", client_id); !r) return r;
    return audit_.Record(tx, now,
                         {std::string(actor), "client.link", "client", std::string(client_id),
                          json::value(LinksJson(service_id, *before, change.old_scope)),
                          json::value(LinksJson(service_id, endpoints, change.new_scope))});
  });
  if (!st) return Fail(std::move(st.error()));
  if (changed) RefreshCatalog(client_id);
  return change;
}

Result<ScopeChange> ClientService::Unlink(std::string_view client_id,
                                          std::optional<std::string_view> service_id,
                                          std::string_view actor, const Authority& by) {
  ScopeChange change;
  auto st = db_.Transact("client.unlink", [&](store::Tx& tx) -> Status {
    auto c = store_.LoadForUpdate(tx, client_id);
    if (!c) return Fail(std::move(c.error()));
    if (auto r = RequireClient(*c, client_id); !r) return r;
    if (service_id) {
      if (auto r = RequireService(store_, tx, *service_id); !r) return r;
    }
    change.old_scope = JoinScope((*c)->scope);
    // Unlinking only narrows the scope, but it is still a write to the client.
    if (auto r = CheckClientWrite(by, &**c, &**c); !r) return r;
    auto before = store_.Links(tx, client_id);
    if (!before) return Fail(std::move(before.error()));
    if (auto r = store_.DeleteLinks(tx, client_id, service_id); !r) return r;
    auto scope = store_.LinkedScope(tx, client_id);
    if (!scope) return Fail(std::move(scope.error()));
    int64_t now = clock_.Now();
    if (auto r = store_.SetScope(tx, client_id, *scope, now); !r) return r;
    change.new_scope = JoinScope(*scope);
    auto after = store_.Links(tx, client_id);
    if (!after) return Fail(std::move(after.error()));
    if (auto r = tx.Notify("client", client_id); !r) return r;
    return audit_.Record(tx, now,
                         {std::string(actor), "client.unlink", "client", std::string(client_id),
                          json::value(LinkMapJson(*before, change.old_scope)),
                          json::value(LinkMapJson(*after, change.new_scope))});
  });
  if (!st) return Fail(std::move(st.error()));
  RefreshCatalog(client_id);
  return change;
}

Result<bool> ClientService::VerifySecret(std::string_view client_id, const Secret& secret) {
  auto c = Get(client_id);
  if (!c) return Fail(std::move(c.error()));
  if (c->secret_hash.empty() || !secrets_.Verify(secret.Reveal(), c->secret_hash)) return false;
  if (IsLegacyPbkdf2(c->secret_hash)) {
    if (auto st = UpgradeLegacySecret(db_, store_, audit_, secrets_, clock_, client_id,
                                      c->secret_hash, secret);
        !st) {
      log::Warn("client.secret_upgrade_failed",
                {{"client_id", client_id}, {"detail", st.error().detail}});
    } else {
      RefreshCatalog(client_id);
    }
  }
  return true;
}

Status UpgradeLegacySecret(store::Database& db, ClientStore& store, audit::AuditLog& audit,
                           const SecretHasher& secrets, const Clock& clock,
                           std::string_view client_id, std::string_view legacy_hash,
                           const Secret& secret) {
  std::string digest = secrets.Digest(secret.Reveal());
  return db.Transact("client.upgrade_secret", [&](store::Tx& tx) -> Status {
    auto r = store.ReplaceSecretHash(tx, client_id, legacy_hash, digest, clock.Now());
    if (!r) return Fail(std::move(r.error()));
    if (!*r) return {};  // already upgraded or changed meanwhile
    if (auto n = tx.Notify("client", client_id); !n) return n;
    json::object after;
    after["clientId"] = client_id;
    after["secretFormat"] = "hs256";
    return audit.Record(tx, clock.Now(),
                        {"system", "client.upgrade_secret", "client", std::string(client_id),
                         std::nullopt, json::value(std::move(after))});
  });
}

}  // namespace portcullis::oauth
