#pragma once
// Client certificates of mutual TLS (RFC 8705) that arrive in a header: behind a reverse proxy
// that terminates TLS (nginx: `proxy_set_header X-Client-Cert $ssl_client_escaped_cert`), the
// proxy passes the certificate it received as URL-encoded PEM. Anyone can write that header, so
// it is believed only from a trusted proxy (server.trusted_proxies); from any other peer it is
// ignored and logged. Pure functions over strings; thread-safe.

#include <optional>
#include <string>
#include <string_view>

namespace portcullis::http {

struct Request;
struct ServerOptions;

// The DER bytes of the first certificate in `text`: PEM, optionally URL-encoded (nginx's
// $ssl_client_escaped_cert). nullopt when it is not a PEM certificate.
std::optional<std::string> DecodeCertificateHeader(std::string_view text);

// Fills req.client_cert / client_cert_verified from options.client_cert_header when the request
// came from a trusted proxy (req.peer_ip in options.trusted_proxies). The proxy vouches for the
// chain unless options.client_cert_verify_header is set: then only its value "SUCCESS" (nginx
// $ssl_client_verify) counts as verified. A header from another peer is ignored (logged).
void ReadProxiedClientCert(Request& req, const ServerOptions& options);

}  // namespace portcullis::http
