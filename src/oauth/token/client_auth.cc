#include "oauth/token/client_auth.h"

#include <strings.h>

#include <boost/json/parse.hpp>

#include "common/encoding.h"
#include "jose/verifier.h"
#include "oauth/token/token_errors.h"

namespace portcullis::oauth {

Result<PresentedCredentials> ReadClientCredentials(std::optional<std::string_view> authorization,
                                                   const Params* form) {
  PresentedCredentials out;
  bool has_header = authorization && !authorization->empty();
  if (has_header) {
    std::string_view h = *authorization;
    if (h.size() < 6 || strncasecmp(h.data(), "basic ", 6) != 0) {
      return Fail(Error::Status("ERR12003"));
    }
    std::string_view rest = h.substr(6);
    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    std::string decoded;
    bool encoded = rest.find(':') == std::string_view::npos;
    if (encoded) {
      auto d = Base64Decode(rest);
      if (!d) return Fail(Error::Status("ERR12004"));
      decoded = std::move(*d);
    } else {
      decoded = std::string(rest);  // light-oauth2's unencoded "Basic id:secret"
    }
    size_t colon = decoded.find(':');
    if (colon == std::string::npos) return Fail(Error::Status("ERR12004"));
    std::string id = decoded.substr(0, colon);
    std::string secret = decoded.substr(colon + 1);
    if (encoded) {
      // RFC 6749 §2.3.1: id and secret are form-encoded before base64.
      auto i = PercentDecode(id, true);
      auto s = PercentDecode(secret, true);
      if (!i || !s) return Fail(Error::Status("ERR12004"));
      id = std::move(*i);
      secret = std::move(*s);
    }
    if (id.empty() || secret.empty()) return Fail(Error::Status("ERR12004"));
    if (form && form->Has("client_secret")) {
      // RFC 6749 §2.3: one authentication method per request.
      return Fail(InvalidRequest("Client credentials were sent both in the header and the body."));
    }
    out.client_id = std::move(id);
    out.secret = Secret(std::move(secret));
    out.method = "client_secret_basic";
    return out;
  }
  if (!form) return Fail(Error::Status("ERR12002"));
  std::string_view id = form->Value("client_id");
  if (form->Has("client_assertion")) {
    // RFC 7523 §2.2
    if (form->Value("client_assertion_type") !=
        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer") {
      return Fail(InvalidRequest("Unsupported client_assertion_type."));
    }
    out.assertion = std::string(form->Value("client_assertion"));
    out.client_id = id.empty() ? UnverifiedAssertionSubject(out.assertion) : std::string(id);
    out.method = "private_key_jwt";
    return out;
  }
  if (id.empty()) return Fail(Error::Status("ERR12002"));
  out.client_id = std::string(id);
  std::string_view secret = form->Value("client_secret");
  if (secret.empty()) {
    out.method = "none";
  } else {
    out.secret = Secret(std::string(secret));
    out.method = "client_secret_post";
  }
  return out;
}

std::string UnverifiedAssertionSubject(std::string_view assertion) {
  if (assertion.size() > jose::kMaxTokenBytes) return {};
  size_t first = assertion.find('.');
  if (first == std::string_view::npos) return {};
  size_t second = assertion.find('.', first + 1);
  if (second == std::string_view::npos) return {};
  auto payload = Base64UrlDecode(assertion.substr(first + 1, second - first - 1));
  if (!payload) return {};
  boost::system::error_code ec;
  auto v = boost::json::parse(*payload, ec);
  if (ec || !v.is_object()) return {};
  const auto* sub = v.as_object().if_contains("sub");
  if (sub == nullptr || !sub->is_string()) return {};
  return std::string(sub->as_string());
}

}  // namespace portcullis::oauth
