#include "http/client_cert.h"

#include <gtest/gtest.h>

#include "common/encoding.h"
#include "http/message.h"
#include "http/server.h"

namespace portcullis::http {
namespace {

const std::string kDer = "\x30\x03\x02\x01\x05";  // any bytes: the header is not parsed as X.509

std::string Pem() {
  return "-----BEGIN CERTIFICATE-----\n" + Base64Encode(kDer) + "\n-----END CERTIFICATE-----\n";
}

ServerOptions Options() {
  ServerOptions o;
  o.trusted_proxies = *AddressRanges::Parse("10.0.0.1");
  o.client_cert_header = "x-client-cert";
  return o;
}

Request From(std::string peer, std::string cert_header) {
  Request req;
  req.peer_ip = std::move(peer);
  req.headers.emplace_back("x-client-cert", cert_header);
  return req;
}

TEST(ClientCertHeader, DecodesPlainAndUrlEncodedPem) {
  EXPECT_EQ(DecodeCertificateHeader(Pem()), kDer);
  EXPECT_EQ(DecodeCertificateHeader(PercentEncode(Pem())), kDer);
  EXPECT_FALSE(DecodeCertificateHeader("not a certificate"));
  EXPECT_FALSE(
      DecodeCertificateHeader("-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----"));
  EXPECT_FALSE(DecodeCertificateHeader("-----BEGIN CERTIFICATE-----\nAAAA"));
}

TEST(ClientCertHeader, BelievedOnlyFromATrustedProxy) {
  auto options = Options();
  Request trusted = From("10.0.0.1", PercentEncode(Pem()));
  ReadProxiedClientCert(trusted, options);
  EXPECT_EQ(trusted.client_cert, kDer);
  EXPECT_TRUE(trusted.client_cert_verified);

  Request stranger = From("10.0.0.2", PercentEncode(Pem()));
  ReadProxiedClientCert(stranger, options);
  EXPECT_TRUE(stranger.client_cert.empty());
  EXPECT_FALSE(stranger.client_cert_verified);
}

TEST(ClientCertHeader, VerifyHeaderDecidesVerified) {
  auto options = Options();
  options.client_cert_verify_header = "x-client-verify";
  Request ok = From("10.0.0.1", Pem());
  ok.headers.emplace_back("x-client-verify", "SUCCESS");
  ReadProxiedClientCert(ok, options);
  EXPECT_TRUE(ok.client_cert_verified);

  Request failed = From("10.0.0.1", Pem());
  failed.headers.emplace_back("x-client-verify", "FAILED:self signed certificate");
  ReadProxiedClientCert(failed, options);
  EXPECT_EQ(failed.client_cert, kDer);  // still usable for self_signed_tls_client_auth
  EXPECT_FALSE(failed.client_cert_verified);
}

}  // namespace
}  // namespace portcullis::http
