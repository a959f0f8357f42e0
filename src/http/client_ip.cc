#include "http/client_ip.h"

#include "common/encoding.h"
#include "http/message.h"

#include <arpa/inet.h>
#include <strings.h>

#include <algorithm>
#include <charconv>
#include <cstring>

namespace portcullis::http {
namespace {

constexpr std::array<uint8_t, 12> kMappedPrefix = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

// One hop as proxies write it: "192.0.2.1", "192.0.2.1:4711", "[2001:db8::1]:4711",
// "2001:db8::1". The port, if any, is dropped.
std::optional<IpAddress> ParseHop(std::string_view hop) {
  hop = TrimBlanks(hop);
  if (hop.starts_with('[')) {
    size_t close = hop.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    return IpAddress::Parse(hop.substr(1, close - 1));
  }
  size_t colon = hop.find(':');
  if (colon != std::string_view::npos && hop.find(':', colon + 1) == std::string_view::npos) {
    hop = hop.substr(0, colon);  // IPv4 with a port
  }
  return IpAddress::Parse(hop);
}

// Splits `value` at commas outside quoted strings (RFC 9110 §5.6.1 lists, §5.6.4 quoting).
template <class F>
void ForEachListElement(std::string_view value, F&& f) {
  size_t start = 0;
  bool quoted = false;
  for (size_t i = 0; i < value.size(); ++i) {
    char c = value[i];
    if (quoted && c == '\\') {
      ++i;
    } else if (c == '"') {
      quoted = !quoted;
    } else if (c == ',' && !quoted) {
      f(value.substr(start, i - start));
      start = i + 1;
    }
  }
  f(value.substr(start));
}

}  // namespace

std::optional<IpAddress> IpAddress::Parse(std::string_view text) {
  if (text.starts_with('[') && text.ends_with(']')) text = text.substr(1, text.size() - 2);
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  char buf[INET6_ADDRSTRLEN];
  text.copy(buf, text.size());
  buf[text.size()] = '\0';
  IpAddress a;
  if (text.find(':') == std::string_view::npos) {
    in_addr v4;
    if (inet_pton(AF_INET, buf, &v4) != 1) return std::nullopt;
    std::copy(kMappedPrefix.begin(), kMappedPrefix.end(), a.bytes.begin());
    std::memcpy(a.bytes.data() + 12, &v4, 4);
    a.v4 = true;
    return a;
  }
  if (inet_pton(AF_INET6, buf, a.bytes.data()) != 1) return std::nullopt;
  a.v4 = std::equal(kMappedPrefix.begin(), kMappedPrefix.end(), a.bytes.begin());
  return a;
}

std::string IpAddress::ToString() const {
  char out[INET6_ADDRSTRLEN];
  if (v4) {
    if (!inet_ntop(AF_INET, bytes.data() + 12, out, sizeof out)) return {};
  } else if (!inet_ntop(AF_INET6, bytes.data(), out, sizeof out)) {
    return {};
  }
  return out;
}

Result<AddressRanges> AddressRanges::Parse(std::string_view list) {
  AddressRanges out;
  size_t i = 0;
  while (i < list.size()) {
    size_t end = list.find_first_of(", \t", i);
    if (end == std::string_view::npos) end = list.size();
    std::string_view entry = list.substr(i, end - i);
    i = end + 1;
    if (entry.empty()) continue;
    auto bad = [&] {
      return Fail(Error::Internal("'" + std::string(entry) +
                                  "' is not an address or CIDR range (e.g. 10.0.0.0/8, fd00::/8)"));
    };
    size_t slash = entry.find('/');
    auto address = IpAddress::Parse(entry.substr(0, slash));
    if (!address) return bad();
    int max_bits = address->v4 ? 32 : 128;
    int bits = max_bits;
    if (slash != std::string_view::npos) {
      std::string_view n = entry.substr(slash + 1);
      auto [p, ec] = std::from_chars(n.data(), n.data() + n.size(), bits);
      if (ec != std::errc() || p != n.data() + n.size() || bits < 0 || bits > max_bits) {
        return bad();
      }
    }
    Range r;
    r.bits = address->v4 ? bits + 96 : bits;
    for (int b = 0; b < 16; ++b) {
      int keep = std::clamp(r.bits - b * 8, 0, 8);
      uint8_t mask = keep == 0 ? 0 : static_cast<uint8_t>(0xff << (8 - keep));
      r.network[b] = address->bytes[b] & mask;
    }
    out.ranges_.push_back(r);
  }
  return out;
}

bool AddressRanges::Contains(const IpAddress& address) const {
  for (const auto& r : ranges_) {
    bool match = true;
    for (int b = 0; b < 16 && match; ++b) {
      int keep = std::clamp(r.bits - b * 8, 0, 8);
      if (keep == 0) break;
      uint8_t mask = static_cast<uint8_t>(0xff << (8 - keep));
      match = (address.bytes[b] & mask) == r.network[b];
    }
    if (match) return true;
  }
  return false;
}

bool AddressRanges::Contains(std::string_view address) const {
  auto a = IpAddress::Parse(address);
  return a && Contains(*a);
}

std::vector<std::string> ForwardedFor(std::string_view value) {
  std::vector<std::string> out;
  ForEachListElement(value, [&](std::string_view element) {
    std::string found;
    // forwarded-element = [ forwarded-pair ] *( ";" [ forwarded-pair ] ), pair = token "=" value
    size_t i = 0;
    while (i <= element.size()) {
      // Find the end of this pair: a ';' outside quotes.
      size_t end = i;
      bool quoted = false;
      for (; end < element.size(); ++end) {
        char c = element[end];
        if (quoted && c == '\\') {
          ++end;
        } else if (c == '"') {
          quoted = !quoted;
        } else if (c == ';' && !quoted) {
          break;
        }
      }
      std::string_view pair = TrimBlanks(element.substr(i, std::min(end, element.size()) - i));
      i = end + 1;
      size_t eq = pair.find('=');
      if (eq == std::string_view::npos) continue;
      std::string_view name = TrimBlanks(pair.substr(0, eq));
      if (name.size() != 3 || strncasecmp(name.data(), "for", 3) != 0) continue;
      std::string_view v = TrimBlanks(pair.substr(eq + 1));
      found.clear();
      if (v.size() >= 2 && v.front() == '"' && v.back() == '"') {
        v = v.substr(1, v.size() - 2);
        for (size_t k = 0; k < v.size(); ++k) {
          if (v[k] == '\\' && k + 1 < v.size()) ++k;
          found.push_back(v[k]);
        }
      } else {
        found.assign(v);
      }
    }
    out.push_back(std::move(found));
  });
  return out;
}

std::string ClientAddress(std::string_view peer, const Headers& headers,
                          const AddressRanges& trusted, ForwardedHeader which) {
  // The common case, once per request: no proxies to trust. The server passes the peer in
  // canonical form already (server.cc CanonicalAddress), so there is nothing to parse.
  if (trusted.empty()) return std::string(peer);
  auto peer_address = IpAddress::Parse(peer);
  if (!peer_address) return std::string(peer);
  std::string current = peer_address->ToString();
  if (!trusted.Contains(*peer_address)) return current;

  // Every line of the header, in order, is one list (RFC 9110 §5.3).
  std::vector<std::string> hops;
  std::string_view name = which == ForwardedHeader::kForwarded ? "forwarded" : "x-forwarded-for";
  for (const auto& [k, v] : headers) {
    if (k != name) continue;
    if (which == ForwardedHeader::kForwarded) {
      for (auto& f : ForwardedFor(v)) hops.push_back(std::move(f));
    } else {
      ForEachListElement(v, [&](std::string_view h) { hops.emplace_back(TrimBlanks(h)); });
    }
  }
  for (auto it = hops.rbegin(); it != hops.rend(); ++it) {
    auto hop = ParseHop(*it);
    if (!hop) break;  // "unknown", "_hidden", garbage: the proxy before it is all we know
    current = hop->ToString();
    if (!trusted.Contains(*hop)) break;
  }
  return current;
}

}  // namespace portcullis::http
