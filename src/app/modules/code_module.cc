// The code service: the authorization endpoint, sign-in, consent and logout (api/code_api.h).
// It signs nothing (codes are redeemed by the token service); it reads the published key ring
// only to verify id_token_hint. It purges expired sign-in sessions on the leased job
// "sso.purge". It also serves the device flow's verification page (RFC 8628,
// api/device_api.h) with the same sign-in.
#include <algorithm>

#include "api/code_api.h"
#include "api/device_api.h"
#include "app/modules/module.h"
#include "app/modules/shared.h"
#include "oauth/code/authenticators.h"
#include "oauth/key/key_manager.h"
#include "oauth/login/user_authenticator.h"
#include "oauth/oidc/id_token.h"

namespace portcullis::app {
namespace {

class CodeModule final : public Module {
 public:
  static Result<std::unique_ptr<Module>> Build(Shared& shared) {
    auto clients = shared.Clients();
    if (!clients) return Fail(std::move(clients.error()));
    const Config& c = shared.config();
    oauth::AuthorizationSettings as;
    as.issuer = c.server.issuer;
    as.code_ttl = c.token.code_ttl_s;
    as.basic_auth_implicit_consent = c.code.basic_auth_implicit_consent;
    auto deps = std::make_unique<api::CodeApiDeps>(as, **clients, shared.db(), shared.code_store(),
                                                   shared.session_store(), shared.consent_store(),
                                                   shared.revocation(), shared.clock(),
                                                   shared.random(), shared.master().bytes());
    deps->authenticators.AddDefault(std::make_shared<oauth::UserStoreLogin>(shared.Users()));
    // id_token_hint (OIDC Core §3.1.2.1): an ID token of ours, issued to the requesting client.
    auto ring = shared.KeyRing();
    if (!ring) return Fail(std::move(ring.error()));
    deps->authorization.SetIdTokenHintReader(
        [keys = *ring, issuer = c.server.issuer, &clock = shared.clock()](
            std::string_view hint, std::string_view client_id) -> Result<std::string> {
          auto h = oauth::oidc::ReadIdTokenHint(hint, keys->ring()->verify_keys(), issuer, clock);
          if (!h) return Fail(std::move(h.error()));
          if (std::find(h->audience.begin(), h->audience.end(), client_id) == h->audience.end()) {
            return Fail(Error::OAuth(400, "invalid_request", "issued to another client"));
          }
          return std::move(h->sub);
        });
    oauth::SsoSessions* sessions = &deps->sessions;
    shared.background().AddJob("sso.purge", c.store.purge_interval_s,
                               [sessions] { return sessions->Purge(); });
    // device: wrong user codes have their own buckets (per address and per instance).
    auto guesses = std::make_unique<oauth::LoginThrottle>(
        shared.clock(), c.device.max_failures, c.device.window_s, c.device.max_ip_failures);
    auto verification = std::make_unique<oauth::DeviceVerification>(
        shared.device_store(), shared.user_codes(), shared.clock(), *guesses);
    return std::unique_ptr<Module>(
        new CodeModule(std::move(deps), std::move(guesses), std::move(verification)));
  }

  Status Register(http::Router& router) override {
    api::RegisterCodeApi(router, *deps_);
    api::RegisterDeviceVerificationApi(router, *deps_, *verification_);
    return {};
  }

 private:
  CodeModule(std::unique_ptr<api::CodeApiDeps> deps, std::unique_ptr<oauth::LoginThrottle> guesses,
             std::unique_ptr<oauth::DeviceVerification> verification)
      : deps_(std::move(deps)),
        guesses_(std::move(guesses)),
        verification_(std::move(verification)) {}
  std::unique_ptr<api::CodeApiDeps> deps_;
  std::unique_ptr<oauth::LoginThrottle> guesses_;
  std::unique_ptr<oauth::DeviceVerification> verification_;
};

}  // namespace

const ModuleSpec kCodeModule{"code", &CodeModule::Build, nullptr};

}  // namespace portcullis::app
