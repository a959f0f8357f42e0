// The token service: POST /oauth2/token and its siblings (api/token_api.h), OpenID Connect
// userinfo (api/userinfo_api.h), the resource-server
// side (GET /oauth2/verify, /oauth2/revoked: api/verify_api.h) and discovery. It owns signing:
// it may create and rotate keys (Shared::SigningKeys), and purges expired codes, tokens and
// deny-list entries on the leased job "token.purge". It also serves the device authorization
// endpoint (RFC 8628, api/device_api.h); the verification page is the code service's. And the
// pushed authorization request endpoint (RFC 9126, api/par_api.h), which validates with its own
// AuthorizationService over the shared client catalog; the code service loads what it stores.
#include "api/device_api.h"
#include "api/par_api.h"
#include "api/token_api.h"
#include "api/userinfo_api.h"
#include "api/verify_api.h"
#include "app/modules/id_token_hint.h"
#include "app/modules/module.h"
#include "app/modules/shared.h"
#include "jose/alg.h"
#include "oauth/code/pushed_authorization.h"
#include "oauth/oidc/id_token.h"

namespace portcullis::app {
namespace {

class TokenModule final : public Module {
 public:
  static Result<std::unique_ptr<Module>> Build(Shared& shared) {
    auto tokens = shared.Tokens();  // signing keys, clients, users, deny-list
    if (!tokens) return Fail(std::move(tokens.error()));
    auto keys = shared.TokenKeys();
    if (!keys) return Fail(std::move(keys.error()));
    auto revoked = shared.Revoked();
    if (!revoked) return Fail(std::move(revoked.error()));
    auto services = shared.Services();  // endpoint->scope tables for /oauth2/verify
    if (!services) return Fail(std::move(services.error()));
    auto auth = shared.AdminAuth();
    if (!auth) return Fail(std::move(auth.error()));
    oauth::TokenService* t = *tokens;
    shared.background().AddJob("token.purge", shared.config().store.purge_interval_s,
                               [t] { return t->Purge(); });
    const Config& c = shared.config();
    api::VerifyApiDeps verify{**keys,
                              **revoked,
                              **services,
                              **auth,
                              c.server.issuer,
                              c.token.audience.empty() ? c.server.issuer : c.token.audience,
                              c.verify.default_service};
    verify.dpop_window_s = c.verify.dpop_window_s;
    verify.client_cert_header = c.verify.client_cert_header;
    if (auto proxies = http::AddressRanges::Parse(c.server.trusted_proxies)) {
      verify.trusted_proxies = std::move(*proxies);  // validated when the config was read
    }
    verify.clock = &shared.clock();
    verify.proof_algorithms = [t](std::string_view client_id,
                                  const std::vector<jose::Alg>& allowed) {
      return t->ProofAlgorithmsFor(client_id, allowed);
    };
    api::Discovery discovery{c.server.issuer, c.Serves("code"), c.Serves("key")};
    discovery.id_token_signing_algs = IdTokenAlgNames(c);
    discovery.dpop_signing_algs = t->dpop().AlgNames();
    discovery.mtls = c.server.tls_client_certs || !c.server.client_cert_header.empty();
    discovery.mtls_base_url = c.server.mtls_base_url;
    // device: the verification page is the code service's, under the same issuer.
    oauth::DeviceSettings ds{c.device.code_ttl_s, c.device.interval_s,
                             c.server.issuer + "/oauth2/device"};
    auto devices = std::make_unique<oauth::DeviceAuthorizationService>(
        std::move(ds), *t, shared.device_store(), shared.user_codes(), shared.clock(),
        shared.random());
    // PAR (RFC 9126): validates as the code service's authorization endpoint does, with the
    // same settings and id_token_hint check, and stores what the endpoint will load.
    auto clients = shared.Clients();
    if (!clients) return Fail(std::move(clients.error()));
    oauth::AuthorizationSettings as;
    as.issuer = c.server.issuer;
    as.code_ttl = c.token.code_ttl_s;
    auto authorization = std::make_unique<oauth::AuthorizationService>(
        as, **clients, shared.code_store(), shared.clock(), shared.random());
    if (auto ring = shared.KeyRing(); ring) {
      authorization->SetIdTokenHintReader(
          MakeIdTokenHintReader(**ring, c.server.issuer, c.token.leeway_s, shared.clock()));
    }
    auto par = std::make_unique<oauth::PushedAuthorizationService>(
        c.par.request_uri_ttl_s, *t, *authorization, shared.par_store(), shared.clock(),
        shared.random());
    // userinfo checks DPoP proofs with the token endpoint's window (dpop.iat_window_s) and algs.
    verify::DpopPolicy userinfo_policy;
    userinfo_policy.window_seconds = c.dpop.iat_window_s;
    api::UserinfoBinding userinfo{c.server.issuer + "/oauth2/userinfo", userinfo_policy,
                                  shared.clock()};
    // Published as an mtls_endpoint_aliases member (discovery above): proofs may name it.
    if (discovery.mtls && !c.server.mtls_base_url.empty()) {
      userinfo.alias_url = c.server.mtls_base_url + "/oauth2/userinfo";
    }
    auto m = std::unique_ptr<TokenModule>(new TokenModule(*t, shared.user_store(),
                                                          std::move(verify), std::move(discovery),
                                                          std::move(devices), std::move(userinfo)));
    m->authorization_ = std::move(authorization);
    m->par_ = std::move(par);
    return std::unique_ptr<Module>(std::move(m));
  }

  Status Register(http::Router& router) override {
    api::RegisterTokenApi(router, tokens_);
    api::RegisterUserinfoApi(router, tokens_, users_, userinfo_);
    api::RegisterVerifyApi(router, verify_);
    api::RegisterDiscovery(router, discovery_);
    api::RegisterDeviceAuthorizationApi(router, *devices_);
    api::RegisterParApi(router, *par_, tokens_);
    return {};
  }

 private:
  TokenModule(oauth::TokenService& tokens, oauth::UserStore& users, api::VerifyApiDeps verify,
              api::Discovery discovery, std::unique_ptr<oauth::DeviceAuthorizationService> devices,
              api::UserinfoBinding userinfo)
      : tokens_(tokens),
        users_(users),
        verify_(std::move(verify)),
        discovery_(std::move(discovery)),
        devices_(std::move(devices)),
        userinfo_(std::move(userinfo)) {}

  oauth::TokenService& tokens_;
  oauth::UserStore& users_;
  api::VerifyApiDeps verify_;
  api::Discovery discovery_;
  std::unique_ptr<oauth::DeviceAuthorizationService> devices_;
  api::UserinfoBinding userinfo_;
  std::unique_ptr<oauth::AuthorizationService> authorization_;  // for par_
  std::unique_ptr<oauth::PushedAuthorizationService> par_;
};

}  // namespace

const ModuleSpec kTokenModule{"token", &TokenModule::Build, nullptr};

}  // namespace portcullis::app
