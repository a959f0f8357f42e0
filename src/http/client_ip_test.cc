#include "http/client_ip.h"

#include <gtest/gtest.h>

#include "http/message.h"

namespace portcullis::http {
namespace {

AddressRanges Ranges(std::string_view list) {
  auto r = AddressRanges::Parse(list);
  EXPECT_TRUE(r) << list;
  return r ? *r : AddressRanges{};
}

TEST(IpAddress, ParsesAndPrintsBothFamilies) {
  EXPECT_EQ(IpAddress::Parse("192.0.2.1")->ToString(), "192.0.2.1");
  EXPECT_EQ(IpAddress::Parse("::ffff:192.0.2.1")->ToString(), "192.0.2.1");
  EXPECT_EQ(IpAddress::Parse("2001:DB8::0:1")->ToString(), "2001:db8::1");
  EXPECT_EQ(IpAddress::Parse("[2001:db8::1]")->ToString(), "2001:db8::1");
  EXPECT_FALSE(IpAddress::Parse("unknown"));
  EXPECT_FALSE(IpAddress::Parse("192.0.2.256"));
  EXPECT_FALSE(IpAddress::Parse(""));
  EXPECT_FALSE(IpAddress::Parse(std::string(100, '1')));
}

TEST(AddressRanges, MatchesCidrsOfBothFamilies) {
  auto r = Ranges("10.0.0.0/8, 192.168.1.7 fd00::/8,2001:db8:1::/48");
  EXPECT_TRUE(r.Contains("10.200.3.4"));
  EXPECT_TRUE(r.Contains("::ffff:10.1.1.1"));  // a v4 peer on a v6 socket
  EXPECT_FALSE(r.Contains("11.0.0.1"));
  EXPECT_TRUE(r.Contains("192.168.1.7"));
  EXPECT_FALSE(r.Contains("192.168.1.8"));
  EXPECT_TRUE(r.Contains("fd12::1"));
  EXPECT_TRUE(r.Contains("2001:db8:1:ffff::1"));
  EXPECT_FALSE(r.Contains("2001:db8:2::1"));
  EXPECT_FALSE(r.Contains("garbage"));
  EXPECT_TRUE(Ranges("0.0.0.0/0").Contains("8.8.8.8"));
  EXPECT_FALSE(Ranges("0.0.0.0/0").Contains("2001:db8::1"));
  EXPECT_TRUE(Ranges("").empty());
}

TEST(AddressRanges, RejectsBadEntries) {
  EXPECT_FALSE(AddressRanges::Parse("10.0.0.0/33"));
  EXPECT_FALSE(AddressRanges::Parse("fd00::/129"));
  EXPECT_FALSE(AddressRanges::Parse("10.0.0.0/"));
  EXPECT_FALSE(AddressRanges::Parse("10.0.0.0/8x"));
  EXPECT_FALSE(AddressRanges::Parse("example.com"));
}

TEST(ClientAddress, UntrustedPeersAreTheClient) {
  Headers h = {{"x-forwarded-for", "1.2.3.4"}, {"forwarded", "for=1.2.3.4"}};
  EXPECT_EQ(ClientAddress("203.0.113.5", h, Ranges(""), ForwardedHeader::kXForwardedFor),
            "203.0.113.5");
  EXPECT_EQ(ClientAddress("203.0.113.5", h, Ranges("10.0.0.0/8"), ForwardedHeader::kForwarded),
            "203.0.113.5");
}

TEST(ClientAddress, TakesTheRightMostUntrustedHop) {
  auto trusted = Ranges("10.0.0.0/8");
  // The client wrote "6.6.6.6" itself; nginx appended the address it saw.
  Headers h = {{"x-forwarded-for", "6.6.6.6, 198.51.100.7"}};
  EXPECT_EQ(ClientAddress("10.0.0.2", h, trusted, ForwardedHeader::kXForwardedFor), "198.51.100.7");
  // Two proxies of ours, and several header lines.
  h = {{"x-forwarded-for", "6.6.6.6"}, {"x-forwarded-for", "198.51.100.7 , 10.1.1.1"}};
  EXPECT_EQ(ClientAddress("10.0.0.2", h, trusted, ForwardedHeader::kXForwardedFor), "198.51.100.7");
  // Nothing untrusted: the left-most proxy.
  h = {{"x-forwarded-for", "10.9.9.9, 10.1.1.1"}};
  EXPECT_EQ(ClientAddress("10.0.0.2", h, trusted, ForwardedHeader::kXForwardedFor), "10.9.9.9");
  // No header: the proxy itself.
  EXPECT_EQ(ClientAddress("10.0.0.2", {}, trusted, ForwardedHeader::kXForwardedFor), "10.0.0.2");
  // Garbage where the proxy's hop should be: stop at the proxy.
  h = {{"x-forwarded-for", "198.51.100.7, unknown"}};
  EXPECT_EQ(ClientAddress("10.0.0.2", h, trusted, ForwardedHeader::kXForwardedFor), "10.0.0.2");
  // Ports and brackets.
  h = {{"x-forwarded-for", "198.51.100.7:4711"}};
  EXPECT_EQ(ClientAddress("10.0.0.2", h, trusted, ForwardedHeader::kXForwardedFor), "198.51.100.7");
  h = {{"x-forwarded-for", "[2001:db8::7]:4711"}};
  EXPECT_EQ(ClientAddress("10.0.0.2", h, trusted, ForwardedHeader::kXForwardedFor), "2001:db8::7");
  // The other header is not read.
  h = {{"forwarded", "for=198.51.100.7"}};
  EXPECT_EQ(ClientAddress("10.0.0.2", h, trusted, ForwardedHeader::kXForwardedFor), "10.0.0.2");
}

TEST(ClientAddress, ReadsForwardedAsRfc7239Says) {
  EXPECT_EQ(
      ForwardedFor(R"(for=192.0.2.60;proto=http;by=203.0.113.43, For="[2001:db8:cafe::17]:4711")"),
      (std::vector<std::string>{"192.0.2.60", "[2001:db8:cafe::17]:4711"}));
  EXPECT_EQ(ForwardedFor(R"(proto=https, for="a\"b,c";by=x)"),
            (std::vector<std::string>{"", "a\"b,c"}));
  auto trusted = Ranges("10.0.0.0/8, fd00::/8");
  Headers h = {{"forwarded", R"(for=6.6.6.6, for="[2001:db8:cafe::17]:4711";proto=https)"}};
  EXPECT_EQ(ClientAddress("fd00::1", h, trusted, ForwardedHeader::kForwarded), "2001:db8:cafe::17");
  h = {{"forwarded", "for=6.6.6.6, for=_hidden"}};
  EXPECT_EQ(ClientAddress("10.0.0.1", h, trusted, ForwardedHeader::kForwarded), "10.0.0.1");
}

}  // namespace
}  // namespace portcullis::http
