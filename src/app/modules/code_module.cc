// The code service: the authorization endpoint, sign-in, consent and logout (api/code_api.h,
// api/logout_api.h). It purges expired sign-in sessions on the leased job "sso.purge". For
// OpenID Connect Back-Channel Logout it records which clients take part in a session (the
// code store it hands the authorization service records them), delivers logout tokens on the
// leased job "logout.deliver" (every tick, and at once when a logout is queued) and drops expired
// participants and undelivered tokens on "logout.purge". Logout tokens are signed with the
// published key ring (KeyRing: it reads the keys the token service makes; it makes none), which
// also verifies id_token_hint. It serves the device flow's verification page (RFC 8628,
// api/device_api.h) with the same sign-in. It resolves pushed authorization requests (RFC 9126,
// stored by the token service's /oauth2/par) and purges expired ones with the sessions on
// "sso.purge".
#include <algorithm>
#include <chrono>

#include "api/account_api.h"
#include "api/authenticator_api.h"
#include "api/code_api.h"
#include "api/device_api.h"
#include "api/logout_api.h"
#include "app/authenticators.h"
#include "app/modules/id_token_hint.h"
#include "app/modules/module.h"
#include "app/modules/password_logins.h"
#include "app/modules/shared.h"
#include "app/modules/totp_settings.h"
#include "common/log.h"
#include "jose/signer.h"
#include "oauth/code/authenticators.h"
#include "oauth/device/device_verification.h"
#include "oauth/key/key_manager.h"
#include "oauth/login/spnego.h"
#include "oauth/login/throttle.h"
#include "oauth/login/user_authenticator.h"
#include "oauth/logout/backchannel.h"
#include "oauth/logout/end_session.h"
#include "oauth/logout/logout_token.h"
#include "oauth/logout/participant_recorder.h"
#include "oauth/oidc/id_token.h"
#include "oauth/token/token_service.h"
#include "oauth/totp/password_gate.h"
#include "oauth/totp/second_factor.h"
#include "oauth/upstream/upstream_flows.h"
#include "oauth/upstream/upstream_login.h"
#include "store/sql/logout_store.h"
#include "store/sql/totp_store.h"
#include "store/sql/upstream_store.h"
#include "verify/http_client.h"

