#include "oauth/token/mtls.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <boost/json/serialize.hpp>

#include "jose/key.h"

namespace portcullis::oauth {
namespace {

// A self-signed certificate for `key` with subject CN=<cn>,O=Example and the given SAN
// (OpenSSL config syntax, e.g. "DNS:client.example,IP:192.0.2.7").
std::string MakeCert(EVP_PKEY* key, const char* cn, const char* san) {
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
  X509_gmtime_adj(X509_getm_notBefore(x), 0);
  X509_gmtime_adj(X509_getm_notAfter(x), 3600);
  X509_set_pubkey(x, key);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("Example"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn),
                             -1, -1, 0);
  X509_set_issuer_name(x, name);
  if (san != nullptr) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, x, x, nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, san);
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
  }
  X509_sign(x, key, EVP_sha256());
  int n = i2d_X509(x, nullptr);
  std::string der(static_cast<size_t>(n), '\0');
  auto* p = reinterpret_cast<unsigned char*>(der.data());
  i2d_X509(x, &p);
  X509_free(x);
  return der;
}

class MtlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    der_ = MakeCert(key_.get(), "client1",
                    "DNS:client.example,URI:spiffe://example/client1,IP:192.0.2.7,"
                    "email:ops@example.com");
  }
  static std::string Jwks(const jose::Key& k) {
    boost::json::object set;
    set["keys"] = boost::json::array{*k.ToPublicJwk("k1", jose::Alg::kES256)};
    return boost::json::serialize(set);
  }
  Client TlsClient(TlsSubjectKind kind, std::string name) {
    Client c;
    c.client_id = "c1";
    c.auth_method = AuthMethod::kTlsClientAuth;
    c.tls_subject_kind = kind;
    c.tls_subject = std::move(name);
    return c;
  }
  jose::Key key_ = *jose::Key::Generate(jose::Alg::kES256);
  jose::Key other_ = *jose::Key::Generate(jose::Alg::kES256);
  std::string der_;
};

TEST(CertificateThumbprint, IsBase64UrlSha256) {
  EXPECT_EQ(CertificateThumbprint("abc"), "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0");
}

TEST_F(MtlsTest, SubjectDnInRfc4514Order) {
  EXPECT_EQ(CertificateSubjectDn(der_), "CN=client1,O=Example");
  EXPECT_FALSE(CertificateSubjectDn("not der"));
  EXPECT_FALSE(CertificateSubjectDn(der_ + "x"));  // trailing bytes
}

TEST_F(MtlsTest, TlsClientAuthMatchesTheRegisteredName) {
  ClientCertificate verified{der_, true};
  EXPECT_TRUE(
      CheckTlsClientAuth(TlsClient(TlsSubjectKind::kSubjectDn, "CN=client1,O=Example"), verified));
  EXPECT_TRUE(CheckTlsClientAuth(TlsClient(TlsSubjectKind::kSanDns, "Client.Example"), verified));
  EXPECT_TRUE(
      CheckTlsClientAuth(TlsClient(TlsSubjectKind::kSanUri, "spiffe://example/client1"), verified));
  EXPECT_TRUE(CheckTlsClientAuth(TlsClient(TlsSubjectKind::kSanIp, "192.0.2.7"), verified));
  EXPECT_TRUE(
      CheckTlsClientAuth(TlsClient(TlsSubjectKind::kSanEmail, "ops@example.com"), verified));

  EXPECT_FALSE(
      CheckTlsClientAuth(TlsClient(TlsSubjectKind::kSubjectDn, "CN=client2,O=Example"), verified));
  EXPECT_FALSE(CheckTlsClientAuth(TlsClient(TlsSubjectKind::kSubjectDn, "CN=client1"), verified));
  EXPECT_FALSE(CheckTlsClientAuth(TlsClient(TlsSubjectKind::kSanDns, "other.example"), verified));
  EXPECT_FALSE(CheckTlsClientAuth(TlsClient(TlsSubjectKind::kSanIp, "192.0.2.8"), verified));
  // The DN is not a DNS name and the other way round.
  EXPECT_FALSE(CheckTlsClientAuth(TlsClient(TlsSubjectKind::kSanUri, "client.example"), verified));
  EXPECT_FALSE(CheckTlsClientAuth(TlsClient(TlsSubjectKind::kNone, ""), verified));
}

TEST_F(MtlsTest, TlsClientAuthNeedsAVerifiedChain) {
  auto c = TlsClient(TlsSubjectKind::kSubjectDn, "CN=client1,O=Example");
  auto r = CheckTlsClientAuth(c, ClientCertificate{der_, false});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "ERR12007");
  EXPECT_FALSE(CheckTlsClientAuth(c, ClientCertificate{}));
  EXPECT_FALSE(CheckTlsClientAuth(c, ClientCertificate{"garbage", true}));
}

TEST_F(MtlsTest, SelfSignedMatchesAKeyOfTheJwks) {
  Client c;
  c.client_id = "c1";
  c.auth_method = AuthMethod::kSelfSignedTlsClientAuth;
  c.jwks = Jwks(key_);
  EXPECT_TRUE(CheckSelfSignedTlsClientAuth(c, ClientCertificate{der_, false}));
  c.jwks = Jwks(other_);
  EXPECT_FALSE(CheckSelfSignedTlsClientAuth(c, ClientCertificate{der_, false}));
  c.jwks = "not json";
  EXPECT_FALSE(CheckSelfSignedTlsClientAuth(c, ClientCertificate{der_, false}));
  c.jwks = Jwks(key_);
  EXPECT_FALSE(CheckSelfSignedTlsClientAuth(c, ClientCertificate{}));
}

}  // namespace
}  // namespace portcullis::oauth
