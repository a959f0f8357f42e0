#include "oauth/key/master_key.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "common/encoding.h"

namespace portcullis::oauth {
namespace {

const std::string kBytes(32, '\x42');

TEST(MasterKeyTest, ParsesHexAndBase64Forms) {
  for (const std::string& text :
       {HexEncode(kBytes), "hex:" + HexEncode(kBytes), Base64Encode(kBytes),
        "base64:" + Base64Encode(kBytes), Base64UrlEncode(kBytes),
        "base64:" + Base64UrlEncode(kBytes), "  " + HexEncode(kBytes) + "\n"}) {
    auto key = MasterKey::Parse(text);
    ASSERT_TRUE(key) << text << ": " << key.error().detail;
    EXPECT_EQ(key->bytes().Reveal(), kBytes) << text;
  }
}

TEST(MasterKeyTest, RejectsWrongSizesAndGarbageWithoutEchoingIt) {
  for (const std::string& text :
       {std::string(), HexEncode(std::string(31, 'a')), std::string("hex:zz"),
        std::string("base64:!!!!"), Base64Encode(std::string(33, 'a')),
        std::string("correct horse battery staple")}) {
    auto key = MasterKey::Parse(text);
    ASSERT_FALSE(key) << text;
    if (!text.empty()) {
      EXPECT_EQ(key.error().detail.find(text), std::string::npos);
    }
  }
  EXPECT_NE(MasterKey::Parse(Base64Encode(std::string(16, 'a'))).error().detail.find("got 16"),
            std::string::npos);
}

TEST(MasterKeyTest, FromFile) {
  auto path =
      std::filesystem::temp_directory_path() / ("master_key_test_" + std::to_string(::getpid()));
  std::ofstream(path) << "hex:" << HexEncode(kBytes) << "\n";
  auto key = MasterKey::FromFile(path.string());
  std::filesystem::remove(path);
  ASSERT_TRUE(key) << key.error().detail;
  EXPECT_EQ(key->bytes().Reveal(), kBytes);
  auto missing = MasterKey::FromFile("/nonexistent/master.key");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().detail.find("cannot read"), std::string::npos);
}

TEST(SealTest, RoundTripAndFormat) {
  auto master = MasterKey::Generate(Random::System());
  Secret pem("-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----\n");
  auto sealed = SealKey(pem, "05100", master, Random::System());
  ASSERT_TRUE(sealed);
  EXPECT_TRUE(sealed->starts_with("v1."));
  EXPECT_EQ(sealed->find("PRIVATE"), std::string::npos);
  EXPECT_EQ(Base64UrlDecode(sealed->substr(3))->size(), 12 + pem.Reveal().size() + 16);
  auto opened = OpenKey(*sealed, "05100", master);
  ASSERT_TRUE(opened) << opened.error().detail;
  EXPECT_EQ(opened->Reveal(), pem.Reveal());
  // Fresh nonce each time.
  EXPECT_NE(*SealKey(pem, "05100", master, Random::System()), *sealed);
}

TEST(SealTest, RejectsWrongKidMasterTamperingAndVersion) {
  auto master = MasterKey::Generate(Random::System());
  auto sealed = SealKey(Secret("key material"), "100", master, Random::System()).value();
  EXPECT_FALSE(OpenKey(sealed, "101", master));
  EXPECT_FALSE(OpenKey(sealed, "100", MasterKey::Generate(Random::System())));
  std::string raw = *Base64UrlDecode(sealed.substr(3));
  for (size_t i : {size_t{0}, size_t{12}, raw.size() - 1}) {
    std::string bad = raw;
    bad[i] ^= 1;
    EXPECT_FALSE(OpenKey("v1." + Base64UrlEncode(bad), "100", master)) << i;
  }
  EXPECT_FALSE(OpenKey("v2." + sealed.substr(3), "100", master));
  EXPECT_FALSE(OpenKey("v1.AAAA", "100", master));
  EXPECT_FALSE(OpenKey("", "100", master));
}

}  // namespace
}  // namespace portcullis::oauth
