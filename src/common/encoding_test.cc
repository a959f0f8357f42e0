#include "common/encoding.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string>

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

// The codecs against plain per-character reference implementations (the ones they replaced),
// over many short strings drawn from a small alphabet that includes every edge: padding, '%',
// '+', bad hex digits, characters outside each base64 alphabet.
std::optional<std::string> ReferenceBase64Decode(std::string_view in, std::string_view alphabet) {
  if (in.size() % 4 == 1) return std::nullopt;
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    auto v = alphabet.find(c);
    if (v == std::string_view::npos) return std::nullopt;
    acc = (acc << 6) | uint32_t(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

std::optional<std::string> ReferencePercentDecode(std::string_view text, bool plus_is_space) {
  auto hex = [](char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      int hi = hex(text[i + 1]), lo = hex(text[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (text[i] == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

TEST(Codecs, AgreeWithReferenceImplementations) {
  constexpr std::string_view kUrl =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  constexpr std::string_view kStd =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  constexpr std::string_view kDraw = "AQgw-_+/=%2fG z\x80";
  uint64_t x = 88172645463325252ull;  // xorshift: the same strings every run
  auto next = [&] {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
  };
  for (int n = 0; n < 20000; ++n) {
    std::string text;
    size_t len = next() % 14;
    for (size_t i = 0; i < len; ++i) text.push_back(kDraw[next() % kDraw.size()]);
    EXPECT_EQ(Base64UrlDecode(text), ReferenceBase64Decode(text, kUrl)) << text;
    std::string_view unpadded = text;
    if (text.size() % 4 == 0) {
      size_t pad = 0;
      while (pad < 2 && pad < text.size() && text[text.size() - 1 - pad] == '=') ++pad;
      unpadded.remove_suffix(pad);
      EXPECT_EQ(Base64Decode(text), ReferenceBase64Decode(unpadded, kStd)) << text;
    } else {
      EXPECT_FALSE(Base64Decode(text)) << text;
    }
    EXPECT_EQ(PercentDecode(text, true), ReferencePercentDecode(text, true)) << text;
    EXPECT_EQ(PercentDecode(text, false), ReferencePercentDecode(text, false)) << text;
    std::string bytes;
    for (size_t i = 0; i < len * 3; ++i) bytes.push_back(static_cast<char>(next()));
    EXPECT_EQ(Base64UrlDecode(Base64UrlEncode(bytes)), bytes);
    EXPECT_EQ(Base64Decode(Base64Encode(bytes)), bytes);
  }
  EXPECT_EQ(Base64Encode("a"), "YQ==");
  EXPECT_EQ(Base64Encode("ab"), "YWI=");
  EXPECT_EQ(Base64UrlEncode("ab"), "YWI");
  EXPECT_EQ(Base64UrlEncode("\xfb\xff"), "-_8");
  EXPECT_EQ(*PercentDecode("a%2Fb+c%2bd", true), "a/b c+d");
  EXPECT_EQ(*PercentDecode("a%2Fb+c", false), "a/b+c");
}

}  // namespace
}  // namespace portcullis
