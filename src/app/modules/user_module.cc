// The user service: the user registry (/oauth2/user..., /oauth2/password/..., api/registry_api.h)
// and `portcullis user ...`. It signs nothing: it needs no signing key and opens no key routes,
// and reads the published keys only to verify admin tokens.
#include <iostream>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "api/registry_api.h"
#include "api/totp_api.h"
#include "app/cli_support.h"
#include "app/first_run.h"
#include "app/master_key.h"
#include "app/modules/module.h"
#include "app/modules/registry_module.h"
#include "app/modules/shared.h"
#include "app/modules/totp_settings.h"
#include "common/json_array.h"
#include "common/random.h"
#include "oauth/logout/backchannel.h"
#include "oauth/refresh/grant_revocation.h"
#include "oauth/user/user_access.h"
#include "oauth/user/user_service.h"
#include "store/sql/audit_log.h"
#include "store/sql/code_store.h"
#include "store/sql/consent_store.h"
#include "store/sql/device_store.h"
#include "store/sql/logout_store.h"
#include "store/sql/refresh_token_store.h"
#include "store/sql/session_store.h"
#include "store/sql/totp_store.h"
#include "store/sql/user_store.h"

namespace portcullis::app {
namespace {

namespace json = boost::json;
using cli::Body;
using cli::Die;
using cli::Done;
using cli::Output;
using cli::OutputPage;
using cli::ReadSecretLine;
using cli::Refused;
using cli::UpsertBody;

// ---- CLI: portcullis user ... ----

// portcullis user totp-status|totp-enrol|totp-confirm|totp-disable ID (README "Second factor
// (TOTP)"): the admin API's operations on the store, with the installation's master key.
int RunTotpCommand(const cli::State& s, const std::string& cmd, cli::Env& env) {
  auto master = LoadMasterKey(env.config, /*may_create=*/false);
  if (!master) return Refused(master.error());
  const oauth::SecretHasher hasher(DerivePepper(*master));
  store::SqlUserStore user_store(*env.db);
  store::SqlTotpStore totp_store(*env.db);
  oauth::LoginThrottle throttle(env.clock);
  oauth::SecondFactor sf(totp_store, *master, hasher, env.clock, Random::System(), throttle,
                         SecondFactorSettings(env.config));
  auto user = user_store.Find(s.id);
  if (!user) return Refused(user.error());
  if (!*user) return Refused(oauth::UserNotFound(s.id));
  if (cmd == "totp-status") {
    auto state = sf.StateOf(s.id);
    if (!state) return Refused(state.error());
    auto left = sf.RecoveryCodesLeft(s.id);
    if (!left) return Refused(left.error());
    json::object o;
    o["userId"] = s.id;
    o["state"] = *state == oauth::SecondFactor::State::kActive    ? "active"
                 : *state == oauth::SecondFactor::State::kPending ? "pending"
                                                                  : "none";
    o["recoveryCodesLeft"] = *left;
    return Output(s, o);
  }
  if (cmd == "totp-enrol") {
    auto e = sf.Enrol(s.id);
    if (!e) return Refused(e.error());
    json::object o;
    o["userId"] = s.id;
    o["secret"] = e->secret.Reveal();
    o["otpauthUri"] = e->otpauth_uri;
    json::array codes;
    for (const auto& c : e->recovery_codes) codes.emplace_back(c);
    o["recoveryCodes"] = std::move(codes);
    return Output(s, o);
  }
  if (cmd == "totp-confirm") {
    Secret code = ReadSecretLine(std::cin);
    auto st = sf.Confirm(s.id, code.Reveal(), "");
    return st ? Done(s, "confirmed the second factor of " + s.id) : Refused(st.error());
  }
  if (cmd == "totp-disable") {
    auto gone = sf.Disable(s.id);
    if (!gone) return Refused(gone.error());
    if (!*gone) return Refused(Error::OAuth(404, "not_found", "The user has no second factor."));
    return Done(s, "removed the second factor of " + s.id);
  }
  return Die("user " + cmd + ": unknown command");
}

// portcullis user sessions|revoke-session|revoke-sessions|consents|revoke-consent ID: what the
// admin API's user page does (GET/DELETE /oauth2/user/{id}/sessions|consents), through the same
// service (oauth/user/user_access.h) with the same hooks as the server: an ended session queues
// its back-channel logout and ends the refresh tokens issued in it; a forgotten consent ends the
// user's grants at that client.
int RunUserAccessCommand(const cli::State& s, const std::string& cmd, cli::Env& env,
                         oauth::UserStore& user_store, oauth::audit::AuditLog& audit,
                         store::SqlLogoutStore& logout_store, oauth::GrantRevocation& revocation) {
  store::SqlSessionStore sessions(*env.db);
  store::SqlConsentStore consents(*env.db);
  const int64_t ttl = env.config.logout.backchannel_ttl_s;
  oauth::UserAccess access(
      *env.db, user_store, sessions, consents, audit, env.clock,
      {oauth::SessionLogoutHook(logout_store, env.clock, Random::System(), ttl),
       oauth::UserLogoutHook(logout_store, env.clock, Random::System(), ttl),
       revocation.ForUserClient(), revocation.ForUserSession(), revocation.ForUserSessions()});
  const oauth::Authority by = oauth::Authority::Full();
  if (cmd == "sessions") {
    auto list = access.Sessions(s.id, by);
    if (!list) return Refused(list.error());
    json::array items;
    for (const auto& x : *list) {
      json::object row = oauth::SessionToJson(x);
      // People read ISO 8601 UTC; --json keeps the API's unix seconds.
      if (!s.json) {
        row["createdAt"] = cli::IsoUtc(x.created_at);
        row["expiresAt"] = cli::IsoUtc(x.expires_at);
      }
      items.emplace_back(std::move(row));
    }
    return Output(s, items, {"sid", "createdAt", "expiresAt", "remember", "amr"});
  }
  if (cmd == "consents") {
    auto list = access.Consents(s.id, by);
    if (!list) return Refused(list.error());
    json::array items;
    for (const auto& x : *list) {
      json::object row = oauth::ConsentToJson(x);
      if (!s.json) row["createdAt"] = cli::IsoUtc(x.created_at);
      items.emplace_back(std::move(row));
    }
    return Output(s, items, {"clientId", "scope", "createdAt"});
  }
  if (cmd == "revoke-session") {
    auto st = access.RevokeSession(s.id, s.second, env.actor, by);
    return st ? Done(s, "ended session " + s.second + " of " + s.id) : Refused(st.error());
  }
  if (cmd == "revoke-sessions") {
    auto n = access.RevokeSessions(s.id, env.actor, by);
    if (!n) return Refused(n.error());
    if (s.json) return Output(s, json::object{{"revoked", *n}});
    return Done(s, "ended " + std::to_string(*n) + " session(s) of " + s.id);
  }
  if (cmd == "revoke-consent") {
    auto st = access.RevokeConsent(s.id, s.second, env.actor, by);
    return st ? Done(s, "forgot the consent of " + s.id + " to " + s.second) : Refused(st.error());
  }
  return Die("user " + cmd + ": unknown command");
}

int RunUserCommand(const cli::State& s, const std::string& cmd, cli::Env& env) {
  store::SqlUserStore user_store(*env.db);
  store::SqlAuditLog audit(*env.db);
  store::SqlRefreshTokenStore refresh_tokens(*env.db);
  store::SqlAuthCodeStore codes(*env.db);
  store::SqlSessionStore sessions(*env.db);
  store::SqlLogoutStore logout_store(*env.db);
  store::SqlDeviceGrantStore devices(*env.db);
  oauth::GrantRevocation revocation(refresh_tokens, codes, sessions, devices);
  // Locking or deleting ends the user's sessions: back-channel logout is queued for them.
  revocation.OnUserSessionsEnd(oauth::UserLogoutHook(logout_store, env.clock, Random::System(),
                                                     env.config.logout.backchannel_ttl_s));
  oauth::UserService users(*env.db, user_store, audit, env.clock, nullptr, revocation.ForUser());
  if (cmd == "create" && s.admin) {
    // Headless first run: an admin user with a random password in a 0600 file, to be changed
    // at the first sign-in (app/first_run.h).
    auto body = Body(s, "user create");
    if (!body) return Refused(body.error());
    std::string id = "admin";
    if (auto* v = body->if_contains("userId"); v && v->is_string())
      id = std::string(v->as_string());
    std::string file = s.password_file.empty() ? AdminPasswordFile(env.config) : s.password_file;
    if (file.empty()) {
      return Die(
          "user create --admin: pass --password-file FILE (or set "
          "console.admin_password_file): there is no database directory to write to");
    }
    auto made = CreateAdminUser(*env.db, user_store, audit, env.clock, Random::System(), id,
                                env.actor, file);
    if (!made) return Refused(made.error());
    return Done(s, "created admin user " + made->user_id + "; its password is in " +
                       made->password_file + " and must be changed at the first sign-in");
  }
  if (cmd == "create" || cmd == "update") {
    auto body = UpsertBody(s, "user", cmd, "userId");
    if (!body) return Refused(body.error());
    if (cmd == "update") {
      body->erase("password");
      body->erase("passwordConfirm");
    }
    auto patch = oauth::UserPatchFromJson(*body);
    if (!patch) return Refused(patch.error());
    if (cmd == "create" && s.password_stdin) {
      patch->password = ReadSecretLine(std::cin);
      patch->password_confirm = patch->password;
    }
    auto r =
        cmd == "create" ? users.Create(*patch, env.actor) : users.Update(s.id, *patch, env.actor);
    return r ? Output(s, oauth::UserToJson(*r)) : Refused(r.error());
  }
  if (cmd == "list") {
    int64_t page = s.page < 1 ? 1 : s.page;
    auto list = users.List(s.filter, (page - 1) * s.page_size, s.page_size);
    if (!list) return Refused(list.error());
    return OutputPage(s, "users", JsonArray(list->users, oauth::UserToJson), list->total,
                      {"userId", "userType", "email", "roles"});
  }
  if (cmd == "get") {
    auto r = users.Get(s.id);
    return r ? Output(s, oauth::UserToJson(*r)) : Refused(r.error());
  }
  if (cmd == "delete") {
    auto r = users.Delete(s.id, env.actor);
    return r ? Done(s, "deleted user " + s.id) : Refused(r.error());
  }
  if (cmd == "password") {
    // stdin: the current password, then the new one, one per line.
    oauth::PasswordChange change;
    change.password = ReadSecretLine(std::cin);
    change.new_password = ReadSecretLine(std::cin);
    change.new_password_confirm = change.new_password;
    auto st = users.ChangePassword(s.id, change, env.actor);
    return st ? Done(s, "changed the password of " + s.id) : Refused(st.error());
  }
  if (cmd == "set-password") {
    auto st = users.SetPassword(s.id, ReadSecretLine(std::cin), env.actor);
    return st ? Done(s, "set the password of " + s.id) : Refused(st.error());
  }
  if (cmd == "reset-password") {
    // The admin API's reset (POST /oauth2/user/{id}/password): the user must choose a new
    // password at the next sign-in, and their grants end.
    auto password = cli::ReadPassword(s.password_env, "New password for " + s.id + ": ");
    if (!password) return 2;
    auto st = users.ResetPassword(s.id, *password, env.actor, oauth::Authority::Full());
    return st ? Done(s,
                     "reset the password of " + s.id + "; it must be changed at the next sign-in")
              : Refused(st.error());
  }
  if (cmd == "sessions" || cmd == "consents" || cmd.starts_with("revoke-")) {
    return RunUserAccessCommand(s, cmd, env, user_store, audit, logout_store, revocation);
  }
  if (cmd == "lock" || cmd == "unlock") {
    // Locking also ends the user's refresh tokens, codes and sessions (UserService::Update).
    oauth::UserPatch patch;
    patch.locked = cmd == "lock";
    auto r = users.Update(s.id, patch, env.actor);
    return r ? Done(s, (cmd == "lock" ? "locked " : "unlocked ") + s.id) : Refused(r.error());
  }
  if (cmd.starts_with("totp-")) return RunTotpCommand(s, cmd, env);
  return Die("user " + cmd + ": unknown command");
}

void AddUser(cli::Builder& b) {
  auto* g = b.AddGroup("user", "Local users");
  for (std::string name : {"create", "update"}) {
    auto* c = b.Upsert(g, name, name == "create" ? "Create a user" : "Change a user's profile",
                       "userId", "User id", "User id");
    std::string cmd = "user " + name;
    if (name == "create") {
      c->add_flag("--password-stdin", b.s.password_stdin, "Read the password from stdin");
      c->add_flag("--admin", b.s.admin,
                  "Create an admin user with a random password written to a 0600 file (see "
                  "--password-file), to be changed at the first sign-in");
      c->add_option("--password-file", b.s.password_file,
                    "With --admin: where to write the password (default: "
                    "console.admin_password_file, or admin-password beside the database)");
    }
    b.Data(c);
    b.Field(c, cmd, "--type", "userType", cli::FieldFlag::kString,
            "admin | employee | customer | partner");
    b.Field(c, cmd, "--first-name", "firstName", cli::FieldFlag::kString, "First name");
    b.Field(c, cmd, "--last-name", "lastName", cli::FieldFlag::kString, "Last name");
    b.Field(c, cmd, "--email", "email", cli::FieldFlag::kString, "E-mail address");
    b.Field(c, cmd, "--roles", "roles", cli::FieldFlag::kString, "Space-separated roles");
    b.Field(c, cmd, "--email-verified", "emailVerified", cli::FieldFlag::kBool,
            "Whether the e-mail address was verified");
    b.Field(c, cmd, "--phone", "phoneNumber", cli::FieldFlag::kString,
            "Telephone number, E.164 recommended (+1 555 0100)");
    b.Field(c, cmd, "--phone-verified", "phoneNumberVerified", cli::FieldFlag::kBool,
            "Whether the telephone number was verified");
    b.Field(c, cmd, "--address", "address", cli::FieldFlag::kJson,
            "OpenID Connect address object, e.g. {\"locality\":\"Oslo\",\"country\":\"NO\"}");
  }
  auto* list = b.Leaf(g, "list", "List users by id");
  b.Paging(list, "1");
  list->add_option("--prefix", b.s.filter, "User id prefix");
  for (auto [name, help] :
       {std::pair{"get", "Show a user"}, std::pair{"delete", "Delete a user and their tokens"},
        std::pair{"password", "Change a password: stdin holds the current and the new one"},
        std::pair{"set-password", "Reset a password to one read from stdin; ends their grants"},
        std::pair{"lock", "Lock a user: no sign-in anywhere; ends their tokens and sessions"},
        std::pair{"unlock", "Unlock a user"},
        std::pair{"totp-status", "Show whether a user has a second factor (TOTP)"},
        std::pair{"totp-enrol",
                  "Start a TOTP enrolment: prints the secret, otpauth URI and recovery codes"},
        std::pair{"totp-confirm", "Activate a pending TOTP enrolment with a code read from stdin"},
        std::pair{"totp-disable", "Remove a user's second factor and recovery codes"}}) {
    b.Id(b.Leaf(g, name, help), "User id");
  }
  auto* reset = b.Leaf(g, "reset-password",
                       "Reset a password (read from the terminal, stdin or --password-env): "
                       "the user must change it at the next sign-in; ends their grants");
  b.Id(reset, "User id");
  reset->add_option("--password-env", b.s.password_env,
                    "Read the new password from this environment variable");
  b.Id(b.Leaf(g, "sessions", "List a user's single sign-on sessions"), "User id");
  auto* one = b.Leaf(g, "revoke-session",
                     "End one SSO session (by sid) with the refresh tokens issued in it");
  b.Id(one, "User id");
  one->add_option("sid", b.s.second, "Session id (sid), from `user sessions`")->required();
  b.Id(b.Leaf(g, "revoke-sessions",
              "End every SSO session of a user with the refresh tokens issued in them"),
       "User id");
  b.Id(b.Leaf(g, "consents", "List a user's remembered consents"), "User id");
  auto* consent =
      b.Leaf(g, "revoke-consent", "Forget a user's consent to a client and end their grants there");
  b.Id(consent, "User id");
  consent->add_option("client", b.s.second, "Client id")->required();
}

const cli::Group kCli{"user", &AddUser, &RunUserCommand};

// The user registry, plus the second factor's admin routes (api/totp_api.h).
class UserModule final : public RegistryModule<&api::RegistryRoutes::AddUser> {
 public:
  static Result<std::unique_ptr<Module>> Build(Shared& shared) {
    if (auto auth = shared.AdminAuth(); !auth) return Fail(std::move(auth.error()));
    std::unique_ptr<UserModule> m(new UserModule(shared));
    m->totp_store_ = std::make_unique<store::SqlTotpStore>(shared.db());
    m->second_factor_ = std::make_unique<oauth::SecondFactor>(
        *m->totp_store_, shared.master(), shared.secrets(), shared.clock(), shared.random(),
        shared.Throttle(), SecondFactorSettings(shared.config()));
    return std::unique_ptr<Module>(std::move(m));
  }

  Status Register(http::Router& router) override {
    if (auto s = RegistryModule::Register(router); !s) return s;
    auto auth = shared_.AdminAuth();
    if (!auth) return Fail(std::move(auth.error()));
    api::RegisterTotpAdminApi(router, **auth, *second_factor_, shared_.user_store());
    return {};
  }

 private:
  explicit UserModule(Shared& shared) : RegistryModule(shared) {}
  std::unique_ptr<store::SqlTotpStore> totp_store_;
  std::unique_ptr<oauth::SecondFactor> second_factor_;
};

}  // namespace

const ModuleSpec kUserModule{"user", &UserModule::Build, &kCli};

}  // namespace portcullis::app
