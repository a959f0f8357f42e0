#include "http/client_cert.h"

#include "common/encoding.h"
#include "common/log.h"
#include "http/message.h"
#include "http/server.h"

namespace portcullis::http {

std::optional<std::string> DecodeCertificateHeader(std::string_view text) {
  std::string pem;
  if (text.find('%') != std::string_view::npos) {
    // '+' stays '+': it is a base64 character, and nginx escapes spaces as %20.
    auto decoded = PercentDecode(text, false);
    if (!decoded) return std::nullopt;
    pem = std::move(*decoded);
  } else {
    pem = std::string(text);
  }
  static constexpr std::string_view kBegin = "-----BEGIN CERTIFICATE-----";
  static constexpr std::string_view kEnd = "-----END CERTIFICATE-----";
  size_t begin = pem.find(kBegin);
  if (begin == std::string::npos) return std::nullopt;
  begin += kBegin.size();
  size_t end = pem.find(kEnd, begin);
  if (end == std::string::npos) return std::nullopt;
  std::string b64;
  b64.reserve(end - begin);
  for (size_t i = begin; i < end; ++i) {
    char ch = pem[i];
    // Some proxies fold the PEM onto one line with spaces or tabs instead of newlines.
    if (ch == '\n' || ch == '\r' || ch == ' ' || ch == '\t') continue;
    b64 += ch;
  }
  auto der = Base64Decode(b64);
  if (!der || der->empty()) return std::nullopt;
  return der;
}

void ReadProxiedClientCert(Request& req, const ServerOptions& options) {
  if (options.client_cert_header.empty()) return;
  auto value = req.headers.Find(options.client_cert_header);
  if (!value || value->empty()) return;
  if (!options.trusted_proxies.Contains(req.peer_ip)) {
    // Anyone may write this header; only a proxy we trust has seen the certificate.
    log::Warn("http.client_cert_header_ignored",
              {{"peer", req.peer_ip}, {"header", options.client_cert_header}});
    return;
  }
  auto der = DecodeCertificateHeader(*value);
  if (!der) {
    log::Warn("http.client_cert_header_unreadable", {{"peer", req.peer_ip}});
    return;
  }
  req.client_cert = std::move(*der);
  if (options.client_cert_verify_header.empty()) {
    req.client_cert_verified = true;
  } else {
    auto verdict = req.headers.Find(options.client_cert_verify_header);
    req.client_cert_verified = verdict && *verdict == "SUCCESS";
  }
}

}  // namespace portcullis::http
