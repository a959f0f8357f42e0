#include "oauth/client/client.h"

#include <algorithm>

namespace portcullis::oauth {

bool Client::AllowsGrant(std::string_view grant) const {
  // Rows imported from light-oauth2 before grant lists existed carry none: they keep
  // light-oauth2's behaviour, where the grant type alone decides (the token service still
  // limits password and client_authenticated_user to trusted clients, reference §4.4).
  if (grant_types.empty()) return true;
  return std::find(grant_types.begin(), grant_types.end(), grant) != grant_types.end();
}

bool Client::AcceptsSecretMethod(std::string_view presented) const {
  if (auth_method != "client_secret_basic" && auth_method != "client_secret_post") return false;
  // RFC 7591 §2: a registered token_endpoint_auth_method is the one the client uses.
  return !auth_method_explicit || presented == auth_method;
}

bool NeedsClientAuthentication(std::string_view grant) {
  return grant == "client_credentials" || grant == "password" ||
         grant == "client_authenticated_user" || grant == "bootstrap_token" ||
         grant == "urn:ietf:params:oauth:grant-type:token-exchange";
}

std::string DefaultAuthMethod(std::string_view client_type) {
  return client_type == "public" ? "none" : "client_secret_basic";
}

bool Client::HasScope(std::string_view s) const {
  // RFC 6749 §3.3: scope tokens are compared as whole strings, never as substrings
  // (light-oauth2's String.contains bug, reference §4.6).
  return std::find(scope.begin(), scope.end(), s) != scope.end();
}

std::vector<std::string> SplitScope(std::string_view text) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() &&
           (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r')) {
      ++i;
    }
    size_t j = i;
    while (j < text.size() && text[j] != ' ' && text[j] != '\t' && text[j] != '\n' &&
           text[j] != '\r') {
      ++j;
    }
    if (j > i) {
      std::string_view item = text.substr(i, j - i);
      if (std::find(out.begin(), out.end(), item) == out.end()) out.emplace_back(item);
    }
    i = j;
  }
  return out;
}

std::string JoinScope(const std::vector<std::string>& scopes) {
  std::string out;
  for (const auto& s : scopes) {
    if (!out.empty()) out += ' ';
    out += s;
  }
  return out;
}

}  // namespace portcullis::oauth
