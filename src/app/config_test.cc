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

}  // namespace
}  // namespace portcullis::app
