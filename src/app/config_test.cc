#include "app/config.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

namespace portcullis::app {
namespace {

std::string WriteTemp(const std::string& text) {
  char path[] = "/tmp/portcullis-config-XXXXXX";
  int fd = mkstemp(path);
  close(fd);
  std::ofstream(path) << text;
  return path;
}

TEST(Config, DefaultsServeEverythingOnLoopback) {
  auto c = LoadConfig({});
  ASSERT_TRUE(c) << c.error().description;
  EXPECT_EQ(c->server.host, "127.0.0.1");
  EXPECT_EQ(c->server.port, 6880);
  EXPECT_EQ(c->server.services.size(), 9u);  // the eight light-oauth2 services and the console
  EXPECT_EQ(c->store.url, "sqlite:data/portcullis.db");
}

TEST(Config, UnknownEnvironmentVariablesNameTheNearestSetting) {
  ConfigSources s;
  s.env["PORTCULLIS_TOKEN_ACESS_TOKEN_TTL_S"] = "60";         // typo
  s.env["PORTCULLIS_BOOTSTRAP_CLIENTID"] = "x";               // typo
  s.env["PORTCULLIS_LOG_LEVEL"] = "warn";                     // a setting
  s.env["PORTCULLIS_BIN"] = "/usr/bin/portcullis";            // a tool variable
  s.env["PORTCULLIS_TEST_PG_URL"] = "postgres://secret@x/y";  // a tool variable
  auto c = LoadConfig(s);
  ASSERT_TRUE(c) << c.error().description;
  ASSERT_EQ(c->unknown_env.size(), 2u);
  EXPECT_EQ(c->unknown_env[0].name, "PORTCULLIS_BOOTSTRAP_CLIENTID");
  EXPECT_EQ(c->unknown_env[0].nearest, "PORTCULLIS_BOOTSTRAP_CLIENT_ID");
  EXPECT_EQ(c->unknown_env[1].name, "PORTCULLIS_TOKEN_ACESS_TOKEN_TTL_S");
  EXPECT_EQ(c->unknown_env[1].nearest, "PORTCULLIS_TOKEN_ACCESS_TOKEN_TTL_S");
  EXPECT_EQ(UnknownEnvMessage(c->unknown_env[1]),
            "unknown environment variable PORTCULLIS_TOKEN_ACESS_TOKEN_TTL_S is ignored; did you "
            "mean PORTCULLIS_TOKEN_ACCESS_TOKEN_TTL_S?");
  // No tool variable is also a setting (the list would hide a typo of one).
  for (const auto& tool : KnownToolEnvironment()) {
    for (const auto& setting : Settings()) EXPECT_NE(tool, EnvName(setting));
  }
}

TEST(Config, FlagBeatsEnvBeatsFileBeatsDefault) {
  auto file =
      WriteTemp("server:\n  listen: 127.0.0.1:7000\n  max_connections: 50\nlog:\n  level: warn\n");
  ConfigSources s;
  s.file = file;
  s.env["PORTCULLIS_SERVER_LISTEN"] = "127.0.0.1:7001";
  s.env["PORTCULLIS_LOG_LEVEL"] = "debug";
  s.flags.emplace_back("server.listen", "127.0.0.1:0");
  auto c = LoadConfig(s);
  ASSERT_TRUE(c) << c.error().description;
  EXPECT_EQ(c->server.port, 0);              // flag
  EXPECT_EQ(c->log.level, "debug");          // env over file
  EXPECT_EQ(c->server.max_connections, 50);  // file over default
  std::remove(file.c_str());
}

TEST(Config, RelativeSqlitePathInTheFileIsRelativeToTheFile) {
  auto file = WriteTemp("store:\n  url: sqlite:data/p.db\n");
  std::string dir = file.substr(0, file.rfind('/'));
  ConfigSources s;
  s.file = file;
  auto c = LoadConfig(s);
  ASSERT_TRUE(c) << c.error().description;
  EXPECT_EQ(c->store.url, "sqlite:" + dir + "/data/p.db");
  std::remove(file.c_str());
}

TEST(Config, SqlitePathsFromElsewhereStayRelativeToTheWorkingDirectory) {
  auto file = WriteTemp("log:\n  level: warn\n");
  ConfigSources s;
  s.file = file;
  auto c = LoadConfig(s);  // the default, not written in the file
  ASSERT_TRUE(c) << c.error().description;
  EXPECT_EQ(c->store.url, "sqlite:data/portcullis.db");
  s.env["PORTCULLIS_STORE_URL"] = "sqlite:env.db";
  EXPECT_EQ(LoadConfig(s)->store.url, "sqlite:env.db");
  s.env.clear();
  s.flags.emplace_back("store.url", "sqlite:flag.db");
  EXPECT_EQ(LoadConfig(s)->store.url, "sqlite:flag.db");
  std::remove(file.c_str());
}

TEST(Config, ResolveSqliteUrlLeavesOtherUrlsAlone) {
  EXPECT_EQ(ResolveSqliteUrl("sqlite:/var/lib/p.db", "/etc/p/c.yaml"), "sqlite:/var/lib/p.db");
  EXPECT_EQ(ResolveSqliteUrl("sqlite:///var/lib/p.db", "/etc/p/c.yaml"), "sqlite:///var/lib/p.db");
  EXPECT_EQ(ResolveSqliteUrl("sqlite::memory:", "/etc/p/c.yaml"), "sqlite::memory:");
  EXPECT_EQ(ResolveSqliteUrl("postgres://u@h/db", "/etc/p/c.yaml"), "postgres://u@h/db");
  EXPECT_EQ(ResolveSqliteUrl("sqlite:../d/p.db", "/etc/p/c.yaml"), "sqlite:/etc/d/p.db");
  EXPECT_EQ(ResolveSqliteUrl("sqlite://rel/p.db", "/etc/p/c.yaml"), "sqlite:/etc/p/rel/p.db");
}

TEST(Config, UnknownFileKeyIsNamed) {
  auto file = WriteTemp("server:\n  lisen: 127.0.0.1:7000\n");
  ConfigSources s;
  s.file = file;
  auto c = LoadConfig(s);
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().description.find("unknown key 'server.lisen'"), std::string::npos)
      << c.error().description;
  std::remove(file.c_str());
}

TEST(Config, BadValueNamesKeyAndSource) {
  ConfigSources s;
  s.env["PORTCULLIS_SERVER_BODY_LIMIT"] = "lots";
  auto c = LoadConfig(s);
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().description.find("server.body_limit"), std::string::npos);
  EXPECT_NE(c.error().description.find("PORTCULLIS_SERVER_BODY_LIMIT"), std::string::npos);
}

