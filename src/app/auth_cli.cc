#include "app/auth_cli.h"

#include <boost/json.hpp>
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "app/authenticators.h"
#include "app/cli_support.h"
#include "common/clock.h"
#include "common/secret.h"

namespace portcullis::app {

void AddAuthCommands(CLI::App& cli, AuthCommands& a,
                     const std::function<void(CLI::App*)>& add_flags) {
  a.group = cli.add_subcommand("auth", "Configured authenticators (LDAP, ...)");
  a.group->require_subcommand(1);
  a.list = a.group->add_subcommand("list", "List the configured authenticators (JSON)");
  add_flags(a.list);
  a.test = a.group->add_subcommand(
      "test", "Connect to an authenticator's server; with --user, check a password too");
  a.test->add_option("name", a.name, "The authenticator's name (authenticators.NAME)")->required();
  a.test->add_option("--user", a.user, "Sign in as this user (password from tty, stdin or env)");
  a.test->add_option("--password-env", a.password_env,
                     "Read the password from this environment variable");
  add_flags(a.test);
}

int RunAuthCommand(const AuthCommands& a, const Config& config) {
  // A throttle for the command's own use: the test is an operator's, not a guess.
  SystemClock clock;
  oauth::LoginThrottle throttle(clock);
  auto built = BuildAuthenticators(config.authenticators, throttle, nullptr);
  if (!built) {
    std::fprintf(stderr, "portcullis: %s\n", built.error().detail.c_str());
    return 2;
  }
  if (a.list->parsed()) {
    boost::json::array out;
    for (const auto& b : *built) out.push_back(b.description);
    std::printf("%s\n", boost::json::serialize(out).c_str());
    return 0;
  }
  const BuiltAuthenticator* chosen = nullptr;
  for (const auto& b : *built) {
    if (b.name == a.name) chosen = &b;
  }
  if (chosen == nullptr) {
    std::fprintf(stderr, "portcullis: no authenticator named '%s' in the configuration\n",
                 a.name.c_str());
    return 2;
  }
  std::optional<Secret> password;
  if (!a.user.empty()) {
    password = cli::ReadPassword(a.password_env, "Password for " + a.user + ": ");
    if (!password) return 2;
  }
  if (auto st = chosen->check(); !st) {
    std::printf("connection: FAILED: %s\n", st.error().detail.c_str());
    return 1;
  }
  std::printf("connection: ok\n");
  if (a.user.empty()) return 0;
  auto user = chosen->test_login(a.user, password->Reveal());
  if (!user) {
    if (user.error().http_status >= 500) {
      std::printf("sign-in: FAILED (server unavailable): %s\n", user.error().detail.c_str());
    } else {
      std::printf("sign-in: refused: %s\n", user.error().description.c_str());
    }
    return 1;
  }
  std::printf("sign-in: ok: user_id=%s user_type=%s roles=%s\n", user->user_id.c_str(),
              user->user_type.c_str(), user->roles.c_str());
  return 0;
}

}  // namespace portcullis::app
