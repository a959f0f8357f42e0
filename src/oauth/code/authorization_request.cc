#include "oauth/code/authorization_request.h"

#include <algorithm>
#include <array>
#include <utility>

namespace portcullis::oauth {
namespace {

using Member = std::optional<std::string> AuthorizationRequest::*;
struct MemberInfo {
  std::string_view name;
  Member member;
  bool long_value = false;  // bounded by kMaxLongValue instead of max_value
};
constexpr std::array<MemberInfo, 20> kMembers = {{
    {"response_type", &AuthorizationRequest::response_type},
    {"client_id", &AuthorizationRequest::client_id},
    {"redirect_uri", &AuthorizationRequest::redirect_uri},
    {"scope", &AuthorizationRequest::scope},
    {"state", &AuthorizationRequest::state},
    {"code_challenge", &AuthorizationRequest::code_challenge},
    {"code_challenge_method", &AuthorizationRequest::code_challenge_method},
    {"nonce", &AuthorizationRequest::nonce},
    {"prompt", &AuthorizationRequest::prompt},
    {"max_age", &AuthorizationRequest::max_age},
    {"login_hint", &AuthorizationRequest::login_hint},
    {"id_token_hint", &AuthorizationRequest::id_token_hint, true},
    {"response_mode", &AuthorizationRequest::response_mode},
    {"claims", &AuthorizationRequest::claims, true},
    {"acr_values", &AuthorizationRequest::acr_values},
    {"request", &AuthorizationRequest::request, true},
    {"request_uri", &AuthorizationRequest::request_uri},
    {"registration", &AuthorizationRequest::registration, true},
    {"remember", &AuthorizationRequest::remember},
    {"dpop_jkt", &AuthorizationRequest::dpop_jkt},
}};

Error Invalid(std::string description) {
  return Error::OAuth(400, "invalid_request", std::move(description));
}

}  // namespace

Result<AuthorizationRequest> AuthorizationRequest::FromFields(const FormFields& fields,
                                                              size_t max_value) {
  AuthorizationRequest r;
  for (const auto& [name, value] : fields) {
    for (const auto& [key, member, long_value] : kMembers) {
      if (name != key) continue;
      // RFC 6749 §3.1: "Request and response parameters MUST NOT be included more than once."
      if ((r.*member).has_value()) return Fail(Invalid("The parameter " + name + " is repeated."));
      if (value.size() > (long_value ? std::max(max_value, kMaxLongValue) : max_value)) {
        return Fail(Invalid("The parameter " + name + " is too long."));
      }
      r.*member = value;
    }
  }
  return r;
}

Result<AuthorizationRequest> AuthorizationRequest::Parse(std::string_view urlencoded,
                                                         size_t max_value) {
  auto fields = ParseForm(urlencoded);
  if (!fields) return Fail(Invalid("The request parameters are not correctly encoded."));
  return FromFields(*fields, max_value);
}

FormFields AuthorizationRequest::ToFields() const {
  FormFields out;
  for (const auto& m : kMembers) {
    if ((this->*m.member).has_value()) out.emplace_back(std::string(m.name), *(this->*m.member));
  }
  return out;
}

std::string AuthorizationRequest::ToQuery() const {
  std::string out;
  for (const auto& [k, v] : ToFields()) {
    if (!out.empty()) out += '&';
    out += PercentEncode(k);
    out += '=';
    out += PercentEncode(v);
  }
  return out;
}

}  // namespace portcullis::oauth
