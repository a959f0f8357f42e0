#include "oauth/login/authenticator_settings.h"

#include <charconv>

namespace portcullis::oauth::settings {

std::unexpected<SettingError> Bad(std::string key, std::string message) {
  return std::unexpected(SettingError{std::move(key), std::move(message)});
}

std::expected<bool, std::string> ParseBool(const std::string& v, bool empty_is_false) {
  if (v == "true" || v == "yes" || v == "on" || v == "1") return true;
  if (v == "false" || v == "no" || v == "off" || v == "0") return false;
  if (v.empty() && empty_is_false) return false;
  return std::unexpected("expected true or false");
}

std::expected<int64_t, std::string> ParseInt(const std::string& v, int64_t min, int64_t max) {
  int64_t n = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || p != v.data() + v.size() || n < min || n > max) {
    return std::unexpected("expected an integer from " + std::to_string(min) + " to " +
                           std::to_string(max));
  }
  return n;
}

std::vector<std::string> SplitList(std::string_view v, std::string_view separators) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= v.size()) {
    size_t end = v.find_first_of(separators, start);
    std::string_view item = v.substr(start, end == std::string_view::npos ? v.npos : end - start);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (!item.empty()) out.emplace_back(item);
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return out;
}

}  // namespace portcullis::oauth::settings
