// Sender-constrained tokens in libportcullis-verify: DPoP proofs (RFC 9449 §4.3, §7) and
// certificate binding (RFC 8705 §3), through Verifier::Authorize with static keys, plus the
// helpers (thumbprints, htu normalisation, the replay cache).

#include "verify/sender.h"

#include <gtest/gtest.h>

#include <atomic>

#include <boost/json.hpp>

#include "common/encoding.h"
#include "jose/jws_testing.h"
#include "jose/key.h"
#include "jose/signer.h"
#include "portcullis/verify.h"

namespace portcullis::verify {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

constexpr int64_t kNow = 1'700'000'000;
constexpr char kIss[] = "https://auth.example.com";
constexpr char kHtu[] = "https://api.example.com/v1/pets";

class ManualTime final : public TimeSource {
 public:
  int64_t WallSeconds() const override { return wall_.load(); }
  std::chrono::steady_clock::time_point Steady() const override {
    return std::chrono::steady_clock::time_point(std::chrono::seconds(1000 + wall_ - kNow));
  }
  void Advance(int64_t s) { wall_ += s; }

 private:
  std::atomic<int64_t> wall_{kNow};
};

std::string Sha256B64(std::string_view s) {
  unsigned char md[32];
  unsigned int len = 0;
  EVP_Digest(s.data(), s.size(), md, &len, EVP_sha256(), nullptr);
  return Base64UrlEncode(std::string_view(reinterpret_cast<char*>(md), len));
}

json::object PublicJwk(const jose::Key& key, jose::Alg alg) {
  return key.ToPublicJwk("", alg).value();
}

struct ClientKey {
  jose::Key key = jose::Key::Generate(jose::Alg::kES256).value();
  jose::Alg alg = jose::Alg::kES256;
  std::string Jkt() const { return JwkThumbprint(PublicJwk(key, alg)).value(); }
};

struct ProofSpec {
  std::string htm = "GET";
  std::string htu = kHtu;
  int64_t iat = kNow;
  std::string jti = "p1";
  std::optional<std::string> ath;  // default: the token's hash
  std::string typ = "dpop+jwt";
  std::optional<json::object> jwk;  // default: the signing key's public JWK
};

std::string MakeProof(const ClientKey& k, std::string_view token, const ProofSpec& s = {}) {
  json::object header{{"typ", s.typ},
                      {"alg", jose::AlgName(k.alg)},
                      {"jwk", s.jwk ? *s.jwk : PublicJwk(k.key, k.alg)}};
  json::object claims{{"htm", s.htm},
                      {"htu", s.htu},
                      {"iat", s.iat},
                      {"jti", s.jti},
                      {"ath", s.ath ? *s.ath : Sha256B64(token)}};
  return jose::testing::SignRaw(k.key, k.alg, json::serialize(header), json::serialize(claims));
}

class SenderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    json::object jwk = PublicJwk(issuer_, jose::Alg::kES256);
    jwk["kid"] = "k1";
    Options o;
    o.jwks_json = json::serialize(json::object{{"keys", json::array{jwk}}});
    o.issuer = kIss;
    o.verify_scope = false;
    o.time = &time_;
    o.dpop_algorithms = {"ES256", "EdDSA"};
    o.dpop_replay_capacity = 4;
    o.dpop_replay_per_key = 4;  // one key may fill it here (ReplayCacheFullFailsClosed)
    verifier_ = Verifier::Create(std::move(o)).value();
  }

  std::string Token(json::object cnf = {}, std::string_view jti = "t1") {
    json::object claims{{"iss", kIss}, {"exp", kNow + 3600}, {"iat", kNow},
                        {"jti", jti},  {"client_id", "c1"},  {"scope", "pets.r"}};
    if (!cnf.empty()) claims["cnf"] = std::move(cnf);
    return jose::Signer::Create(issuer_, jose::Alg::kES256, "k1", "at+jwt")
        .value()
        .Sign(json::serialize(claims))
        .value();
  }

  Decision Dpop(const std::string& token, std::string_view proof, std::string_view method = "GET",
                std::string_view htu = kHtu) {
    Request r{method, "/v1/pets", "", {}};
    std::string auth = "DPoP " + token;
    r.authorization = auth;
    r.dpop_proof = proof;
    r.htu = htu;
    return verifier_->Authorize(r);
  }

  static void ExpectRefused(const Decision& d, std::string_view reason, std::string_view error) {
    EXPECT_EQ(d.verdict, Verdict::kUnauthorized) << d.reason;
    EXPECT_EQ(d.http_status(), 401);
    EXPECT_EQ(d.reason, reason) << d.description;
    EXPECT_NE(d.www_authenticate.find("error=\"" + std::string(error) + "\""), std::string::npos)
        << d.www_authenticate;
  }

  ManualTime time_;
  jose::Key issuer_ = jose::Key::Generate(jose::Alg::kES256).value();
  std::unique_ptr<Verifier> verifier_;
  ClientKey client_;
};

