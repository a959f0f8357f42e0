// json_writer.h writes what boost::json::serialize writes, byte for byte.

#include "oauth/token/json_writer.h"

#include <gtest/gtest.h>

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "oauth/token/token_service.h"

namespace portcullis::oauth {
namespace {

namespace json = boost::json;

TEST(JsonWriterTest, EscapesEveryByteAsBoostJsonDoes) {
  for (int c = 0; c < 256; ++c) {
    std::string s = "a";
    s.push_back(static_cast<char>(c));
    s += "b";
    std::string mine;
    AppendJsonString(mine, s);
    EXPECT_EQ(mine, json::serialize(json::value(json::string(s)))) << "byte " << c;
  }
  std::string all;
  for (int c = 0; c < 256; ++c) all.push_back(static_cast<char>(c));
  std::string mine;
  AppendJsonString(mine, all);
  EXPECT_EQ(mine, json::serialize(json::value(json::string(all))));
}

TEST(JsonWriterTest, EscapesAtEveryPositionOfALongString) {
  // The eight-bytes-at-a-time scan: one byte of each kind at each offset of a 40-byte string.
  for (int special : std::initializer_list<int>{0x00, 0x01, 0x1f, 0x20, 0x21, '"', 0x23, 0x5b, '\\',
                                                0x5d, 0x7f, 0x80, 0xa2, 0xdc, 0xff}) {
    for (size_t pos = 0; pos < 40; ++pos) {
      std::string s(40, 'a');
      s[pos] = static_cast<char>(special);
      if (pos + 9 < s.size()) s[pos + 9] = '"';  // and a second one in a later word
      std::string mine;
      AppendJsonString(mine, s);
      EXPECT_EQ(mine, json::serialize(json::value(json::string(s)))) << special << " " << pos;
    }
  }
}

TEST(JsonWriterTest, AnObjectMatchesBoostJson) {
  JsonObjectWriter w(4);  // a small reservation: the writer must grow correctly
  w.String("access_token", "eyJ.x\"y\\z");
  w.Int("expires_in", -9223372036854775807LL - 1);
  w.Int("zero", 0);
  w.StringArray("scope", {"read", "wr\nite"});
  w.StringArray("none", {});
  w.BeginObject("cnf");
  w.String("jkt", "t");
  w.String("x5t#S256", "u");
  w.EndObject();
  w.BeginObject("empty");
  w.EndObject();
  w.Value("n", json::parse(R"({"a":[1,2.5,null,true],"b":"\u00e9"})"));
  w.String("after", "");
  json::object o;
  o["access_token"] = "eyJ.x\"y\\z";
  o["expires_in"] = -9223372036854775807LL - 1;
  o["zero"] = 0;
  o["scope"] = json::array{"read", "wr\nite"};
  o["none"] = json::array{};
  o["cnf"] = json::object{{"jkt", "t"}, {"x5t#S256", "u"}};
  o["empty"] = json::object{};
  o["n"] = json::parse(R"({"a":[1,2.5,null,true],"b":"\u00e9"})");
  o["after"] = "";
  EXPECT_EQ(std::move(w).Finish(), json::serialize(o));
}

TEST(JsonWriterTest, AnIssuedTokenIsTheSameJsonAsBefore) {
  IssuedToken t;
  t.access_token = "a.b.c";
  t.expires_in = 600;
  t.scope = "read write";
  t.refresh_token = "r";
  t.id_token = "i";
  json::object o;
  o["access_token"] = "a.b.c";
  o["token_type"] = "bearer";
  o["expires_in"] = 600;
  o["refresh_token"] = "r";
  o["scope"] = "read write";
  o["id_token"] = "i";
  EXPECT_EQ(t.ToJson(), json::serialize(o));
}

}  // namespace
}  // namespace portcullis::oauth