TEST(Config, ParRequestUriLifetimeStaysUnder600Seconds) {
  // FAPI 2.0 §5.3.2.2: expires_in under 600 s; at least 5 s to reach the authorization endpoint.
  for (const char* bad : {"4", "600", "0"}) {
    ConfigSources s;
    s.env["PORTCULLIS_PAR_REQUEST_URI_TTL_S"] = bad;
    auto c = LoadConfig(s);
    ASSERT_FALSE(c) << bad;
    EXPECT_NE(c.error().description.find("par.request_uri_ttl_s"), std::string::npos)
        << c.error().description;
  }
  for (const char* good : {"5", "599"}) {
    ConfigSources s;
    s.env["PORTCULLIS_PAR_REQUEST_URI_TTL_S"] = good;
    auto c = LoadConfig(s);
    ASSERT_TRUE(c) << c.error().description;
    EXPECT_EQ(c->par.request_uri_ttl_s, std::stoll(good));
  }
}

TEST(Config, SecretValuesAreNotEchoed) {
  ConfigSources s;
  s.flags.emplace_back("bootstrap.client_id", "x");
  auto c = LoadConfig(s);
  ASSERT_FALSE(c);  // secret missing
  s.flags.emplace_back("bootstrap.client_secret", "hunter2");
  s.flags.emplace_back("keys.provider_id", "hunter2");
  c = LoadConfig(s);
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().description.find("keys.provider_id"), std::string::npos);
}

