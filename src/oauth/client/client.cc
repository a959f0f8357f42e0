#include "oauth/client/client.h"

#include <algorithm>
#include <array>
#include <utility>

#include <boost/json/parse.hpp>

#include "oauth/client/validation.h"

namespace portcullis::oauth {
namespace {

template <typename E, size_t N>
std::string_view NameOf(const std::array<std::pair<E, std::string_view>, N>& names, E e) {
  for (const auto& [v, n] : names) {
    if (v == e) return n;
  }
  return {};
}

template <typename E, size_t N>
std::optional<E> Parse(const std::array<std::pair<E, std::string_view>, N>& names,
                       std::string_view text) {
  for (const auto& [v, n] : names) {
    if (n == text) return v;
  }
  return std::nullopt;
}

constexpr std::array<std::pair<ClientType, std::string_view>, 4> kClientTypes = {{
    {ClientType::kPublic, "public"},
    {ClientType::kConfidential, "confidential"},
    {ClientType::kTrusted, "trusted"},
    {ClientType::kExternal, "external"},
}};
constexpr std::array<std::pair<TokenProfile, std::string_view>, 2> kTokenProfiles = {{
    {TokenProfile::kRfc9068, "rfc9068"},
    {TokenProfile::kLight4j, "light-4j"},
}};
constexpr std::array<std::pair<AuthMethod, std::string_view>, 6> kAuthMethods = {{
    {AuthMethod::kClientSecretBasic, "client_secret_basic"},
    {AuthMethod::kClientSecretPost, "client_secret_post"},
    {AuthMethod::kPrivateKeyJwt, "private_key_jwt"},
    {AuthMethod::kNone, "none"},
    {AuthMethod::kTlsClientAuth, "tls_client_auth"},
    {AuthMethod::kSelfSignedTlsClientAuth, "self_signed_tls_client_auth"},
}};
constexpr std::array<std::pair<TlsSubjectKind, std::string_view>, 6> kTlsSubjectKinds = {{
    {TlsSubjectKind::kNone, ""},
    {TlsSubjectKind::kSubjectDn, "subject_dn"},
    {TlsSubjectKind::kSanDns, "san_dns"},
    {TlsSubjectKind::kSanUri, "san_uri"},
    {TlsSubjectKind::kSanIp, "san_ip"},
    {TlsSubjectKind::kSanEmail, "san_email"},
}};
constexpr std::array<std::pair<SecurityProfile, std::string_view>, 2> kSecurityProfiles = {{
    {SecurityProfile::kNone, ""},
    {SecurityProfile::kFapi2, "fapi2"},
}};

}  // namespace

std::string_view ClientTypeName(ClientType t) { return NameOf(kClientTypes, t); }
std::string_view TokenProfileName(TokenProfile p) { return NameOf(kTokenProfiles, p); }
std::string_view AuthMethodName(AuthMethod m) { return NameOf(kAuthMethods, m); }
std::optional<ClientType> ParseClientType(std::string_view text) {
  return Parse(kClientTypes, text);
}
std::optional<TokenProfile> ParseTokenProfile(std::string_view text) {
  return Parse(kTokenProfiles, text);
}
std::optional<AuthMethod> ParseAuthMethod(std::string_view text) {
  return Parse(kAuthMethods, text);
}
std::string_view TlsSubjectKindName(TlsSubjectKind k) { return NameOf(kTlsSubjectKinds, k); }
std::optional<TlsSubjectKind> ParseTlsSubjectKind(std::string_view text) {
  return Parse(kTlsSubjectKinds, text);
}

std::string_view SecurityProfileName(SecurityProfile p) { return NameOf(kSecurityProfiles, p); }
std::optional<SecurityProfile> ParseSecurityProfile(std::string_view text) {
  return Parse(kSecurityProfiles, text);
}

boost::json::object ParseCustomClaims(std::string_view text) {
  boost::json::object out;
  if (text.empty()) return out;
  boost::system::error_code ec;
  auto parsed = boost::json::parse(boost::json::string_view(text.data(), text.size()), ec);
  if (ec || !parsed.is_object()) return out;
  for (auto& [k, v] : parsed.as_object()) {
    if (!IsReservedClaim(std::string_view(k.data(), k.size()))) out[k] = std::move(v);
  }
  return out;
}

bool Client::AllowsGrant(std::string_view grant) const {
  // Rows imported from light-oauth2 before grant lists existed carry none: they keep
  // light-oauth2's behaviour, where the grant type alone decides (the token service still
  // limits password and client_authenticated_user to trusted clients, reference §4.4).
  if (grant_types.empty()) return true;
  return std::find(grant_types.begin(), grant_types.end(), grant) != grant_types.end();
}

bool Client::AcceptsSecretMethod(std::string_view presented) const {
  if (!UsesSecret(auth_method)) return false;
  // RFC 7591 §2: a registered token_endpoint_auth_method is the one the client uses.
  return !auth_method_explicit || presented == AuthMethodName(auth_method);
}

AuthMethod DefaultAuthMethod(ClientType client_type) {
  return client_type == ClientType::kPublic ? AuthMethod::kNone : AuthMethod::kClientSecretBasic;
}

bool UsesSecret(AuthMethod m) {
  return m == AuthMethod::kClientSecretBasic || m == AuthMethod::kClientSecretPost;
}

bool UsesCertificate(AuthMethod m) {
  return m == AuthMethod::kTlsClientAuth || m == AuthMethod::kSelfSignedTlsClientAuth;
}

bool Fapi2AllowsAuthMethod(AuthMethod m) {
  return m == AuthMethod::kPrivateKeyJwt || UsesCertificate(m);
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