TEST(JwkThumbprintTest, Rfc7638Example) {
  // RFC 7638 §3.1.
  json::object jwk{
      {"kty", "RSA"},
      {"n",
       "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_"
       "BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-"
       "65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-"
       "bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"},
      {"e", "AQAB"},
      {"alg", "RS256"},
      {"kid", "2011-04-29"}};
  EXPECT_EQ(JwkThumbprint(jwk).value(), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
  EXPECT_FALSE(JwkThumbprint(json::object{{"kty", "oct"}, {"k", "abc"}}));
  EXPECT_FALSE(JwkThumbprint(json::object{{"kty", "EC"}, {"crv", "P-256"}, {"x", "a"}}));
}

TEST(NormalizeHtuTest, SyntaxAndSchemeBasedNormalisation) {
  EXPECT_EQ(NormalizeHtu("HTTPS://API.Example.COM:443/v1/pets?x=1#f").value(),
            "https://api.example.com/v1/pets");
  EXPECT_EQ(NormalizeHtu("http://a.example:80").value(), "http://a.example/");
  EXPECT_EQ(NormalizeHtu("http://a.example:8080/x").value(), "http://a.example:8080/x");
  EXPECT_EQ(NormalizeHtu("https://a.example/a/./b/../c/%7euser/%2f").value(),
            "https://a.example/a/c/~user/%2F");
  EXPECT_EQ(NormalizeHtu("https://[::1]:8443/p").value(), "https://[::1]:8443/p");
  EXPECT_NE(NormalizeHtu("https://a.example/v1/pets").value(),
            NormalizeHtu("https://a.example/v1/Pets").value());  // paths keep their case
  for (std::string_view bad :
       {"/v1/pets", "ftp://a.example/", "https://user@a.example/", "https:///p",
        "https://a.example:x/", "https://a.example/%zz", "https://a.example/a b"}) {
    EXPECT_FALSE(NormalizeHtu(bad)) << bad;
  }
}

TEST(CertificateThumbprintTest, AllEncodingsAgree) {
  jose::Key key = jose::Key::Generate(jose::Alg::kES256).value();
  std::string pem = key.SelfSignedCertificatePem("client", kNow - 10, kNow + 1000).value();
  auto want = CertificateThumbprint(pem);
  ASSERT_TRUE(want);
  // DER and its hash, computed independently.
  std::string b64;
  for (std::string_view line : {std::string_view(pem)}) {
    size_t start = line.find('\n') + 1;
    size_t end = line.find("-----END");
    for (char c : line.substr(start, end - start)) {
      if (c != '\n' && c != '\r') b64 += c;
    }
  }
  std::string der((b64.size() / 4) * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(der.data()),
                          reinterpret_cast<const unsigned char*>(b64.data()),
                          static_cast<int>(b64.size()));
  ASSERT_GT(n, 0);
  size_t pad = (b64.ends_with("==") ? 2 : b64.ends_with("=") ? 1 : 0);
  der.resize(static_cast<size_t>(n) - pad);
  EXPECT_EQ(*want, Sha256B64(der));
  EXPECT_EQ(CertificateThumbprint(der), want);
  EXPECT_EQ(CertificateThumbprint(":" + b64 + ":"), want);  // RFC 9440 Client-Cert
  std::string escaped;                                      // nginx $ssl_client_escaped_cert
  for (char c : pem) {
    if (c == '\n') {
      escaped += "%0A";
    } else if (c == ' ') {
      escaped += "%20";
    } else if (c == '+') {
      escaped += "%2B";
    } else if (c == '/') {
      escaped += "%2F";
    } else if (c == '=') {
      escaped += "%3D";
    } else {
      escaped += c;
    }
  }
  EXPECT_EQ(CertificateThumbprint(escaped), want);
  EXPECT_FALSE(CertificateThumbprint("garbage"));
  EXPECT_FALSE(CertificateThumbprint(":bm90IGEgY2VydA==:"));
  EXPECT_FALSE(CertificateThumbprint(der + "x"));  // trailing bytes
  EXPECT_FALSE(CertificateThumbprint(""));
}

TEST(ReplayCacheTest, OncePerWindowAndBounded) {
  ReplayCache cache(2);
  EXPECT_EQ(cache.Insert("a", kNow + 60, kNow), ReplayCache::Outcome::kFresh);
  EXPECT_EQ(cache.Insert("a", kNow + 60, kNow + 30), ReplayCache::Outcome::kReplay);
  EXPECT_EQ(cache.Insert("b", kNow + 60, kNow), ReplayCache::Outcome::kFresh);
  // Full of live entries: refused, nothing forgotten.
  EXPECT_EQ(cache.Insert("c", kNow + 60, kNow), ReplayCache::Outcome::kFull);
  EXPECT_EQ(cache.Insert("a", kNow + 60, kNow + 60), ReplayCache::Outcome::kReplay);
  // Once expired, entries make room.
  EXPECT_EQ(cache.Insert("c", kNow + 200, kNow + 61), ReplayCache::Outcome::kFresh);
  EXPECT_EQ(cache.size(), 1u);
}

TEST(ReplayCacheTest, OneKeyCannotFillTheCacheForOthers) {
  ReplayCache cache(8, 2);
  EXPECT_EQ(cache.Insert("k1", "a", kNow + 60, kNow), ReplayCache::Outcome::kFresh);
  EXPECT_EQ(cache.Insert("k1", "b", kNow + 60, kNow), ReplayCache::Outcome::kFresh);
  // k1's share is used up: its own proofs are refused, nobody else's.
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(cache.Insert("k1", "x" + std::to_string(i), kNow + 60, kNow),
              ReplayCache::Outcome::kFull);
  }
  EXPECT_EQ(cache.Insert("k2", "a", kNow + 60, kNow), ReplayCache::Outcome::kFresh);  // same jti
  EXPECT_EQ(cache.Insert("k2", "a", kNow + 60, kNow), ReplayCache::Outcome::kReplay);
  EXPECT_EQ(cache.Insert("k1", "a", kNow + 60, kNow), ReplayCache::Outcome::kReplay);
  EXPECT_EQ(cache.size(), 3u);
  // Once k1's entries expire, its share is free again.
  EXPECT_EQ(cache.Insert("k1", "c", kNow + 200, kNow + 61), ReplayCache::Outcome::kFresh);
  EXPECT_EQ(cache.size(), 1u);  // every kNow + 60 entry has gone
}