namespace portcullis::app {
namespace {

// Signs a logout token with the JOSE typ logout+jwt (Back-Channel Logout §2.4) and the key the
// client's ID tokens are signed with: its idTokenSignedResponseAlg's current key, else RS256's
// (oauth/oidc/id_token.h), else the ring's current key.
oauth::BackchannelLogout::Sign RingSigner(const oauth::KeyManager& keys) {
  return [&keys](std::string_view claims, std::string_view registered) -> Result<std::string> {
    auto ring = keys.ring();
    const jose::Signer* current = nullptr;
    if (auto alg = oauth::oidc::IdTokenAlg(registered)) current = ring->signer(*alg);
    if (current == nullptr) current = ring->signer(jose::Alg::kRS256);
    if (current == nullptr) current = ring->signer();
    if (current == nullptr) return Fail(Error::Unavailable("no current signing key"));
    auto signer = jose::Signer::Create(current->key(), current->alg(), current->kid(),
                                       std::string(oauth::kLogoutTokenTyp));
    if (!signer) return Fail(std::move(signer.error()));
    return signer->Sign(claims);
  };
}

// POSTs through libportcullis-verify's one HTTP client: one deadline, capped response, no
// redirects followed, TLS verified against the system store or `ca_file`.
oauth::BackchannelLogout::HttpPost Poster(int64_t timeout_ms, std::string ca_file) {
  return [timeout_ms, ca_file = std::move(ca_file)](
             const std::string& url, const std::string& body) -> std::expected<int, std::string> {
    verify::internal::HttpRequest req;
    req.method = "POST";
    req.url = url;
    req.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                   {"Cache-Control", "no-store"}};
    req.body = body;
    verify::internal::HttpOptions options;
    options.timeout = std::chrono::milliseconds(timeout_ms);
    options.max_body_bytes = 16 * 1024;
    options.ca_file = ca_file;
    auto r = verify::internal::Fetch(req, options);
    if (!r) return std::unexpected(r.error());
    return r->status;
  };
}

class CodeModule final : public Module {
 public:
  static Result<std::unique_ptr<Module>> Build(Shared& shared) {
    auto clients = shared.Clients();
    if (!clients) return Fail(std::move(clients.error()));
    auto keys = shared.KeyRing();
    if (!keys) return Fail(std::move(keys.error()));
    const Config& c = shared.config();
    std::unique_ptr<CodeModule> m(new CodeModule());

    oauth::SessionSettings session_settings;
    oauth::BackchannelSettings bs;
    bs.issuer = c.server.issuer;
    bs.token_ttl_s = c.logout.token_ttl_s;
    bs.participant_ttl_s = std::max(session_settings.ttl, session_settings.remember_ttl);
    bs.max_attempts = static_cast<int>(c.logout.backchannel_max_attempts);
    bs.retry_base_s = c.logout.backchannel_retry_base_s;
    bs.retry_max_s = c.logout.backchannel_retry_max_s;
    bs.outbox_ttl_s = c.logout.backchannel_ttl_s;
    // A claimed row is free again after the longest a send can take, and some.
    bs.lease_s = c.logout.backchannel_timeout_ms / 1000 + 30;
    m->logout_store_ = std::make_unique<store::SqlLogoutStore>(shared.db());
    m->backchannel_ = std::make_unique<oauth::BackchannelLogout>(
        *m->logout_store_, **clients, RingSigner(**keys),
        Poster(c.logout.backchannel_timeout_ms, c.logout.backchannel_ca_file), shared.clock(),
        shared.random(), bs);
    m->codes_ = std::make_unique<oauth::ParticipantRecordingCodeStore>(shared.code_store(),
                                                                       *m->backchannel_);

    oauth::AuthorizationSettings as;
    as.issuer = c.server.issuer;
    as.code_ttl = c.token.code_ttl_s;
    as.basic_auth_implicit_consent = c.code.basic_auth_implicit_consent;
    m->deps_ = std::make_unique<api::CodeApiDeps>(
        as, **clients, shared.db(), *m->codes_, shared.session_store(), shared.consent_store(),
        shared.revocation(), shared.clock(), shared.random(), shared.master().bytes(),
        session_settings);
    auto builtin = std::make_shared<oauth::UserStoreLogin>(shared.Users());
    m->deps_->authenticators.AddDefault(builtin);
    // Configured authenticators (LDAP, chains, ...), by name and alias (authenticators.h).
    auto built = BuildAuthenticators(c.authenticators, shared.Throttle(), builtin);
    if (!built) return Fail(std::move(built.error()));
    for (auto& b : *built) {
      m->deps_->authenticators.Add(b.name, b.login, b.aliases);
      m->authenticator_api_.push_back({b.name, b.description, b.check, b.login.get()});
    }
    // Upstream OpenID providers ("Sign in with ..."): their flows, links and accounts.
    for (auto& b : *built) {
      auto* up = dynamic_cast<oauth::upstream::UpstreamLogin*>(b.login.get());
      if (up == nullptr) continue;
      if (!m->upstream_) {
        m->upstream_store_ = std::make_unique<store::SqlUpstreamStore>(shared.db());
        std::string base = c.server.issuer;
        while (base.ends_with('/')) base.pop_back();
        m->upstream_ = std::make_unique<oauth::upstream::UpstreamFlows>(
            *m->upstream_store_, shared.db(), shared.user_store(), shared.clock(), shared.random(),
            base + "/oauth2/upstream/callback");
        m->upstream_->SetFlowsPerBrowser(c.code.upstream_flows_per_browser);
        m->deps_->upstream = m->upstream_.get();
      }
      m->upstream_->Add(up->provider());
    }
    if (!built->empty()) {  // the admin API of configured authenticators
      auto admin = shared.AdminAuth();
      if (!admin) return Fail(std::move(admin.error()));
      m->admin_auth_ = *admin;
    }
    if (auto s = m->StartSpnego(c); !s) return Fail(std::move(s.error()));
    // The second factor of local users: wrong codes share the password throttle's buckets.
    m->totp_store_ = std::make_unique<store::SqlTotpStore>(shared.db());
    // code.second_factor_realms by canonical realm; a misspelt name stops start-up.
    auto resolved = ResolvedSecondFactorSettings(c);
    if (!resolved) return Fail(std::move(resolved.error()));
    oauth::SecondFactorSettings sfs = std::move(*resolved);
    m->second_factor_ = std::make_unique<oauth::SecondFactor>(
        *m->totp_store_, shared.master(), shared.secrets(), shared.clock(), shared.random(),
        shared.Throttle(), sfs);
    m->deps_->second_factor = m->second_factor_.get();
    if (m->upstream_) {
      // E-mail linking never links an account that has, or must have, a second factor: a
      // link made while its enrolment is pending would start working once the rule is dropped.
      m->upstream_->SetFactorCheck([sf = m->second_factor_.get(), users = &shared.user_store(),
                                    sfs](std::string_view user_id) -> Result<bool> {
        auto state = sf->StateOf(oauth::TotpSubject("", user_id));
        if (!state) return Fail(std::move(state.error()));
        if (*state == oauth::SecondFactor::State::kActive) return true;
        auto user = users->Find(user_id);
        if (!user) return Fail(std::move(user.error()));
        return *user && oauth::UserRequiresSecondFactor(sfs, "", (*user)->roles);
      });
    }
    // The password grant signs users in as this login page does: the client's authenticator,
    // with its throttling and second-factor refusals (password_logins.h).
    m->password_gate_ = std::make_unique<oauth::PasswordGate>(shared.Users(), *m->totp_store_, sfs);
    m->password_logins_ = std::make_unique<RegistryPasswordLogins>(
        m->deps_->authenticators, *m->password_gate_, m->second_factor_.get());
    if (oauth::TokenService* tokens = shared.TokensIfBuilt()) {
      tokens->SetPasswordLogins(m->password_logins_.get());
    }
    // id_token_hint (OIDC Core §3.1.2.1): an ID token of ours, issued to the requesting client.
    m->deps_->authorization.SetIdTokenHintReader(
        MakeIdTokenHintReader(**keys, c.server.issuer, c.token.leeway_s, shared.clock()));
    // PAR (RFC 9126): request_uri values pushed to the token service's /oauth2/par.
    m->deps_->authorization.SetPushedRequests(&shared.par_store());
    m->end_session_ = std::make_unique<oauth::EndSession>(**clients, HintReader(shared));
    m->session_store_ = &shared.session_store();
    m->db_ = &shared.db();

    oauth::SsoSessions* sessions = &m->deps_->sessions;
    // Expired pushed requests go with expired sessions, once no form may still consume them.
    shared.background().AddJob(
        "sso.purge", c.store.purge_interval_s,
        [sessions, db = &shared.db(), pars = &shared.par_store(), clock = &shared.clock()] {
          if (auto s = sessions->Purge(); !s) return s;
          return db->Transact("par.purge", [&](store::Tx& tx) {
            return pars->PurgeExpired(tx, clock->Now() - oauth::kPushedFlowGrace);
          });
        });
    if (oauth::upstream::UpstreamFlows* flows = m->upstream_.get()) {
      shared.background().AddJob("upstream.purge", c.store.purge_interval_s,
                                 [flows] { return flows->Purge(); });
    }
    oauth::BackchannelLogout* backchannel = m->backchannel_.get();
    shared.background().AddJob("logout.deliver", 0, [backchannel]() -> Status {
      auto pass = backchannel->DeliverDue();
      if (!pass) return Fail(std::move(pass.error()));
      return {};
    });
    shared.background().RunJobOn(std::string(oauth::kLogoutQueuedKind), "logout.deliver");
    shared.background().AddJob("logout.purge", c.store.purge_interval_s,
                               [backchannel] { return backchannel->Purge(); });
    // device: wrong user codes have their own buckets (per address and per instance).
    m->guesses_ = std::make_unique<oauth::LoginThrottle>(
        shared.clock(), c.device.max_failures, c.device.window_s, c.device.max_ip_failures);
    m->verification_ = std::make_unique<oauth::DeviceVerification>(
        shared.device_store(), shared.user_codes(), shared.clock(), *m->guesses_);
    return std::unique_ptr<Module>(std::move(m));
  }

