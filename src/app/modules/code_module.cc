// The code service: the authorization endpoint, sign-in, consent and logout (api/code_api.h).
// It signs nothing (codes are redeemed by the token service), so it builds no key ring; it
// purges expired sign-in sessions on the leased job "sso.purge". It also serves the device
// flow's verification page (RFC 8628, api/device_api.h) with the same sign-in.
#include "api/code_api.h"
#include "api/device_api.h"
#include "app/modules/module.h"
#include "app/modules/shared.h"
#include "oauth/code/authenticators.h"
#include "oauth/login/user_authenticator.h"

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
