#pragma once
// Reading the values of a configured authenticator ([authenticators.<name>]: LDAP, upstream
// OIDC): each type parses its own keys with these, so a bad value reads the same everywhere.
//
// Pure functions; thread-safe.

#include <cstdint>
#include <expected>
#include <string>
#include <string_view>
#include <vector>

namespace portcullis::oauth {

struct SettingError {
  std::string key;  // the key at fault, e.g. "url"
  std::string message;
};

namespace settings {

std::unexpected<SettingError> Bad(std::string key, std::string message);
// true, yes, on, 1 / false, no, off, 0; "" is false too when `empty_is_false`.
std::expected<bool, std::string> ParseBool(const std::string& v, bool empty_is_false);
std::expected<int64_t, std::string> ParseInt(const std::string& v, int64_t min, int64_t max);
// The items between any of `separators`, without surrounding spaces; empty items dropped.
std::vector<std::string> SplitList(std::string_view v, std::string_view separators);

}  // namespace settings
}  // namespace portcullis::oauth
