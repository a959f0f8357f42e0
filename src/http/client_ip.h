#pragma once
// Who sent a request. Behind a load balancer every connection comes from the balancer, so the
// client's address must be read from what the balancer adds (X-Forwarded-For, or Forwarded of
// RFC 7239), but only when the connection really comes from a proxy we trust
// (server.trusted_proxies): anyone else could write any address there. The chain is read from
// the right (the hop nearest to us) and the first address that is not a trusted proxy is the
// client (RFC 7239 §5.2, §8.3): hops left of it are whatever the client chose to send.
// Pure functions over strings; linear in the size of the headers.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/error.h"

namespace portcullis::http {

class Headers;  // message.h

// An IPv4 or IPv6 address, IPv4 stored as IPv4-mapped IPv6 (RFC 4291 §2.5.5.2), so one set of
// ranges covers both and a v4 peer on a v6 socket matches its v4 range.
struct IpAddress {
  std::array<uint8_t, 16> bytes{};
  bool v4 = false;
  // Accepts dotted IPv4, IPv6 text (brackets allowed) and IPv4-mapped IPv6.
  static std::optional<IpAddress> Parse(std::string_view text);
  // Canonical text: dotted for IPv4 (also when it came mapped), RFC 5952 for IPv6.
  std::string ToString() const;
};

// A set of CIDR ranges, e.g. "10.0.0.0/8, 192.168.1.7, fd00::/8" (a bare address is /32 or
// /128). Immutable once parsed; safe to share between threads.
class AddressRanges {
 public:
  // Entries separated by commas and/or spaces. Error names the first bad entry.
  static Result<AddressRanges> Parse(std::string_view list);
  bool Contains(const IpAddress& address) const;
  bool Contains(std::string_view address) const;
  bool empty() const { return ranges_.empty(); }

 private:
  struct Range {
    std::array<uint8_t, 16> network{};
    int bits = 0;  // prefix length over the 128-bit (mapped) form
  };
  std::vector<Range> ranges_;
};

enum class ForwardedHeader { kXForwardedFor, kForwarded };

// The client's address for a request that arrived on a connection from `peer`, with `headers`
// (names lower-cased). When `peer` is not in `trusted`, that is `peer` itself. Otherwise the
// chain of `which` is walked from the right past trusted proxies; a hop that is not an address
// ("unknown", an obfuscated name, garbage) ends the walk at the proxy that reported it.
// The result is canonical text (IpAddress::ToString) when it parses, else `peer` as given; with
// no trusted proxies it is `peer` as given (the server passes it canonical).
std::string ClientAddress(std::string_view peer, const Headers& headers,
                          const AddressRanges& trusted, ForwardedHeader which);

// The `for=` values of a Forwarded header value (RFC 7239 §4), unquoted, one per element, left
// to right; an element without `for` gives an empty string. Exposed for tests.
std::vector<std::string> ForwardedFor(std::string_view value);

}  // namespace portcullis::http
