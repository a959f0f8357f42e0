// GET /oauth2/verify with sender-constrained tokens (api/verify_api.h): tokens with cnf signed by
// a fake key ring, DPoP proofs made here, the client certificate header and trusted proxies.
// No service is registered, so a request whose token passes every token check ends in 403
// "Service ... is not registered" (the catalog lookup comes after the token checks): that 403 is
// this file's "the token was accepted".

#include "api/verify_api.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <boost/json.hpp>

#include "api/admin_auth.h"
#include "common/clock.h"
#include "common/encoding.h"
#include "http/router.h"
#include "jose/jws_testing.h"
#include "jose/key.h"
#include "jose/key_set.h"
#include "jose/signer.h"
#include "jose/verifier.h"
#include "oauth/service/memory_service_store.h"
#include "oauth/service/service_catalog.h"
#include "oauth/token/memory_token_state_store.h"
#include "oauth/token/revocation_list.h"
#include "oauth/token/token_service.h"
#include "verify/sender.h"

namespace portcullis::api {
namespace {

namespace json = boost::json;
constexpr int64_t kNow = 1'700'000'000;
constexpr char kIss[] = "https://auth.example.com";

class FakeKeys final : public oauth::TokenKeys {
 public:
  explicit FakeKeys(const Clock& clock) : verifier_(Keys(key_), Options(), clock) {}
  Result<std::string> Sign(std::string_view payload, std::string_view typ) const override {
    return jose::Signer::Create(key_, jose::Alg::kES256, "k1", std::string(typ))
        .value()
        .Sign(std::string(payload));
  }
  Result<json::object> Verify(std::string_view jwt) const override {
    auto v = verifier_.Verify(jwt);
    if (!v) return Fail(jose::ToError(v.error()));
    return std::move(v->payload);
  }

 private:
  static jose::KeySet Keys(const jose::Key& key) {
    jose::KeySet set;
    (void)set.Add("k1", key, jose::Alg::kES256);
    return set;
  }
  static jose::VerifyOptions Options() {
    jose::VerifyOptions o;
    o.algorithms = {jose::Alg::kES256};
    return o;
  }
  jose::Key key_ = jose::Key::Generate(jose::Alg::kES256).value();
  jose::Verifier verifier_;
};

class NoAdmin final : public AdminAuth {
 public:
  Result<Caller> Authorize(const http::Request&, std::string_view) const override {
    return Fail(Error::Status("ERR10002"));
  }
};

std::string Sha256B64(std::string_view s) {
  unsigned char md[32];
  unsigned int len = 0;
  EVP_Digest(s.data(), s.size(), md, &len, EVP_sha256(), nullptr);
  return Base64UrlEncode(std::string_view(reinterpret_cast<char*>(md), len));
}

class VerifyApiTest : public ::testing::Test {
 protected:
  VerifyApiTest() {
    VerifyApiDeps deps{keys_, revoked_, services_, admin_, kIss, kIss, "petstore"};
    deps.trusted_proxies = http::AddressRanges::Parse("127.0.0.1").value();
    deps.clock = &clock_;
    deps_ = std::make_unique<VerifyApiDeps>(std::move(deps));
    RegisterVerifyApi(router_, *deps_);
  }

  std::string Token(json::object cnf, std::string_view jti = "t1") {
    json::object claims{{"iss", kIss}, {"exp", kNow + 600}, {"iat", kNow},
                        {"jti", jti},  {"client_id", "c1"}, {"scope", "pets.r"}};
    if (!cnf.empty()) claims["cnf"] = std::move(cnf);
    return keys_.Sign(json::serialize(claims), "at+jwt").value();
  }

  std::string Jkt() const {
    return verify::JwkThumbprint(client_.ToPublicJwk("", jose::Alg::kES256).value()).value();
  }

  std::string Proof(std::string_view token, std::string_view htu, std::string_view jti = "p1",
                    std::string_view htm = "GET") const {
    json::object header{{"typ", "dpop+jwt"},
                        {"alg", "ES256"},
                        {"jwk", client_.ToPublicJwk("", jose::Alg::kES256).value()}};
    json::object claims{
        {"htm", htm}, {"htu", htu}, {"iat", kNow}, {"jti", jti}, {"ath", Sha256B64(token)}};
    return jose::testing::SignRaw(client_, jose::Alg::kES256, json::serialize(header),
                                  json::serialize(claims));
  }

  http::Response Call(std::vector<std::pair<std::string, std::string>> headers,
                      std::string peer = "127.0.0.1") {
    http::Request req;
    req.method = "GET";
    req.target = "/oauth2/verify";
    req.path = req.target;
    req.peer_ip = std::move(peer);
    req.headers.emplace_back("x-original-method", "GET");
    req.headers.emplace_back("x-original-uri", "/v1/pets?limit=3");
    for (const auto& [name, value] : headers) req.headers.emplace_back(name, value);
    auto match = router_.Find(req);
    EXPECT_NE(match.route, nullptr);
    return std::get<http::Response>(match.route->handler(req));
  }

  static bool Accepted(const http::Response& r) {
    return r.status == 403 && r.body.find("is not registered") != std::string::npos;
  }
  static std::string Challenge(const http::Response& r) {
    for (const auto& [name, value] : r.headers) {
      if (name == "WWW-Authenticate") return value;
    }
    return "";
  }