TEST(Config, LoneServiceTakesItsLightOauth2Port) {
  ConfigSources s;
  s.flags.emplace_back("server.services", "token");
  auto c = LoadConfig(s);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->server.port, 6882);
  s.flags.emplace_back("server.listen", "127.0.0.1:9000");
  c = LoadConfig(s);
  EXPECT_EQ(c->server.port, 9000);
}

TEST(Config, UnknownServiceIsRefused) {
  ConfigSources s;
  s.flags.emplace_back("server.services", "token,tokn");
  auto c = LoadConfig(s);
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().description.find("tokn"), std::string::npos);
}

// The console signs in through this process's code and token endpoints and forwards to its
// admin routes: a process that serves it without them is refused, naming what is missing.
TEST(Config, ConsoleWithoutTheOtherServicesIsRefused) {
  for (auto [services, missing] :
       {std::pair{"console",
                  "missing: code, token, service, client, user, key, refresh-token, "
                  "provider."},
        std::pair{"console,code,token",
                  "missing: service, client, user, key, refresh-token, provider."}}) {
    ConfigSources s;
    s.flags.emplace_back("server.services", services);
    auto c = LoadConfig(s);
    ASSERT_FALSE(c) << services;
    const std::string& d = c.error().description;
    EXPECT_NE(d.find("the console needs"), std::string::npos) << d;
    EXPECT_NE(d.find(missing), std::string::npos) << d;
  }
  ConfigSources s;
  s.flags.emplace_back("server.services",
                       "provider,refresh-token,key,service,user,client,token,code,console");
  auto c = LoadConfig(s);
  ASSERT_TRUE(c) << c.error().description;
  // The documented split deployments have no console and still load.
  ConfigSources admin;
  admin.flags.emplace_back("server.services", "client,service,user,refresh-token,provider");
  EXPECT_TRUE(LoadConfig(admin));
}

TEST(Config, DefaultIssuerNeverNamesAWildcardAddress) {
  bool wildcard = true;
  EXPECT_EQ(DefaultIssuer("127.0.0.1", 6880, false, &wildcard), "http://127.0.0.1:6880");
  EXPECT_FALSE(wildcard);
  EXPECT_EQ(DefaultIssuer("auth.example.com", 443, true, &wildcard),
            "https://auth.example.com:443");
  EXPECT_FALSE(wildcard);
  EXPECT_EQ(DefaultIssuer("::1", 6880, false, &wildcard), "http://[::1]:6880");
  EXPECT_FALSE(wildcard);
  EXPECT_EQ(DefaultIssuer("0.0.0.0", 6880, false, &wildcard), "http://127.0.0.1:6880");
  EXPECT_TRUE(wildcard);
  EXPECT_EQ(DefaultIssuer("::", 6880, true, &wildcard), "https://[::1]:6880");
  EXPECT_TRUE(wildcard);
  EXPECT_EQ(DefaultIssuer("", 1, false), "http://127.0.0.1:1");
}

TEST(Config, SampleLoadsBackToTheDefaults) {
  auto file = WriteTemp(SampleConfig());
  ConfigSources s;
  s.file = file;
  auto c = LoadConfig(s);
  ASSERT_TRUE(c) << c.error().description;
  EXPECT_EQ(c->server.port, 6880);
  EXPECT_EQ(c->keys.algorithm, "RS256");
  std::remove(file.c_str());
}

