#include "verify/claims.h"

#include <strings.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "common/encoding.h"
#include "verify/endpoint_table.h"

namespace portcullis::verify {

std::vector<std::string> ScopesOf(const boost::json::object& claims) {
  std::vector<std::string> out;
  for (std::string_view name : {"scope", "scp"}) {
    const auto* v = claims.if_contains(name);
    if (v == nullptr) continue;
    if (v->is_string()) {
      out = SplitScopes(std::string_view(v->get_string()));
    } else if (v->is_array()) {
      for (const auto& s : v->get_array()) {
        if (s.is_string()) out.emplace_back(std::string_view(s.get_string()));
      }
    }
    if (!out.empty()) break;
  }
  return out;
}

std::string FirstString(const boost::json::object& claims,
                        std::initializer_list<std::string_view> names) {
  for (auto name : names) {
    const auto* v = claims.if_contains(name);
    if (v && v->is_string() && !v->get_string().empty()) return std::string(v->get_string());
  }
  return {};
}

bool AudienceAdmits(const boost::json::object& claims, std::string_view service_id,
                    const std::vector<std::string>& shared) {
  const auto* aud = claims.if_contains("aud");
  if (aud == nullptr) return true;
  auto admits = [&](const boost::json::value& v) {
    if (!v.is_string()) return false;
    std::string_view a(v.get_string());
    if (!service_id.empty() && a == service_id) return true;
    for (const auto& s : shared) {
      if (!s.empty() && a == s) return true;
    }
    return false;
  };
  if (aud->is_array()) {
    for (const auto& v : aud->get_array()) {
      if (admits(v)) return true;
    }
    return false;
  }
  return admits(*aud);
}

std::string HeaderTyp(std::string_view jwt) {
  size_t dot = jwt.find('.');
  if (dot == std::string_view::npos) return {};
  auto header = Base64UrlDecode(jwt.substr(0, dot));
  if (!header) return {};
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(*header, ec);
  if (ec || !v.is_object()) return {};
  const auto* typ = v.get_object().if_contains("typ");
  if (typ == nullptr || !typ->is_string()) return {};
  return std::string(typ->get_string());
}

bool IsSignedPayloadTyp(std::string_view typ) {
  constexpr std::string_view kPrefix = "application/";
  if (typ.size() >= kPrefix.size() &&
      strncasecmp(typ.data(), kPrefix.data(), kPrefix.size()) == 0) {
    typ.remove_prefix(kPrefix.size());
  }
  constexpr std::string_view kPayload = "payload+jwt";
  return typ.size() == kPayload.size() && strncasecmp(typ.data(), kPayload.data(), typ.size()) == 0;
}

}  // namespace portcullis::verify