  ManualClock clock_{kNow};
  FakeKeys keys_{clock_};
  oauth::MemoryDenyList deny_;
  oauth::RevocationList revoked_{deny_, clock_};
  oauth::MemoryServiceStore service_store_;
  oauth::ServiceCatalog services_{service_store_};
  NoAdmin admin_;
  std::unique_ptr<VerifyApiDeps> deps_;
  http::Router router_;
  jose::Key client_ = jose::Key::Generate(jose::Alg::kES256).value();
};

TEST_F(VerifyApiTest, DpopBoundTokenNeedsTheSchemeAndAProof) {
  std::string token = Token({{"jkt", Jkt()}});
  // As a bearer token: refused with the DPoP challenge.
  auto r = Call({{"authorization", "Bearer " + token}});
  EXPECT_EQ(r.status, 401) << r.body;
  EXPECT_TRUE(
      Challenge(r).starts_with("DPoP algs=\"ES256 PS256 EdDSA RS256\", "
                               "error=\"invalid_token\""))
      << Challenge(r);
  EXPECT_NE(r.body.find("invalid_token"), std::string::npos);
  // Properly: DPoP scheme, a proof for the public URI (the query is not part of htu).
  std::vector<std::pair<std::string, std::string>> ok = {
      {"authorization", "DPoP " + token},
      {"dpop", Proof(token, "https://api.example.com/v1/pets")},
      {"x-forwarded-proto", "https"},
      {"x-forwarded-host", "API.example.com:443"}};
  r = Call(ok);
  EXPECT_TRUE(Accepted(r)) << r.status << " " << r.body;
  // The same proof again.
  r = Call(ok);
  EXPECT_EQ(r.status, 401);
  EXPECT_NE(Challenge(r).find("error=\"invalid_dpop_proof\""), std::string::npos) << Challenge(r);
  // Missing proof, two proofs, a proof for another URI or method.
  r = Call({ok[0], ok[2], ok[3]});
  EXPECT_NE(Challenge(r).find("invalid_dpop_proof"), std::string::npos);
  r = Call({ok[0],
            {"dpop", Proof(token, "https://api.example.com/v1/pets", "p2")},
            {"dpop", Proof(token, "https://api.example.com/v1/pets", "p3")},
            ok[2],
            ok[3]});
  EXPECT_EQ(r.status, 401);
  EXPECT_NE(r.body.find("Exactly one DPoP header"), std::string::npos) << r.body;
  r = Call({ok[0], {"dpop", Proof(token, "https://api.example.com/v1/other", "p4")}, ok[2], ok[3]});
  EXPECT_NE(r.body.find("htu"), std::string::npos) << r.body;
  r = Call({ok[0],
            {"dpop", Proof(token, "https://api.example.com/v1/pets", "p5", "POST")},
            ok[2],
            ok[3]});
  EXPECT_NE(r.body.find("htm"), std::string::npos) << r.body;
  // Stale: the clock moved past the window.
  clock_.Advance(61);
  r = Call({ok[0], {"dpop", Proof(token, "https://api.example.com/v1/pets", "p6")}, ok[2], ok[3]});
  EXPECT_NE(r.body.find("iat"), std::string::npos) << r.body;
}

TEST_F(VerifyApiTest, DpopWithoutThePublicOriginIsAConfigError) {
  std::string token = Token({{"jkt", Jkt()}});
  auto r = Call({{"authorization", "DPoP " + token},
                 {"dpop", Proof(token, "https://api.example.com/v1/pets")}});
  EXPECT_EQ(r.status, 400) << r.body;
}

TEST_F(VerifyApiTest, CertificateHeaderOnlyFromTrustedProxies) {
  jose::Key ck = jose::Key::Generate(jose::Alg::kES256).value();
  std::string cert = ck.SelfSignedCertificatePem("client", kNow - 10, kNow + 1000).value();
  std::string other = jose::Key::Generate(jose::Alg::kES256)
                          .value()
                          .SelfSignedCertificatePem("client", kNow - 10, kNow + 1000)
                          .value();
  std::string token = Token({{"x5t#S256", verify::CertificateThumbprint(cert).value()}});
  std::string escaped;  // as nginx $ssl_client_escaped_cert
  for (char c : cert) escaped += c == '\n' ? std::string("%0A") : std::string(1, c);
  auto r = Call({{"authorization", "Bearer " + token}, {"client-cert", escaped}});
  EXPECT_TRUE(Accepted(r)) << r.status << " " << r.body;
  // The same header from a peer that is not a trusted proxy is ignored.
  r = Call({{"authorization", "Bearer " + token}, {"client-cert", escaped}}, "10.1.2.3");
  EXPECT_EQ(r.status, 401);
  EXPECT_TRUE(Challenge(r).starts_with("Bearer error=\"invalid_token\"")) << Challenge(r);
  EXPECT_NE(r.body.find("no client certificate"), std::string::npos) << r.body;
  // Another certificate, or none.
  r = Call({{"authorization", "Bearer " + token}, {"client-cert", other}});
  EXPECT_EQ(r.status, 401);
  EXPECT_NE(r.body.find("another client certificate"), std::string::npos) << r.body;
  r = Call({{"authorization", "Bearer " + token}});
  EXPECT_EQ(r.status, 401);
}

TEST_F(VerifyApiTest, UnboundTokensAreUnchanged) {
  std::string token = Token({});
  auto r = Call({{"authorization", "Bearer " + token}, {"client-cert", "junk"}});
  EXPECT_TRUE(Accepted(r)) << r.status << " " << r.body;
  r = Call({{"authorization", "DPoP " + token},
            {"dpop", Proof(token, "https://api.example.com/v1/pets")},
            {"x-forwarded-proto", "https"},
            {"x-forwarded-host", "api.example.com"}});
  EXPECT_EQ(r.status, 401);
  EXPECT_TRUE(Challenge(r).starts_with("DPoP algs=")) << Challenge(r);
}

}  // namespace
}  // namespace portcullis::api