TEST(Config, AuthenticatorsAreReadWithTheirTablesAndEnvOverrides) {
  auto file = WriteTemp(
      "authenticators:\n"
      "  ldap-corp:\n"
      "    type: ldap\n"
      "    url: ldaps://ldap.example.org\n"
      "    user_base: ou=people,dc=example,dc=org\n"
      "    bind_dn: cn=svc,dc=example,dc=org\n"
      "    group_base: ou=groups,dc=example,dc=org\n"
      "    aliases: [a, b]\n"
      "    roles:\n"
      "      admins: admin\n"
      "      devs: [dev, reader]\n"
      "  ldap:\n"
      "    type: ldap\n"
      "    url: ldaps://other\n"
      "    user_dn_template: uid={user},dc=x\n");
  ConfigSources s;
  s.file = file;
  s.env["PORTCULLIS_AUTHENTICATORS_LDAP_CORP_BIND_PASSWORD"] = "from-env";
  s.env["PORTCULLIS_AUTHENTICATORS_LDAP_URL"] = "ldaps://override";
  s.env["PORTCULLIS_AUTHENTICATORS_NOPE_URL"] = "x";  // no such authenticator: a warning
  auto c = LoadConfig(s);
  ASSERT_TRUE(c) << c.error().description;
  ASSERT_EQ(c->authenticators.size(), 2u);
  const auto& corp = c->authenticators[0];
  EXPECT_EQ(corp.name, "ldap-corp");
  EXPECT_EQ(corp.values.at("type"), "ldap");
  EXPECT_EQ(corp.values.at("aliases"), "a,b");
  EXPECT_EQ(corp.values.at("bind_password"), "from-env");
  EXPECT_EQ(corp.sources.at("bind_password"),
            "env PORTCULLIS_AUTHENTICATORS_LDAP_CORP_BIND_PASSWORD");
  EXPECT_EQ(corp.tables.at("roles").at("devs"), "dev reader");
  // The longest declared name wins: LDAP_CORP_* is ldap-corp's, LDAP_URL is ldap's.
  EXPECT_EQ(c->authenticators[1].values.at("url"), "ldaps://override");
  ASSERT_EQ(c->unknown_env.size(), 1u);
  EXPECT_EQ(c->unknown_env[0].name, "PORTCULLIS_AUTHENTICATORS_NOPE_URL");
  std::remove(file.c_str());
}

TEST(Config, BadAuthenticatorsStopStartUpNamingTheKey) {
  auto fails = [](const std::string& yaml, std::map<std::string, std::string> env = {}) {
    auto file = WriteTemp(yaml);
    ConfigSources s;
    s.file = file;
    s.env = std::move(env);
    auto c = LoadConfig(s);
    std::remove(file.c_str());
    return c ? std::string("(loaded)") : c.error().description;
  };
  const std::string head = "authenticators:\n  corp:\n";
  EXPECT_NE(fails(head + "    url: ldaps://x\n").find("authenticators.corp.type: required"),
            std::string::npos);
  EXPECT_NE(fails(head + "    type: radius\n").find("authenticators.corp.type"), std::string::npos);
  EXPECT_NE(fails(head + "    type: ldap\n    url: ldaps://x\n")
                .find("authenticators.corp.user_dn_template"),
            std::string::npos);
  std::string e =
      fails(head + "    type: ldap\n    url: ldaps://x\n    user_dn_template: uid={user}\n",
            {{"PORTCULLIS_AUTHENTICATORS_CORP_OPERATION_TIMEOUT_MS", "soon"}});
  EXPECT_NE(e.find("authenticators.corp.operation_timeout_ms (env "
                   "PORTCULLIS_AUTHENTICATORS_CORP_OPERATION_TIMEOUT_MS)"),
            std::string::npos)
      << e;
  // A secret's value is never echoed.
  e = fails(head + "    type: ldap\n    url: ldaps://x\n    user_dn_template: uid={user}\n" +
            "    bind_password: hunter2-secret\n");
  EXPECT_NE(e.find("authenticators.corp.bind"), std::string::npos) << e;
  EXPECT_EQ(e.find("hunter2-secret"), std::string::npos) << e;
  EXPECT_NE(fails("authenticators:\n  default:\n    type: ldap\n").find("built-in"),
            std::string::npos);
  EXPECT_NE(fails("authenticators:\n  'bad name':\n    type: ldap\n").find("a name is"),
            std::string::npos);
  EXPECT_NE(fails("authenticators:\n  a-b:\n    type: ldap\n  a_b:\n    type: ldap\n")
                .find("same environment name"),
            std::string::npos);
}

}  // namespace
}  // namespace portcullis::app
