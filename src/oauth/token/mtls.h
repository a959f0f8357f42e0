#pragma once
// OAuth 2.0 mutual TLS (RFC 8705): client authentication by certificate (§2) and the
// certificate thumbprint that binds access tokens to it (§3). The HTTP layer hands over the
// DER certificate the connection (or a trusted proxy) presented (http::Request::client_cert);
// nothing here touches a socket. Pure functions over OpenSSL; thread-safe.

#include <memory>
#include <string>
#include <string_view>

#include "common/error.h"
#include "jose/key_set.h"
#include "oauth/client/client.h"

namespace portcullis::oauth {

// A client certificate as presented: DER, and whether its chain verified against the CA the
// server trusts for tls_client_auth (server.tls_client_ca, or the proxy's verdict).
struct ClientCertificate {
  std::string der;
  bool verified = false;
};

// x5t#S256 (RFC 8705 §3.1): base64url(SHA-256(DER)), without padding.
std::string CertificateThumbprint(std::string_view der);

// RFC 8705 §2.1: the certificate verified against our CA and carries the one name the client
// registered (subject DN in RFC 4514 form as OpenSSL prints it with -nameopt RFC2253, or a
// SAN dNSName, URI, iPAddress or rfc822Name, compared exactly; DNS names case-insensitively).
// Fails with a reason (for the error description; it names no secret).
Status CheckTlsClientAuth(const Client& c, const ClientCertificate& cert);

// RFC 8705 §2.2: the certificate's public key is one of the keys in the client's jwks (a JWK
// with x5c carries the same key). The chain is not checked: the certificate is self-signed.
Status CheckSelfSignedTlsClientAuth(const Client& c, const ClientCertificate& cert);
// The same against a key set already at hand (a jwks_uri's, from ClientJwksCache).
Status CheckSelfSignedTlsClientAuth(const jose::KeySet& keys, const ClientCertificate& cert);

// The subject DN as CheckTlsClientAuth compares it; nullopt for unreadable DER. For tests and
// error messages.
std::optional<std::string> CertificateSubjectDn(std::string_view der);

}  // namespace portcullis::oauth