  Status Register(http::Router& router) override {
    api::RegisterCodeApi(router, *deps_);
    api::RegisterAccountSecurityApi(router, *deps_);
    api::RegisterLogoutApi(router, {*deps_, *session_store_, *db_, *end_session_, *backchannel_});
    api::RegisterDeviceVerificationApi(router, *deps_, *verification_);
    if (admin_auth_ != nullptr) {
      api::RegisterAuthenticatorApi(router, *admin_auth_, authenticator_api_);
    }
    return {};
  }

 private:
  CodeModule() = default;
  static oauth::LogoutHintReader HintReader(Shared& shared);

  // Kerberos sign-in (README "Enterprise sign-in: Kerberos / SPNEGO"), when spnego.keytab is
  // set: the keytab and principal are checked now, so a bad one stops the start.
  Status StartSpnego(const Config& c) {
    if (c.spnego.keytab.empty()) return {};
    oauth::SpnegoSettings s;
    s.keytab = c.spnego.keytab;
    s.service_principal = c.spnego.service_principal;
    s.strip_realm = c.spnego.strip_realm;
    std::string word;
    for (char ch : c.spnego.realms + " ") {
      if (ch == ',' || ch == ' ' || ch == '\t') {
        if (!word.empty()) s.realms.push_back(std::move(word));
        word.clear();
      } else {
        word += ch;
      }
    }
    auto acceptor = oauth::SpnegoAcceptor::Open(std::move(s));
    if (!acceptor) return Fail(std::move(acceptor.error()));
    if (!c.spnego.roles_from.empty()) {
      if (auto named = deps_->authenticators.ByName(c.spnego.roles_from); !named) {
        return Fail(Error::Internal("spnego.roles_from: no authenticator named '" +
                                    c.spnego.roles_from + "'"));
      }
    }
    spnego_ = std::move(*acceptor);
    deps_->spnego = spnego_.get();
    deps_->spnego_roles_from = c.spnego.roles_from;
    const auto& realms = spnego_->settings().realms;
    std::string list;
    for (const auto& r : realms) list += (list.empty() ? "" : " ") + r;
    log::Info("code.spnego_on",
              {{"service_principal", c.spnego.service_principal}, {"realms", list}});
    return {};
  }