TEST(ReplayCacheTest, DefaultShareIsAQuarter) {
  ReplayCache cache(8);
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(cache.Insert("k", std::to_string(i), kNow + 60, kNow), ReplayCache::Outcome::kFresh);
  }
  EXPECT_EQ(cache.Insert("k", "2", kNow + 60, kNow), ReplayCache::Outcome::kFull);
}

TEST(ReplayCacheTest, ExpiryOutOfInsertionOrder) {
  // expires_at is iat + window, and iat may be anywhere in the window: not insertion order.
  ReplayCache cache(3, 3);
  EXPECT_EQ(cache.Insert("k", "late", kNow + 100, kNow), ReplayCache::Outcome::kFresh);
  EXPECT_EQ(cache.Insert("k", "early", kNow + 10, kNow), ReplayCache::Outcome::kFresh);
  EXPECT_EQ(cache.Insert("k", "mid", kNow + 50, kNow), ReplayCache::Outcome::kFresh);
  EXPECT_EQ(cache.Insert("k", "d", kNow + 60, kNow + 5), ReplayCache::Outcome::kFull);
  // After early's expiry, it leaves although an older insert (late) is still live.
  EXPECT_EQ(cache.Insert("k", "d", kNow + 60, kNow + 11), ReplayCache::Outcome::kFresh);
  EXPECT_EQ(cache.Insert("k", "late", kNow + 100, kNow + 51), ReplayCache::Outcome::kReplay);
  EXPECT_EQ(cache.Insert("k", "mid", kNow + 100, kNow + 51), ReplayCache::Outcome::kFresh);
  EXPECT_EQ(cache.size(), 3u);
}

