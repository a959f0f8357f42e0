#include "oauth/oidc/user_claims.h"

#include <algorithm>

#include <boost/json/parse.hpp>

namespace portcullis::oauth::oidc {
namespace {

namespace json = boost::json;

constexpr std::string_view kProfile[] = {"name", "given_name", "family_name", "preferred_username",
                                         "updated_at"};
constexpr std::string_view kEmail[] = {"email", "email_verified"};
constexpr std::string_view kPhone[] = {"phone_number", "phone_number_verified"};
constexpr std::string_view kAddress[] = {"address"};

bool Has(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// The claim's value from the record; null when the record has none.
json::value Claim(const UserProfile& u, std::string_view name) {
  if (name == "given_name" && !u.first_name.empty()) return json::value(u.first_name);
  if (name == "family_name" && !u.last_name.empty()) return json::value(u.last_name);
  if (name == "name") {
    std::string full = u.first_name;
    if (!u.first_name.empty() && !u.last_name.empty()) full += ' ';
    full += u.last_name;
    if (!full.empty()) return json::value(std::move(full));
  }
  if (name == "preferred_username" && !u.user_id.empty()) return json::value(u.user_id);
  if (name == "updated_at" && u.updated_at > 0) return json::value(u.updated_at);
  if (name == "email" && !u.email.empty()) return json::value(u.email);
  if (name == "email_verified" && !u.email.empty()) return json::value(u.email_verified);
  if (name == "phone_number" && !u.phone_number.empty()) return json::value(u.phone_number);
  if (name == "phone_number_verified" && !u.phone_number.empty()) {
    return json::value(u.phone_number_verified);
  }
  if (name == "address" && !u.address.empty()) {
    boost::system::error_code ec;
    json::value a = json::parse(u.address, ec);
    if (!ec && a.is_object()) return a;
  }
  return nullptr;
}

}  // namespace

const std::vector<std::string_view>& OidcScopes() {
  static const std::vector<std::string_view> kScopes = {"openid", "profile", "email", "address",
                                                        "phone"};
  return kScopes;
}

// No "acr": every sign-in is by password and no acr is asserted (acr_values is ignored), and
// discovery lists nothing we never return.
const std::vector<std::string_view>& ClaimsSupported() {
  static const std::vector<std::string_view> kClaims = {"sub",
                                                        "iss",
                                                        "aud",
                                                        "exp",
                                                        "iat",
                                                        "auth_time",
                                                        "nonce",
                                                        "at_hash",
                                                        "sid",
                                                        "amr",
                                                        "name",
                                                        "given_name",
                                                        "family_name",
                                                        "preferred_username",
                                                        "updated_at",
                                                        "email",
                                                        "email_verified",
                                                        "address",
                                                        "phone_number",
                                                        "phone_number_verified"};
  return kClaims;
}

std::vector<std::string> RequestedClaims(std::string_view claims_json, std::string_view member) {
  std::vector<std::string> out;
  if (claims_json.empty()) return out;
  boost::system::error_code ec;
  json::value v = json::parse(claims_json, ec);
  if (ec || !v.is_object()) return out;
  const auto* m = v.get_object().if_contains(member);
  if (!m || !m->is_object()) return out;
  for (const auto& [name, spec] : m->get_object()) {
    // Core §5.5: null or an object; anything else is not a request.
    if (spec.is_null() || spec.is_object()) out.emplace_back(name);
  }
  return out;
}

std::vector<std::string> UserinfoClaimNames(std::string_view claims_json) {
  std::vector<std::string> out;
  for (auto& n : RequestedClaims(claims_json, "userinfo")) {
    auto in = [&](const auto& set) {
      return std::find(std::begin(set), std::end(set), n) != std::end(set);
    };
    bool known = in(kProfile) || in(kEmail) || in(kPhone) || in(kAddress);
    if (known && !Has(out, n) && out.size() < 32) out.push_back(std::move(n));
  }
  return out;
}

json::object UserClaims(const UserProfile& u, const std::vector<std::string>& scopes,
                        const std::vector<std::string>& requested) {
  json::object out;
  auto add = [&](std::string_view name) {
    if (out.contains(name)) return;
    json::value v = Claim(u, name);
    if (!v.is_null()) out[name] = std::move(v);
  };
  if (Has(scopes, "profile")) {
    for (auto n : kProfile) add(n);
  }
  if (Has(scopes, "email")) {
    for (auto n : kEmail) add(n);
  }
  if (Has(scopes, "phone")) {
    for (auto n : kPhone) add(n);
  }
  if (Has(scopes, "address")) {
    for (auto n : kAddress) add(n);
  }
  for (const auto& n : requested) add(n);
  return out;
}

}  // namespace portcullis::oauth::oidc