  // Declared in dependency order: destroyed users first.
  std::unique_ptr<store::SqlTotpStore> totp_store_;
  std::unique_ptr<oauth::SecondFactor> second_factor_;
  std::unique_ptr<oauth::PasswordGate> password_gate_;
  std::unique_ptr<RegistryPasswordLogins> password_logins_;  // borrows deps_'s registry
  std::unique_ptr<store::SqlLogoutStore> logout_store_;
  std::unique_ptr<oauth::BackchannelLogout> backchannel_;
  std::unique_ptr<oauth::ParticipantRecordingCodeStore> codes_;
  std::unique_ptr<oauth::SpnegoAcceptor> spnego_;  // before deps_, which borrows it
  std::unique_ptr<store::SqlUpstreamStore> upstream_store_;
  std::unique_ptr<oauth::upstream::UpstreamFlows> upstream_;  // deps_ borrows it
  std::unique_ptr<api::CodeApiDeps> deps_;
  std::unique_ptr<oauth::EndSession> end_session_;
  oauth::SessionStore* session_store_ = nullptr;
  store::Database* db_ = nullptr;
  std::unique_ptr<oauth::LoginThrottle> guesses_;
  std::unique_ptr<oauth::DeviceVerification> verification_;
  // The configured authenticators for /oauth2/authenticators (owned by deps_'s registry).
  std::vector<api::AuthenticatorInfo> authenticator_api_;
  const api::AdminAuth* admin_auth_ = nullptr;
};

// An id_token_hint is one of our ID tokens: signature by a published key and iss, expiry not
// enforced (oauth/oidc/id_token.h ReadIdTokenHint).
oauth::LogoutHintReader CodeModule::HintReader(Shared& shared) {
  auto keys = shared.KeyRing();
  if (!keys) return nullptr;
  const oauth::KeyManager* manager = *keys;
  const Clock* clock = &shared.clock();
  std::string issuer = shared.config().server.issuer;
  int64_t leeway = shared.config().token.leeway_s;
  return [manager, clock, issuer, leeway](std::string_view token) -> Result<oauth::LogoutHint> {
    auto hint =
        oauth::oidc::ReadIdTokenHint(token, manager->ring()->verify_keys(), issuer, *clock, leeway);
    if (!hint) return Fail(std::move(hint.error()));
    return oauth::LogoutHint{hint->sub, hint->sid, hint->client_id, hint->audience};
  };
}

}  // namespace

const ModuleSpec kCodeModule{"code", &CodeModule::Build, nullptr};

}  // namespace portcullis::app