TEST(ReplayCacheTest, ManyInsertsStayCheap) {
  // A full cache with a steady stream of new keys: no full sweeps (this would take minutes at
  // O(capacity) per insert).
  constexpr size_t kCapacity = 200000;
  ReplayCache cache(kCapacity, kCapacity);
  for (size_t i = 0; i < kCapacity; ++i) {
    ASSERT_EQ(cache.Insert("k", std::to_string(i), kNow + 60, kNow), ReplayCache::Outcome::kFresh);
  }
  for (size_t i = 0; i < kCapacity; ++i) {
    ASSERT_EQ(cache.Insert("k", "n" + std::to_string(i), kNow + 60, kNow),
              ReplayCache::Outcome::kFull);
  }
  EXPECT_EQ(cache.size(), kCapacity);
}

TEST_F(SenderTest, ValidProofIsAccepted) {
  std::string token = Token({{"jkt", client_.Jkt()}});
  Decision d = Dpop(token, MakeProof(client_, token));
  EXPECT_TRUE(d.allowed()) << d.reason << ": " << d.description;
  EXPECT_EQ(d.identity.client_id, "c1");
  EXPECT_TRUE(d.www_authenticate.empty());
  // Normalisation: default port, host case, query ignored.
  ProofSpec s;
  s.jti = "p2";
  s.htu = "https://API.example.com:443/v1/pets";
  EXPECT_TRUE(
      Dpop(token, MakeProof(client_, token, s), "GET", std::string(kHtu) + "?limit=2").allowed());
  // An Ed25519 key works the same way.
  ClientKey ed{jose::Key::Generate(jose::Alg::kEdDSA).value(), jose::Alg::kEdDSA};
  std::string ed_token = Token({{"jkt", ed.Jkt()}}, "t2");
  EXPECT_TRUE(Dpop(ed_token, MakeProof(ed, ed_token)).allowed());
}

TEST_F(SenderTest, MissingOrDoubledProofIsRefused) {
  std::string token = Token({{"jkt", client_.Jkt()}});
  Decision d = Dpop(token, "");
  ExpectRefused(d, "dpop_proof_missing", "invalid_dpop_proof");
  EXPECT_TRUE(d.www_authenticate.starts_with("DPoP algs=\"ES256 EdDSA\", ")) << d.www_authenticate;
  std::string p = MakeProof(client_, token);
  ExpectRefused(Dpop(token, p + "," + p), "dpop_proof_multiple", "invalid_dpop_proof");
  ExpectRefused(Dpop(token, "a.b"), "dpop_proof_malformed", "invalid_dpop_proof");
}

TEST_F(SenderTest, WrongMethodOrUriIsRefused) {
  std::string token = Token({{"jkt", client_.Jkt()}});
  ProofSpec s;
  s.htm = "POST";
  ExpectRefused(Dpop(token, MakeProof(client_, token, s)), "dpop_htm_mismatch",
                "invalid_dpop_proof");
  s = {};
  s.htm = "get";  // methods are case-sensitive
  ExpectRefused(Dpop(token, MakeProof(client_, token, s)), "dpop_htm_mismatch",
                "invalid_dpop_proof");
  s = {};
  s.htu = "https://api.example.com/v1/pets/42";
  ExpectRefused(Dpop(token, MakeProof(client_, token, s)), "dpop_htu_mismatch",
                "invalid_dpop_proof");
  s = {};
  s.htu = "https://other.example.com/v1/pets";
  ExpectRefused(Dpop(token, MakeProof(client_, token, s)), "dpop_htu_mismatch",
                "invalid_dpop_proof");
  // The resource server did not say which URI was requested: no proof can match.
  ExpectRefused(Dpop(token, MakeProof(client_, token), "GET", ""), "dpop_htu_unknown",
                "invalid_dpop_proof");
}

