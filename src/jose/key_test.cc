#include "jose/key.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <boost/json.hpp>

#include "common/encoding.h"

namespace portcullis::jose {
namespace {

constexpr Alg kAllAlgs[] = {Alg::kRS256, Alg::kPS256, Alg::kES256, Alg::kEdDSA};

class KeyAlgTest : public ::testing::TestWithParam<Alg> {};

TEST_P(KeyAlgTest, GenerateSupportsAlg) {
  auto key = Key::Generate(GetParam());
  ASSERT_TRUE(key.has_value()) << key.error().detail;
  EXPECT_TRUE(key->has_private());
  EXPECT_TRUE(key->Supports(GetParam()));
}

TEST_P(KeyAlgTest, PemRoundTrip) {
  auto key = Key::Generate(GetParam());
  ASSERT_TRUE(key);
  auto priv_pem = key->PrivatePem();
  ASSERT_TRUE(priv_pem);
  EXPECT_TRUE(priv_pem->Reveal().starts_with("-----BEGIN PRIVATE KEY-----"));
  auto priv = Key::FromPem(priv_pem->Reveal());
  ASSERT_TRUE(priv) << priv.error().detail;
  EXPECT_TRUE(priv->has_private());
  EXPECT_TRUE(priv->SamePublicKey(*key));

  auto pub_pem = key->PublicPem();
  ASSERT_TRUE(pub_pem);
  auto pub = Key::FromPem(*pub_pem);
  ASSERT_TRUE(pub) << pub.error().detail;
  EXPECT_FALSE(pub->has_private());
  EXPECT_TRUE(pub->SamePublicKey(*key));
  EXPECT_FALSE(pub->PrivatePem().has_value());
}

TEST_P(KeyAlgTest, JwkRoundTrip) {
  auto key = Key::Generate(GetParam());
  ASSERT_TRUE(key);
  auto jwk = key->ToPublicJwk("k1", GetParam());
  ASSERT_TRUE(jwk) << jwk.error().detail;
  EXPECT_EQ((*jwk)["kid"], "k1");
  EXPECT_EQ((*jwk)["alg"], boost::json::string(AlgName(GetParam())));
  EXPECT_EQ((*jwk)["use"], "sig");
  EXPECT_FALSE(jwk->contains("d"));
  auto back = Key::FromJwk(*jwk);
  ASSERT_TRUE(back) << back.error().detail;
  EXPECT_FALSE(back->has_private());
  EXPECT_TRUE(back->SamePublicKey(*key));
  // Serialising again gives the same members.
  auto again = back->ToPublicJwk("k1", GetParam());
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, *jwk);
}

TEST_P(KeyAlgTest, SelfSignedCertificate) {
  auto key = Key::Generate(GetParam());
  ASSERT_TRUE(key);
  auto pem = key->SelfSignedCertificatePem("portcullis 100", 1'700'000'000, 1'800'000'000);
  ASSERT_TRUE(pem) << pem.error().detail;
  EXPECT_TRUE(pem->starts_with("-----BEGIN CERTIFICATE-----"));
  auto from_cert = Key::FromPem(*pem);
  ASSERT_TRUE(from_cert) << from_cert.error().detail;
  EXPECT_FALSE(from_cert->has_private());
  EXPECT_TRUE(from_cert->SamePublicKey(*key));
}

INSTANTIATE_TEST_SUITE_P(AllAlgs, KeyAlgTest, ::testing::ValuesIn(kAllAlgs),
                         [](const auto& info) { return std::string(AlgName(info.param)); });

TEST(KeyTest, SupportsMatrix) {
  auto rsa = Key::Generate(Alg::kRS256);
  auto ec = Key::Generate(Alg::kES256);
  auto ed = Key::Generate(Alg::kEdDSA);
  ASSERT_TRUE(rsa && ec && ed);
  EXPECT_TRUE(rsa->Supports(Alg::kPS256));
  EXPECT_FALSE(rsa->Supports(Alg::kES256));
  EXPECT_FALSE(ec->Supports(Alg::kRS256));
  EXPECT_FALSE(ec->Supports(Alg::kEdDSA));
  EXPECT_FALSE(ed->Supports(Alg::kES256));
  EXPECT_EQ(rsa->bits(), 2048);
  EXPECT_EQ(rsa->type(), KeyType::kRsa);
  EXPECT_EQ(ec->type(), KeyType::kEcP256);
  EXPECT_EQ(ed->type(), KeyType::kEd25519);
  EXPECT_FALSE(rsa->ToPublicJwk("x", Alg::kES256).has_value());
}

TEST(KeyTest, CopiesShareTheKey) {
  auto key = Key::Generate(Alg::kES256);
  ASSERT_TRUE(key);
  Key copy = *key;
  EXPECT_EQ(copy.get(), key->get());
}

TEST(KeyTest, AlgNames) {
  for (Alg alg : kAllAlgs) EXPECT_EQ(ParseAlg(AlgName(alg)), alg);
  EXPECT_FALSE(ParseAlg("none"));
  EXPECT_FALSE(ParseAlg("HS256"));
  EXPECT_FALSE(ParseAlg("rs256"));
  EXPECT_FALSE(ParseAlg(""));
}

TEST(KeyTest, FromPemRejectsGarbage) {
  EXPECT_FALSE(Key::FromPem(""));
  EXPECT_FALSE(Key::FromPem("not a pem"));
  EXPECT_FALSE(Key::FromPem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"));
  EXPECT_FALSE(Key::FromPem("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"));
  EXPECT_FALSE(Key::FromPem(std::string(100'000, 'A')));
}

TEST(KeyTest, FromPemRejectsUnsupportedKeys) {
  auto pem_of = [](EVP_PKEY* pkey) {
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PUBKEY(bio, pkey);
    char* data = nullptr;
    long len = BIO_get_mem_data(bio, &data);
    std::string pem(data, static_cast<size_t>(len));
    BIO_free(bio);
    EVP_PKEY_free(pkey);
    return pem;
  };
  std::string p384 = pem_of(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384"));
  std::string rsa1024 = pem_of(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{1024}));
  std::string x25519 = pem_of(EVP_PKEY_Q_keygen(nullptr, nullptr, "X25519"));
  ASSERT_TRUE(p384.starts_with("-----BEGIN PUBLIC KEY-----"));
  EXPECT_FALSE(Key::FromPem(p384).has_value());
  EXPECT_FALSE(Key::FromPem(rsa1024).has_value());
  EXPECT_FALSE(Key::FromPem(x25519).has_value());
}

boost::json::object JwkOf(Alg alg) {
  auto key = Key::Generate(alg);
  return key->ToPublicJwk("k", alg).value();
}

TEST(KeyJwkTest, IgnoresPrivateMembers) {
  auto jwk = JwkOf(Alg::kES256);
  jwk["d"] = Base64UrlEncode(std::string(32, '\x01'));
  auto key = Key::FromJwk(jwk);
  ASSERT_TRUE(key) << key.error().detail;
  EXPECT_FALSE(key->has_private());
}

TEST(KeyJwkTest, RejectsBadEc) {
  auto good = JwkOf(Alg::kES256);
  auto jwk = good;
  jwk["crv"] = "P-384";
  EXPECT_FALSE(Key::FromJwk(jwk));
  jwk = good;
  jwk["x"] = Base64UrlEncode(std::string(31, '\x01'));
  EXPECT_FALSE(Key::FromJwk(jwk));
  jwk = good;
  // (1, 1) is not on P-256: an invalid-curve point must not import.
  jwk["x"] = Base64UrlEncode(std::string(31, '\0') + "\x01");
  jwk["y"] = Base64UrlEncode(std::string(31, '\0') + "\x01");
  EXPECT_FALSE(Key::FromJwk(jwk));
  jwk = good;
  jwk["y"] = 5;
  EXPECT_FALSE(Key::FromJwk(jwk));
  jwk = good;
  jwk["x"] = "not base64!";
  EXPECT_FALSE(Key::FromJwk(jwk));
}

TEST(KeyJwkTest, RejectsBadRsa) {
  auto good = JwkOf(Alg::kRS256);
  auto jwk = good;
  jwk["n"] = Base64UrlEncode(std::string(128, '\xff'));  // 1024 bits
  EXPECT_FALSE(Key::FromJwk(jwk));
  jwk = good;
  jwk["n"] = Base64UrlEncode(std::string(1100, '\xff'));  // 8800 bits
  EXPECT_FALSE(Key::FromJwk(jwk));
  jwk = good;
  jwk["e"] = Base64UrlEncode("\x01");
  EXPECT_FALSE(Key::FromJwk(jwk));
  jwk = good;
  jwk["e"] = Base64UrlEncode("\x01\x00");  // even
  EXPECT_FALSE(Key::FromJwk(jwk));
  jwk = good;
  jwk.erase("e");
  EXPECT_FALSE(Key::FromJwk(jwk));
}

TEST(KeyJwkTest, RejectsBadOkpAndKty) {
  auto good = JwkOf(Alg::kEdDSA);
  auto jwk = good;
  jwk["crv"] = "X25519";
  EXPECT_FALSE(Key::FromJwk(jwk));
  jwk = good;
  jwk["x"] = Base64UrlEncode("short");
  EXPECT_FALSE(Key::FromJwk(jwk));
  jwk = good;
  jwk["kty"] = "oct";
  EXPECT_FALSE(Key::FromJwk(jwk));
  EXPECT_FALSE(Key::FromJwk(boost::json::object{}));
}

}  // namespace
}  // namespace portcullis::jose
