#include "common/encoding.h"

#include <gtest/gtest.h>

namespace portcullis {
namespace {

TEST(Base64Url, RoundTripsEveryLength) {
  std::string bytes;
  for (int i = 0; i < 70; ++i) {
    auto enc = Base64UrlEncode(bytes);
    EXPECT_EQ(enc.find('='), std::string::npos);
    auto dec = Base64UrlDecode(enc);
    ASSERT_TRUE(dec) << i;
    EXPECT_EQ(*dec, bytes);
    bytes.push_back(static_cast<char>(i * 37));
  }
}

TEST(Base64Url, RejectsForeignCharactersPaddingAndNonCanonicalBits) {
  EXPECT_FALSE(Base64UrlDecode("ab+c"));
  EXPECT_FALSE(Base64UrlDecode("ab/c"));
  EXPECT_FALSE(Base64UrlDecode("YQ=="));
  EXPECT_FALSE(Base64UrlDecode("Y"));   // length 1 mod 4 cannot encode anything
  EXPECT_FALSE(Base64UrlDecode("YR"));  // 'R' leaves non-zero trailing bits
  EXPECT_FALSE(Base64UrlDecode("ab c"));
  EXPECT_EQ(*Base64UrlDecode("YQ"), "a");
}

TEST(Base64, StandardWithPadding) {
  EXPECT_EQ(Base64Encode("user:pass"), "dXNlcjpwYXNz");
  EXPECT_EQ(*Base64Decode("YQ=="), "a");
  EXPECT_FALSE(Base64Decode("YQ="));
  EXPECT_FALSE(Base64Decode("Y==="));
}

TEST(Hex, RoundTrip) {
  EXPECT_EQ(HexEncode("\x01\xff"), "01ff");
  EXPECT_EQ(*HexDecode("01FF"), "\x01\xff");
  EXPECT_FALSE(HexDecode("0"));
  EXPECT_FALSE(HexDecode("zz"));
}

TEST(Form, ParsesAndDecodes) {
  auto f = ParseForm("grant_type=client_credentials&scope=a+b%20c&&empty=&flag");
  ASSERT_TRUE(f);
  ASSERT_EQ(f->size(), 4u);
  EXPECT_EQ((*f)[1].second, "a b c");
  EXPECT_EQ((*f)[2].second, "");
  EXPECT_EQ((*f)[3].first, "flag");
  EXPECT_FALSE(ParseForm("a=%zz"));
  EXPECT_FALSE(ParseForm("a=%2"));
  EXPECT_FALSE(ParseForm("a=%"));
}

TEST(Form, CountsFieldsAsParseFormWould) {
  for (std::string_view body : {"", "&&", "a", "a=1&b", "grant_type=x&scope=a+b%20c&&empty=&flag",
                                "&a&", "=&=", "a=%zz&b"}) {
    auto f = ParseForm(body);
    size_t expected = f ? f->size() : 2;  // the malformed one has two pairs
    EXPECT_EQ(CountFormFields(body), expected) << body;
  }
}

TEST(Percent, EncodeIsReversible) {
  std::string s = "id with spaces/:?&=%+é";
  EXPECT_EQ(*PercentDecode(PercentEncode(s), false), s);
}

}  // namespace
}  // namespace portcullis