TEST_F(SenderTest, StaleOrFutureIatIsRefused) {
  std::string token = Token({{"jkt", client_.Jkt()}});
  ProofSpec s;
  s.iat = kNow - 61;
  ExpectRefused(Dpop(token, MakeProof(client_, token, s)), "dpop_stale", "invalid_dpop_proof");
  s.iat = kNow + 61;
  ExpectRefused(Dpop(token, MakeProof(client_, token, s)), "dpop_stale", "invalid_dpop_proof");
  s.iat = kNow - 60;
  EXPECT_TRUE(Dpop(token, MakeProof(client_, token, s)).allowed());
  // A proof kept for later is stale once the window has passed.
  s.iat = kNow;
  s.jti = "later";
  std::string kept = MakeProof(client_, token, s);
  time_.Advance(61);
  ExpectRefused(Dpop(token, kept), "dpop_stale", "invalid_dpop_proof");
}

TEST_F(SenderTest, ReplayedProofIsRefused) {
  std::string token = Token({{"jkt", client_.Jkt()}});
  std::string proof = MakeProof(client_, token);
  EXPECT_TRUE(Dpop(token, proof).allowed());
  ExpectRefused(Dpop(token, proof), "dpop_replay", "invalid_dpop_proof");
  time_.Advance(30);
  ExpectRefused(Dpop(token, proof), "dpop_replay", "invalid_dpop_proof");
  // A failed attempt does not burn the jti of a later, valid proof.
  ProofSpec s;
  s.jti = "p9";
  s.htm = "PUT";
  ExpectRefused(Dpop(token, MakeProof(client_, token, s)), "dpop_htm_mismatch",
                "invalid_dpop_proof");
  s.htm = "GET";
  s.iat = kNow + 30;
  EXPECT_TRUE(Dpop(token, MakeProof(client_, token, s)).allowed());
}

TEST_F(SenderTest, ReplayCacheFullFailsClosed) {
  std::string token = Token({{"jkt", client_.Jkt()}});
  for (int i = 0; i < 4; ++i) {
    ProofSpec s;
    s.jti = "fill" + std::to_string(i);
    ASSERT_TRUE(Dpop(token, MakeProof(client_, token, s)).allowed());
  }
  ProofSpec s;
  s.jti = "one-too-many";
  ExpectRefused(Dpop(token, MakeProof(client_, token, s)), "dpop_replay_cache_full",
                "invalid_dpop_proof");
  time_.Advance(61);
  s.iat = kNow + 61;
  EXPECT_TRUE(Dpop(token, MakeProof(client_, token, s)).allowed());
}

TEST_F(SenderTest, WrongAthIsRefused) {
  std::string token = Token({{"jkt", client_.Jkt()}});
  std::string other = Token({{"jkt", client_.Jkt()}}, "t-other");
  ExpectRefused(Dpop(token, MakeProof(client_, other)), "dpop_ath_mismatch", "invalid_dpop_proof");
  ProofSpec s;
  s.ath = "";
  ExpectRefused(Dpop(token, MakeProof(client_, token, s)), "dpop_ath_mismatch",
                "invalid_dpop_proof");
}

TEST_F(SenderTest, ProofFromAnotherKeyIsRefused) {
  std::string token = Token({{"jkt", client_.Jkt()}});
  ClientKey thief;
  ExpectRefused(Dpop(token, MakeProof(thief, token)), "dpop_key_mismatch", "invalid_token");
  // The victim's public key in the header, signed by the thief: the signature fails.
  ProofSpec s;
  s.jwk = PublicJwk(client_.key, client_.alg);
  ExpectRefused(Dpop(token, MakeProof(thief, token, s)), "dpop_bad_signature",
                "invalid_dpop_proof");
}

