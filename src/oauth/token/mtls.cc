#include "oauth/token/mtls.h"

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <strings.h>

#include <cstring>
#include <optional>

#include "common/encoding.h"
#include "jose/key_set.h"

namespace portcullis::oauth {
namespace {

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;

X509Ptr ParseDer(std::string_view der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  X509* x = d2i_X509(nullptr, &p, static_cast<long>(der.size()));
  // Trailing bytes after the certificate would be a different input with the same parse.
  if (x != nullptr && p != reinterpret_cast<const unsigned char*>(der.data()) + der.size()) {
    X509_free(x);
    return nullptr;
  }
  return X509Ptr(x);
}

std::string DnOf(X509_NAME* name) {
  BIO* bio = BIO_new(BIO_s_mem());
  if (bio == nullptr) return {};
  std::string out;
  // RFC 2253 / RFC 4514 form, most specific RDN first, UTF-8 kept as is.
  if (X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0) {
    char* data = nullptr;
    long n = BIO_get_mem_data(bio, &data);
    if (n > 0) out.assign(data, static_cast<size_t>(n));
  }
  BIO_free(bio);
  return out;
}

std::string_view AsView(const ASN1_STRING* s) {
  return {reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
          static_cast<size_t>(ASN1_STRING_length(s))};
}

// The registered iPAddress as bytes (4 or 16), or nullopt when it is not an address.
std::optional<std::string> IpBytes(const std::string& text) {
  unsigned char buf[16];
  if (inet_pton(AF_INET, text.c_str(), buf) == 1)
    return std::string(reinterpret_cast<char*>(buf), 4);
  if (inet_pton(AF_INET6, text.c_str(), buf) == 1) {
    return std::string(reinterpret_cast<char*>(buf), 16);
  }
  return std::nullopt;
}

bool SanMatches(X509* x, TlsSubjectKind kind, const std::string& want) {
  auto* names =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(x, NID_subject_alt_name, nullptr, nullptr));
  if (names == nullptr) return false;
  std::optional<std::string> want_ip;
  if (kind == TlsSubjectKind::kSanIp) want_ip = IpBytes(want);
  bool found = false;
  for (int i = 0; i < sk_GENERAL_NAME_num(names) && !found; ++i) {
    const GENERAL_NAME* g = sk_GENERAL_NAME_value(names, i);
    switch (kind) {
      case TlsSubjectKind::kSanDns:
        if (g->type == GEN_DNS) {
          auto v = AsView(g->d.dNSName);
          found = v.size() == want.size() && strncasecmp(v.data(), want.data(), v.size()) == 0;
        }
        break;
      case TlsSubjectKind::kSanUri:
        found = g->type == GEN_URI && AsView(g->d.uniformResourceIdentifier) == want;
        break;
      case TlsSubjectKind::kSanEmail:
        found = g->type == GEN_EMAIL && AsView(g->d.rfc822Name) == want;
        break;
      case TlsSubjectKind::kSanIp:
        found = g->type == GEN_IPADD && want_ip && AsView(g->d.iPAddress) == *want_ip;
        break;
      default:
        break;
    }
  }
  GENERAL_NAMES_free(names);
  return found;
}

Status Refused(std::string why) { return Fail(Error::Status("ERR12007", std::move(why))); }

}  // namespace

std::string CertificateThumbprint(std::string_view der) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(der.data()), der.size(), digest);
  return Base64UrlEncode(std::string_view(reinterpret_cast<char*>(digest), sizeof(digest)));
}

std::optional<std::string> CertificateSubjectDn(std::string_view der) {
  auto x = ParseDer(der);
  if (!x) return std::nullopt;
  return DnOf(X509_get_subject_name(x.get()));
}

Status CheckTlsClientAuth(const Client& c, const ClientCertificate& cert) {
  if (cert.der.empty())
    return Refused("The client must authenticate with a TLS client certificate.");
  // §2.1: the PKI method rests on the chain: a self-signed certificate with the right name
  // proves nothing.
  if (!cert.verified) return Refused("The client certificate is not issued by a trusted CA.");
  auto x = ParseDer(cert.der);
  if (!x) return Refused("The client certificate cannot be read.");
  bool ok = false;
  if (c.tls_subject_kind == TlsSubjectKind::kSubjectDn) {
    ok = DnOf(X509_get_subject_name(x.get())) == c.tls_subject;
  } else if (c.tls_subject_kind != TlsSubjectKind::kNone) {
    ok = SanMatches(x.get(), c.tls_subject_kind, c.tls_subject);
  }
  if (!ok) return Refused("The client certificate does not carry the registered name.");
  return {};
}

Status CheckSelfSignedTlsClientAuth(const Client& c, const ClientCertificate& cert) {
  if (cert.der.empty())
    return Refused("The client must authenticate with a TLS client certificate.");
  auto keys = jose::ParseJwks(c.jwks);
  if (!keys) return Refused("The client's jwks cannot be read.");
  return CheckSelfSignedTlsClientAuth(*keys, cert);
}

Status CheckSelfSignedTlsClientAuth(const jose::KeySet& keys, const ClientCertificate& cert) {
  if (cert.der.empty())
    return Refused("The client must authenticate with a TLS client certificate.");
  auto x = ParseDer(cert.der);
  if (!x) return Refused("The client certificate cannot be read.");
  EVP_PKEY* presented = X509_get0_pubkey(x.get());
  if (presented == nullptr) return Refused("The client certificate's key cannot be read.");
  for (const auto& [kid, entry] : keys.entries()) {
    if (EVP_PKEY_eq(entry.key.get(), presented) == 1) return {};
  }
  return Refused("The client certificate's key is not in the client's jwks.");
}

}  // namespace portcullis::oauth