TEST_F(SenderTest, BadProofHeadersAreRefused) {
  std::string token = Token({{"jkt", client_.Jkt()}});
  ProofSpec s;
  s.typ = "JWT";
  ExpectRefused(Dpop(token, MakeProof(client_, token, s)), "dpop_wrong_type", "invalid_dpop_proof");
  // A private key in the header.
  s = {};
  json::object priv = PublicJwk(client_.key, client_.alg);
  priv["d"] = "AAAA";
  s.jwk = priv;
  ExpectRefused(Dpop(token, MakeProof(client_, token, s)), "dpop_jwk_private",
                "invalid_dpop_proof");
  // RS256 is a valid JWS alg but not in this verifier's dpop_algorithms.
  ClientKey rsa{jose::Key::Generate(jose::Alg::kRS256).value(), jose::Alg::kRS256};
  std::string rsa_token = Token({{"jkt", rsa.Jkt()}}, "t3");
  ExpectRefused(Dpop(rsa_token, MakeProof(rsa, rsa_token)), "dpop_alg_not_allowed",
                "invalid_dpop_proof");
  // Symmetric "proofs" never pass.
  std::string hs = jose::testing::SignHs256(
      "secret", R"({"typ":"dpop+jwt","alg":"HS256","jwk":{"kty":"oct","k":"c2VjcmV0"}})",
      json::serialize(json::object{
          {"htm", "GET"}, {"htu", kHtu}, {"iat", kNow}, {"jti", "h"}, {"ath", Sha256B64(token)}}));
  ExpectRefused(Dpop(token, hs), "dpop_alg_not_allowed", "invalid_dpop_proof");
  // Tampered payload.
  std::string p = MakeProof(client_, token);
  size_t d1 = p.find('.'), d2 = p.rfind('.');
  std::string forged = p.substr(0, d1 + 1) +
                       Base64UrlEncode(json::serialize(json::object{{"htm", "GET"},
                                                                    {"htu", kHtu},
                                                                    {"iat", kNow},
                                                                    {"jti", "forged"},
                                                                    {"ath", Sha256B64(token)}})) +
                       p.substr(d2);
  ExpectRefused(Dpop(token, forged), "dpop_bad_signature", "invalid_dpop_proof");
}

TEST_F(SenderTest, BoundTokenAsBearerIsRefused) {
  std::string token = Token({{"jkt", client_.Jkt()}});
  Decision d = verifier_->Authorize("GET", "/v1/pets", "Bearer " + token);
  ExpectRefused(d, "dpop_bound_as_bearer", "invalid_token");
  EXPECT_TRUE(d.www_authenticate.starts_with("DPoP algs=")) << d.www_authenticate;
  // Even with a valid proof alongside.
  Request r{"GET", "/v1/pets", "", {}};
  std::string auth = "Bearer " + token;
  std::string proof = MakeProof(client_, token);
  r.authorization = auth;
  r.dpop_proof = proof;
  r.htu = kHtu;
  ExpectRefused(verifier_->Authorize(r), "dpop_bound_as_bearer", "invalid_token");
  ExpectRefused(verifier_->Verify(token), "dpop_bound_as_bearer", "invalid_token");
  ExpectRefused(verifier_->Verify("Bearer " + token), "dpop_bound_as_bearer", "invalid_token");
  ExpectRefused(verifier_->Verify("DPoP " + token), "dpop_proof_missing", "invalid_dpop_proof");
  // As the X-Scope-Token (no proof can come with it).
  std::string plain = Token({}, "t-plain");
  std::string user = "Bearer " + plain;
  ExpectRefused(verifier_->Authorize({"GET", "/v1/pets", user, token}), "dpop_bound_as_bearer",
                "invalid_token");
}

TEST_F(SenderTest, UnboundTokensKeepTheBearerPath) {
  std::string token = Token();
  Decision d = verifier_->Authorize("GET", "/v1/pets", "Bearer " + token);
  EXPECT_TRUE(d.allowed()) << d.reason;
  EXPECT_TRUE(d.www_authenticate.empty());
  EXPECT_TRUE(verifier_->Verify(token).allowed());
  // RFC 9449 §7.2: decided here as a refusal, since there is no binding to check.
  ExpectRefused(Dpop(token, MakeProof(client_, token)), "dpop_unbound_token", "invalid_token");
  // An unknown confirmation method cannot be checked: refused.
  ExpectRefused(verifier_->Authorize("GET", "/v1/pets",
                                     "Bearer " + Token({{"jwk", json::object{{"kty", "EC"}}}})),
                "unsupported_cnf", "invalid_token");
  // Other failures keep their old shape (no sender challenge).
  Decision bad = verifier_->Authorize("GET", "/v1/pets", "Bearer " + token + "x");
  EXPECT_EQ(bad.verdict, Verdict::kUnauthorized);
  EXPECT_TRUE(bad.www_authenticate.empty());
}

TEST_F(SenderTest, CertificateBoundTokens) {
  jose::Key ck = jose::Key::Generate(jose::Alg::kES256).value();
  std::string cert = ck.SelfSignedCertificatePem("client", kNow - 10, kNow + 1000).value();
  jose::Key ok = jose::Key::Generate(jose::Alg::kES256).value();
  std::string other = ok.SelfSignedCertificatePem("client", kNow - 10, kNow + 1000).value();
  std::string token = Token({{"x5t#S256", CertificateThumbprint(cert).value()}});
  std::string auth = "Bearer " + token;
  Request r{"GET", "/v1/pets", auth, {}};
  r.client_certificate = cert;
  EXPECT_TRUE(verifier_->Authorize(r).allowed());
  r.client_certificate = other;
  Decision d = verifier_->Authorize(r);
  ExpectRefused(d, "mtls_certificate_mismatch", "invalid_token");
  EXPECT_TRUE(d.www_authenticate.starts_with("Bearer error=\"invalid_token\""));
  r.client_certificate = {};
  ExpectRefused(verifier_->Authorize(r), "mtls_certificate_missing", "invalid_token");
  r.client_certificate = "not a certificate";
  ExpectRefused(verifier_->Authorize(r), "mtls_certificate_invalid", "invalid_token");
  // Both bindings: both are checked.
  std::string both =
      Token({{"jkt", client_.Jkt()}, {"x5t#S256", CertificateThumbprint(cert).value()}}, "t-both");
  std::string both_auth = "DPoP " + both;
  std::string proof = MakeProof(client_, both);
  Request b{"GET", "/v1/pets", both_auth, {}};
  b.dpop_proof = proof;
  b.htu = kHtu;
  b.client_certificate = other;
  ExpectRefused(verifier_->Authorize(b), "mtls_certificate_mismatch", "invalid_token");
  ProofSpec s;
  s.jti = "p-both";
  std::string proof2 = MakeProof(client_, both, s);
  b.dpop_proof = proof2;
  b.client_certificate = cert;
  EXPECT_TRUE(verifier_->Authorize(b).allowed());
}

TEST(SenderOptionsTest, BadDpopOptionsAreRejected) {
  jose::Key k = jose::Key::Generate(jose::Alg::kES256).value();
  json::object jwk = PublicJwk(k, jose::Alg::kES256);
  jwk["kid"] = "k1";
  auto make = [&](auto tweak) {
    Options o;
    o.jwks_json = json::serialize(json::object{{"keys", json::array{jwk}}});
    o.verify_scope = false;
    tweak(o);
    return Verifier::Create(std::move(o));
  };
  EXPECT_FALSE(make([](Options& o) { o.dpop_algorithms = {"HS256"}; }));
  EXPECT_FALSE(make([](Options& o) { o.dpop_algorithms = {}; }));
  EXPECT_FALSE(make([](Options& o) { o.dpop_window = 0s; }));
  EXPECT_FALSE(make([](Options& o) { o.dpop_replay_capacity = 0; }));
  EXPECT_TRUE(make([](Options&) {}));
}

}  // namespace
}  // namespace portcullis::verify
