// libportcullis-verify against an in-process fake key service / registry / token endpoint.
//
// Named test tokens (payloads beside them):
//   light-4j profile:  header {"alg":"RS256","kid":"k1","typ":"JWT"}
//                      {"iss":ISS,"aud":"urn:com.networknt","exp":NOW+600,"iat":NOW,
//                       "nbf":NOW-120,"version":"1.0","jti":"j1","client_id":"c1",
//                       "scope":["pets.r","pets.w"]}
//   RFC 9068 profile:  header {"alg":"ES256","kid":"e1","typ":"at+jwt"}
//                      {"iss":ISS,"sub":"alice","aud":"petstore","exp":NOW+600,"iat":NOW,
//                       "jti":"j2","client_id":"c2","user_id":"alice","scope":"pets.r"}

#include "portcullis/verify.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include <boost/json.hpp>

#include "common/encoding.h"
#include "jose/jws_testing.h"
#include "jose/key.h"
#include "jose/signer.h"
#include "verify/fake_http_server.h"

namespace portcullis::verify {
namespace {

namespace json = boost::json;
using testing::FakeHttpServer;
using testing::FakeRequest;
using testing::FakeResponse;
using namespace std::chrono_literals;

constexpr int64_t kNow = 1'700'000'000;
constexpr char kIss[] = "https://auth.example.com";

class ManualTime final : public TimeSource {
 public:
  int64_t WallSeconds() const override { return wall_.load(); }
  std::chrono::steady_clock::time_point Steady() const override {
    return std::chrono::steady_clock::time_point(std::chrono::nanoseconds(steady_ns_.load()));
  }
  void Advance(std::chrono::seconds s) {
    wall_ += s.count();
    steady_ns_ += std::chrono::duration_cast<std::chrono::nanoseconds>(s).count();
  }

 private:
  std::atomic<int64_t> wall_{kNow};
  std::atomic<int64_t> steady_ns_{int64_t{1000} * 1'000'000'000};
};

// Polls `done` until it holds or 30 s pass (state changes on the refresher thread; a loaded
// machine is slow, not broken).
template <typename F>
bool Eventually(F done) {
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(2ms);
  }
  return done();
}

struct SigningKey {
  std::string kid;
  jose::Alg alg;
  jose::Key key;

  static SigningKey Make(std::string kid, jose::Alg alg) {
    return SigningKey{std::move(kid), alg, jose::Key::Generate(alg).value()};
  }
  std::string Sign(const json::object& claims, std::string typ = "JWT") const {
    return jose::Signer::Create(key, alg, kid, typ).value().Sign(json::serialize(claims)).value();
  }
};

json::object Light4jClaims(std::string_view jti = "j1") {
  return {{"iss", kIss}, {"aud", "urn:com.networknt"}, {"exp", kNow + 600},
          {"iat", kNow}, {"nbf", kNow - 120},          {"version", "1.0"},
          {"jti", jti},  {"client_id", "c1"},          {"scope", json::array{"pets.r", "pets.w"}}};
}

// Valid however far a test moves the clock.
json::object LongLived(json::object claims) {
  claims["exp"] = kNow + 100'000;
  return claims;
}

json::object Rfc9068Claims(std::string_view scope = "pets.r", std::string_view jti = "j2") {
  return {{"iss", kIss},       {"sub", "alice"},     {"aud", "petstore"},
          {"exp", kNow + 600}, {"iat", kNow},        {"jti", jti},
          {"client_id", "c2"}, {"user_id", "alice"}, {"scope", scope}};
}

// The fake Portcullis: JWKS with ETag and max-age, PEM keys, token endpoint, registry,
// deny-list. Everything it serves can be changed while a verifier is running.
class FakePortcullis {
 public:
  FakePortcullis() : server_([this](const FakeRequest& r) { return Handle(r); }) {}

  void SetKeys(std::vector<SigningKey> keys) {
    std::lock_guard lock(mu_);
    keys_ = std::move(keys);
    ++version_;
  }
  void SetMaxAge(int s) {
    std::lock_guard lock(mu_);
    max_age_ = s;
  }
  void SetJwksStatus(int status) {
    std::lock_guard lock(mu_);
    jwks_status_ = status;
  }
  void SetJwksDelay(std::chrono::milliseconds d) {
    std::lock_guard lock(mu_);
    jwks_delay_ = d;
  }
  void SetEndpoints(std::string json_text, int status = 200) {
    std::lock_guard lock(mu_);
    endpoints_ = std::move(json_text);
    endpoints_status_ = status;
  }
  void SetRevoked(std::vector<std::string> jtis) {
    std::lock_guard lock(mu_);
    revoked_ = std::move(jtis);
  }
  void AddPem(std::string kid, std::string pem) {
    std::lock_guard lock(mu_);
    pems_[kid] = std::move(pem);
  }

  std::string url(std::string_view path) const { return server_.url(path); }
  int jwks_requests() const { return server_.requests("/oauth2/keys"); }
  int pem_requests() const { return server_.requests("/oauth2/key/"); }
  int token_requests() const { return server_.requests("/oauth2/token"); }
  int not_modified() const { return not_modified_.load(); }
  std::string last_pem_auth() const {
    std::lock_guard lock(mu_);
    return last_pem_auth_;
  }

 private:
  FakeResponse Handle(const FakeRequest& r) {
    std::unique_lock lock(mu_);
    if (r.target == "/oauth2/keys") {
      auto delay = jwks_delay_;
      if (delay.count() > 0) {
        lock.unlock();
        std::this_thread::sleep_for(delay);
        lock.lock();
      }
      if (jwks_status_ != 200) return FakeResponse{.status = jwks_status_, .body = "{}"};
      std::string etag = "\"v" + std::to_string(version_) + "\"";
      std::vector<std::pair<std::string, std::string>> headers = {
          {"ETag", etag}, {"Cache-Control", "public, max-age=" + std::to_string(max_age_)}};
      if (r.Header("if-none-match") == etag) {
        ++not_modified_;
        return FakeResponse{.raw = "HTTP/1.1 304 Not Modified\r\nETag: " + etag +
                                   "\r\nCache-Control: max-age=" + std::to_string(max_age_) +
                                   "\r\n\r\n"};
      }
      json::array keys;
      for (const auto& k : keys_) keys.push_back(k.key.ToPublicJwk(k.kid, k.alg).value());
      return FakeResponse{.headers = headers,
                          .body = json::serialize(json::object{{"keys", keys}})};
    }
    if (r.target.starts_with("/oauth2/key/")) {
      last_pem_auth_ = r.Header("authorization");
      auto it = pems_.find(r.target.substr(12));
      if (it == pems_.end()) return FakeResponse{.status = 400, .body = R"({"code":"ERR12030"})"};
      return FakeResponse{.headers = {{"Content-Type", "application/text"}}, .body = it->second};
    }
    if (r.target == "/oauth2/token") {
      if (r.Header("authorization") != "Basic " + Base64Encode("rs:rs-secret")) {
        return FakeResponse{.status = 401, .body = R"({"error":"invalid_client"})"};
      }
      if (r.body != "grant_type=client_credentials&scope=portal.r") {
        return FakeResponse{.status = 400, .body = r.body};
      }
      return FakeResponse{.body = R"({"access_token":"admin-token","expires_in":600})"};
    }
    if (r.Header("authorization") != "Bearer admin-token") {
      return FakeResponse{.status = 401, .body = R"({"code":"ERR10002"})"};
    }
    if (r.target == "/oauth2/service/petstore/endpoint") {
      return FakeResponse{.status = endpoints_status_, .body = endpoints_};
    }
    if (r.target == "/oauth2/revoked") {
      json::array list;
      for (const auto& j : revoked_) list.push_back(json::object{{"jti", j}, {"exp", kNow + 600}});
      return FakeResponse{.body = json::serialize(json::object{{"revoked", list}})};
    }
    return FakeResponse{.status = 404, .body = "{}"};
  }

  mutable std::mutex mu_;
  std::vector<SigningKey> keys_;
  int version_ = 0;
  int max_age_ = 300;
  int jwks_status_ = 200;
  std::chrono::milliseconds jwks_delay_{0};
  std::string endpoints_ = "[]";
  int endpoints_status_ = 200;
  std::vector<std::string> revoked_;
  std::map<std::string, std::string> pems_;
  std::string last_pem_auth_;
  std::atomic<int> not_modified_{0};
  FakeHttpServer server_;  // last: destroyed (joined) first
};

class VerifierTest : public ::testing::Test {
 protected:
  VerifierTest()
      : rsa_(SigningKey::Make("k1", jose::Alg::kRS256)),
        ec_(SigningKey::Make("e1", jose::Alg::kES256)) {
    fake_.SetKeys({rsa_, ec_});
    fake_.SetEndpoints(
        R"([{"endpoint":"/v1/pets@get","operation":"list","scope":"pets.r"},)"
        R"({"endpoint":"/v1/pets/{id}@get","operation":"get","scope":"pets.r"},)"
        R"({"endpoint":"/v1/pets/{id}@delete","operation":"del","scope":"pets.admin"}])");
  }

  Options Base() {
    Options o;
    o.jwks_url = fake_.url("/oauth2/keys");
    o.issuer = kIss;
    o.verify_scope = false;
    o.time = &time_;
    o.http_timeout = 2s;
    return o;
  }

  std::unique_ptr<Verifier> Make(Options o) {
    auto v = Verifier::Create(std::move(o));
    EXPECT_TRUE(v) << (v ? "" : v.error());
    if (!v) return nullptr;
    EXPECT_TRUE((*v)->WaitReady(5s));
    return std::move(*v);
  }

  ManualTime time_;
  FakePortcullis fake_;
  SigningKey rsa_, ec_;
};

TEST_F(VerifierTest, AcceptsLight4jAndRfc9068Profiles) {
  auto v = Make(Base());
  auto d = v->Verify("Bearer " + rsa_.Sign(Light4jClaims()));
  ASSERT_TRUE(d.allowed()) << d.reason;
  EXPECT_EQ(d.identity.client_id, "c1");
  EXPECT_EQ(d.identity.user_id, "");
  EXPECT_EQ(d.identity.subject, "");
  EXPECT_EQ(d.identity.scopes, (std::vector<std::string>{"pets.r", "pets.w"}));
  EXPECT_EQ(d.identity.jti, "j1");
  EXPECT_EQ(d.identity.expires_at, kNow + 600);

  d = v->Verify(ec_.Sign(Rfc9068Claims("pets.r pets.w"), "at+jwt"));
  ASSERT_TRUE(d.allowed()) << d.reason;
  EXPECT_EQ(d.identity.client_id, "c2");
  EXPECT_EQ(d.identity.user_id, "alice");
  EXPECT_EQ(d.identity.subject, "alice");
  EXPECT_EQ(d.identity.issuer, kIss);
  EXPECT_EQ(d.identity.scopes, (std::vector<std::string>{"pets.r", "pets.w"}));
  EXPECT_TRUE(d.identity.claims_json.empty());

  // "scp" (Okta/Azure) when there is no "scope".
  auto claims = Rfc9068Claims();
  claims.erase("scope");
  claims["scp"] = json::array{"x.r"};
  d = v->Verify(rsa_.Sign(claims));
  ASSERT_TRUE(d.allowed());
  EXPECT_EQ(d.identity.scopes, std::vector<std::string>{"x.r"});
  EXPECT_EQ(fake_.jwks_requests(), 1);
}

TEST_F(VerifierTest, KeepsClaimsJsonWhenAsked) {
  Options o = Base();
  o.keep_claims_json = true;
  auto v = Make(std::move(o));
  auto d = v->Verify(rsa_.Sign(Light4jClaims()));
  ASSERT_TRUE(d.allowed());
  EXPECT_EQ(json::parse(d.identity.claims_json).at("version"), "1.0");
}

TEST_F(VerifierTest, RejectsBadTokensWith401) {
  Options o = Base();
  o.audience = "urn:com.networknt";
  o.algorithms = {"RS256"};
  auto v = Make(std::move(o));
  auto reason = [&](std::string_view token) {
    auto d = v->Verify(token);
    EXPECT_EQ(d.verdict, Verdict::kUnauthorized) << token;
    EXPECT_EQ(d.http_status(), 401);
    return d.reason + "/" + d.code;
  };
  auto claims = Light4jClaims();
  EXPECT_EQ(reason(""), "missing_token/ERR10002");
  EXPECT_EQ(reason("Bearer "), "missing_token/ERR10002");
  EXPECT_EQ(reason("not.a.jwt"), "bad_base64/ERR10000");
  EXPECT_EQ(reason("abc"), "malformed/ERR10000");

  auto expired = claims;
  expired["exp"] = kNow - 61;  // beyond the 60 s leeway
  EXPECT_EQ(reason(rsa_.Sign(expired)), "expired/ERR10001");
  expired["exp"] = kNow - 59;  // within it
  EXPECT_TRUE(v->Verify(rsa_.Sign(expired)).allowed());

  auto early = claims;
  early["nbf"] = kNow + 61;
  EXPECT_EQ(reason(rsa_.Sign(early)), "not_yet_valid/ERR10000");

  auto other_iss = claims;
  other_iss["iss"] = "urn:com:networknt:oauth2:v1";
  EXPECT_EQ(reason(rsa_.Sign(other_iss)), "wrong_issuer/ERR10000");

  auto other_aud = claims;
  other_aud["aud"] = json::array{"a", "b"};
  EXPECT_EQ(reason(rsa_.Sign(other_aud)), "wrong_audience/ERR10000");
  other_aud["aud"] = json::array{"a", "urn:com.networknt"};
  EXPECT_TRUE(v->Verify(rsa_.Sign(other_aud)).allowed());

  // ES256 is a fine algorithm, but not among the allowed ones here.
  EXPECT_EQ(reason(ec_.Sign(claims)), "alg_not_allowed/ERR10000");

  std::string good = rsa_.Sign(claims);
  std::string tampered = good;
  tampered[tampered.size() - 5] = tampered[tampered.size() - 5] == 'A' ? 'B' : 'A';
  EXPECT_EQ(reason(tampered), "bad_signature/ERR10000");

  std::string payload = json::serialize(claims);
  EXPECT_EQ(reason(jose::testing::SignRaw(rsa_.key, jose::Alg::kRS256,
                                          R"({"alg":"none","kid":"k1"})", payload)),
            "alg_none/ERR10000");
  // HS256 keyed with the public key (the RS/HS confusion).
  std::string pub = rsa_.key.PublicPem().value();
  EXPECT_EQ(reason(jose::testing::SignHs256(pub, R"({"alg":"HS256","kid":"k1"})", payload)),
            "alg_not_allowed/ERR10000");
  // A key of another service, published nowhere, with our kid.
  auto stranger = SigningKey::Make("k1", jose::Alg::kRS256);
  EXPECT_EQ(reason(stranger.Sign(claims)), "bad_signature/ERR10000");
}

TEST_F(VerifierTest, HonoursEtagAndMaxAge) {
  fake_.SetMaxAge(60);
  auto v = Make(Base());
  EXPECT_EQ(fake_.jwks_requests(), 1);
  // Not due yet: waking changes nothing.
  v->Wake();
  time_.Advance(30s);
  v->Wake();
  EXPECT_EQ(fake_.jwks_requests(), 1);
  // Due: revalidated with If-None-Match, answered 304, keys kept.
  time_.Advance(31s);
  v->Wake();
  ASSERT_TRUE(Eventually([&] { return v->stats().jwks_not_modified == 1; }));
  EXPECT_EQ(fake_.not_modified(), 1);
  EXPECT_EQ(v->stats().jwks_fetches, 1u);
  EXPECT_TRUE(v->Verify(rsa_.Sign(LongLived(Light4jClaims()))).allowed());
}

TEST_F(VerifierTest, PicksUpKeyRotationWithoutRestart) {
  fake_.SetMaxAge(60);
  auto v = Make(Base());
  ASSERT_TRUE(v->Verify(rsa_.Sign(Light4jClaims())).allowed());

  // 1. Published ahead (the Portcullis way): the next periodic fetch brings k2; k1 retires.
  auto k2 = SigningKey::Make("k2", jose::Alg::kRS256);
  fake_.SetKeys({k2, ec_});
  time_.Advance(61s);
  v->Wake();
  ASSERT_TRUE(Eventually([&] { return v->stats().jwks_fetches == 2; }));
  auto claims = Light4jClaims();
  claims["exp"] = kNow + 6000;
  EXPECT_TRUE(v->Verify(k2.Sign(claims)).allowed());
  EXPECT_EQ(v->Verify(rsa_.Sign(claims)).reason, "unknown_kid");

  // 2. Not published ahead: a token with a brand-new kid triggers one refetch at once.
  auto k3 = SigningKey::Make("k3", jose::Alg::kES256);
  fake_.SetKeys({k2, k3});
  time_.Advance(11s);  // past the refetch interval since the last fetch
  int before = fake_.jwks_requests();
  auto d = v->Verify(k3.Sign(claims));
  EXPECT_TRUE(d.allowed()) << d.reason;
  EXPECT_EQ(fake_.jwks_requests(), before + 1);
  EXPECT_EQ(v->stats().refetches, 1u);
}

TEST_F(VerifierTest, UnknownKidFloodCausesAtMostOneRefetchPerInterval) {
  Options o = Base();
  o.refetch_interval = 10s;
  o.unknown_kid_wait = 500ms;
  auto v = Make(std::move(o));
  ASSERT_EQ(fake_.jwks_requests(), 1);
  auto forged = [&](int i) {
    auto k = SigningKey::Make("forged-" + std::to_string(i), jose::Alg::kES256);
    return k.Sign(Light4jClaims());
  };
  std::vector<std::string> tokens;
  for (int i = 0; i < 64; ++i) tokens.push_back(forged(i));

  // Within the interval after the initial fetch: no refetch at all.
  for (int i = 0; i < 8; ++i) EXPECT_EQ(v->Verify(tokens[i]).reason, "unknown_kid");
  EXPECT_EQ(fake_.jwks_requests(), 1);
  EXPECT_EQ(v->stats().refetch_limited, 8u);

  // Past it: a concurrent flood of distinct forged kids costs exactly one refetch.
  time_.Advance(11s);
  std::atomic<int> rejected{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 8 + t; i < 64; i += 8) rejected += v->Verify(tokens[i]).reason == "unknown_kid";
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(rejected.load(), 56);
  EXPECT_EQ(fake_.jwks_requests(), 2);
  EXPECT_EQ(v->stats().refetches, 1u);

  // Next interval: one more at most; the kid that triggered the last refetch is in the
  // negative cache and costs nothing.
  time_.Advance(11s);
  for (int round = 0; round < 3; ++round) {
    for (int i = 8; i < 64; ++i) EXPECT_EQ(v->Verify(tokens[i]).reason, "unknown_kid");
  }
  EXPECT_EQ(fake_.jwks_requests(), 3);
  EXPECT_GE(v->stats().negative_hits, 3u);
}

TEST_F(VerifierTest, MergesConcurrentRefetchesIntoOne) {
  Options o = Base();
  o.unknown_kid_wait = 3s;
  auto v = Make(std::move(o));
  auto k2 = SigningKey::Make("k2", jose::Alg::kRS256);
  fake_.SetKeys({rsa_, ec_, k2});
  fake_.SetJwksDelay(200ms);  // so that the requests overlap the fetch
  time_.Advance(11s);
  std::string token = k2.Sign(Light4jClaims());
  std::atomic<int> allowed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([&] { allowed += v->Verify(token).allowed(); });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(allowed.load(), 16);
  EXPECT_EQ(fake_.jwks_requests(), 2);
  EXPECT_EQ(v->stats().refetches, 1u);
}

TEST_F(VerifierTest, FailsFastWhenConfiguredNotToWait) {
  Options o = Base();
  o.unknown_kid_wait = 0ms;
  auto v = Make(std::move(o));
  auto k2 = SigningKey::Make("k2", jose::Alg::kRS256);
  fake_.SetKeys({rsa_, k2});
  time_.Advance(11s);
  std::string token = k2.Sign(Light4jClaims());
  EXPECT_EQ(v->Verify(token).reason, "unknown_kid");  // the refetch runs in the background
  ASSERT_TRUE(Eventually([&] { return v->stats().jwks_fetches == 2; }));
  EXPECT_TRUE(v->Verify(token).allowed());
}

TEST_F(VerifierTest, ReadsLightOauth2PemCertificates) {
  auto cert_key = SigningKey::Make("100", jose::Alg::kRS256);
  fake_.AddPem("100",
               cert_key.key.SelfSignedCertificatePem("light", kNow - 10, kNow + 1000).value());
  Options o = Base();
  o.jwks_url.clear();
  o.key_url = fake_.url("/oauth2/key");
  o.client.client_id = "rs";
  o.client.client_secret = "rs-secret";
  auto v = Make(std::move(o));
  EXPECT_EQ(fake_.pem_requests(), 0);  // fetched on demand
  auto d = v->Verify(cert_key.Sign(Light4jClaims()));
  ASSERT_TRUE(d.allowed()) << d.reason;
  EXPECT_EQ(fake_.pem_requests(), 1);
  EXPECT_EQ(fake_.last_pem_auth(), "Basic " + Base64Encode("rs:rs-secret"));
  EXPECT_TRUE(v->Verify(cert_key.Sign(Light4jClaims("j9"))).allowed());
  EXPECT_EQ(fake_.pem_requests(), 1);

  // An unknown kid: one GET, answered ERR12030, then the negative cache.
  time_.Advance(11s);
  auto forged = SigningKey::Make("999", jose::Alg::kRS256);
  EXPECT_EQ(v->Verify(forged.Sign(Light4jClaims())).reason, "unknown_kid");
  EXPECT_EQ(fake_.pem_requests(), 2);
  time_.Advance(11s);
  EXPECT_EQ(v->Verify(forged.Sign(Light4jClaims())).reason, "unknown_kid");
  EXPECT_EQ(fake_.pem_requests(), 2);
  EXPECT_EQ(v->stats().negative_hits, 1u);
}

TEST_F(VerifierTest, StaticKeysNeedNoKeyService) {
  Options o = Base();
  o.jwks_url.clear();
  o.pem_keys = {{"k1", rsa_.key.PublicPem().value()}};
  json::array keys{ec_.key.ToPublicJwk("e1", jose::Alg::kES256).value()};
  o.jwks_json = json::serialize(json::object{{"keys", keys}});
  auto v = Make(std::move(o));
  EXPECT_TRUE(v->Verify(rsa_.Sign(Light4jClaims())).allowed());
  EXPECT_TRUE(v->Verify(ec_.Sign(Rfc9068Claims(), "at+jwt")).allowed());
  EXPECT_EQ(fake_.jwks_requests(), 0);
}

TEST_F(VerifierTest, KeepsStaleKeysWhileTheKeyServiceFails) {
  fake_.SetMaxAge(60);
  Options o = Base();
  std::vector<std::string> events;
  std::mutex events_mu;
  o.log = [&](std::string_view e, std::string_view) {
    std::lock_guard lock(events_mu);
    events.emplace_back(e);
  };
  auto v = Make(std::move(o));
  fake_.SetJwksStatus(500);
  time_.Advance(61s);
  v->Wake();
  ASSERT_TRUE(Eventually([&] { return v->stats().fetch_errors == 1; }));
  auto claims = Light4jClaims();
  claims["exp"] = kNow + 6000;
  EXPECT_TRUE(v->Verify(rsa_.Sign(claims)).allowed());
  std::lock_guard lock(events_mu);
  EXPECT_EQ(events.front(), "verify.jwks_failed");
}

TEST_F(VerifierTest, UnavailableUntilKeysCanBeLoaded) {
  fake_.SetJwksStatus(503);
  Options o = Base();
  o.unknown_kid_wait = 200ms;
  auto v = Verifier::Create(std::move(o)).value();
  EXPECT_FALSE(v->WaitReady(100ms));
  auto d = v->Verify(rsa_.Sign(Light4jClaims()));
  EXPECT_EQ(d.verdict, Verdict::kUnavailable);
  EXPECT_EQ(d.http_status(), 503);
  fake_.SetJwksStatus(200);
  time_.Advance(6s);  // retry_after_error
  v->Wake();
  EXPECT_TRUE(v->WaitReady(5s));
  EXPECT_TRUE(v->Verify(rsa_.Sign(Light4jClaims())).allowed());
}

// --- Authorize: endpoint table, scopes, two tokens, deny-list ------------------------------

class AuthorizeTest : public VerifierTest {
 protected:
  Options WithRegistry() {
    Options o = Base();
    o.verify_scope = true;
    o.registry_url = fake_.url("");
    o.service_id = "petstore";
    o.client = {fake_.url("/oauth2/token"), "rs", "rs-secret", "portal.r"};
    return o;
  }
  std::string Bearer(const std::string& t) { return "Bearer " + t; }
};

TEST_F(AuthorizeTest, ChecksTheEndpointScopeFromTheRegistry) {
  auto v = Make(WithRegistry());
  EXPECT_EQ(v->stats().endpoint_fetches, 1u);
  EXPECT_EQ(fake_.token_requests(), 1);
  std::string reader = Bearer(rsa_.Sign(Light4jClaims()));  // pets.r pets.w

  auto d = v->Authorize("GET", "/v1/pets/42?x=1", reader);
  EXPECT_TRUE(d.allowed()) << d.reason;
  EXPECT_EQ(d.identity.client_id, "c1");

  d = v->Authorize("DELETE", "/v1/pets/42", reader);
  EXPECT_EQ(d.verdict, Verdict::kForbidden);
  EXPECT_EQ(d.http_status(), 403);
  EXPECT_EQ(d.code, "ERR10005");
  EXPECT_EQ(d.reason, "insufficient_scope");
  EXPECT_EQ(d.required_scope, "pets.admin");
  EXPECT_EQ(d.identity.client_id, "c1");

  d = v->Authorize("GET", "/v2/elsewhere", reader);
  EXPECT_EQ(d.verdict, Verdict::kForbidden);
  EXPECT_EQ(d.code, "ERR10007");

  d = v->Authorize("GET", "/v1/pets", "");
  EXPECT_EQ(d.verdict, Verdict::kUnauthorized);
  EXPECT_EQ(d.code, "ERR10002");
  d = v->Authorize("GET", "/v1/pets", "Basic YTpi");
  EXPECT_EQ(d.code, "ERR10002");
}

TEST_F(AuthorizeTest, FollowsRegistryChanges) {
  Options o = WithRegistry();
  o.endpoints_refresh = 60s;
  auto v = Make(std::move(o));
  std::string admin = Bearer(ec_.Sign(LongLived(Rfc9068Claims("pets.admin")), "at+jwt"));
  EXPECT_EQ(v->Authorize("GET", "/v1/pets", admin).code, "ERR10005");
  fake_.SetEndpoints(
      R"([{"endpoint":"/v1/pets@get","operation":"list","scope":"pets.r pets.admin"}])");
  time_.Advance(61s);
  v->Wake();
  ASSERT_TRUE(Eventually([&] { return v->stats().endpoint_fetches == 2; }));
  EXPECT_TRUE(v->Authorize("GET", "/v1/pets", admin).allowed());
  EXPECT_EQ(fake_.token_requests(), 1);  // the registry token is reused until near expiry

  // No endpoints at all (ERR12042, 404): nothing is allowed.
  fake_.SetEndpoints(R"({"code":"ERR12042"})", 404);
  time_.Advance(61s);
  v->Wake();
  ASSERT_TRUE(
      Eventually([&] { return v->Authorize("GET", "/v1/pets", admin).code == "ERR10007"; }));
}

TEST_F(AuthorizeTest, OfflineEndpointTable) {
  Options o = Base();
  o.verify_scope = true;
  o.endpoints_json = R"([{"endpoint":"/v1/pets@get","scope":"pets.r"}])";
  auto v = Make(std::move(o));
  EXPECT_TRUE(v->Authorize("GET", "/v1/pets", Bearer(rsa_.Sign(Light4jClaims()))).allowed());
  EXPECT_EQ(
      v->Authorize("GET", "/v1/pets", Bearer(ec_.Sign(Rfc9068Claims("other")))).required_scope,
      "pets.r");
}

TEST_F(AuthorizeTest, TwoTokenPattern) {
  auto v = Make(WithRegistry());
  // The user's token (RFC 9068, no pets scope) and the calling service's client-credentials
  // token (light-4j, pets.r pets.w) in X-Scope-Token (reference §10.2).
  std::string user = Bearer(ec_.Sign(Rfc9068Claims("openid profile"), "at+jwt"));
  std::string caller = rsa_.Sign(Light4jClaims("j-caller"));

  EXPECT_EQ(v->Authorize("GET", "/v1/pets", user).code, "ERR10005");
  auto d = v->Authorize({"GET", "/v1/pets", user, caller});
  ASSERT_TRUE(d.allowed()) << d.reason;
  EXPECT_EQ(d.identity.user_id, "alice");  // identity from Authorization
  EXPECT_EQ(d.identity.client_id, "c2");
  ASSERT_TRUE(d.scope_caller);
  EXPECT_EQ(d.scope_caller->client_id, "c1");
  EXPECT_TRUE(v->Authorize({"GET", "/v1/pets", user, "Bearer " + caller}).allowed());

  // The scope is checked on the scope token alone (light-4j hasValidScope).
  std::string strong_user = Bearer(ec_.Sign(Rfc9068Claims("pets.admin"), "at+jwt"));
  d = v->Authorize({"DELETE", "/v1/pets/1", strong_user, caller});
  EXPECT_EQ(d.code, "ERR10005");
  EXPECT_NE(d.description.find("scope token"), std::string::npos);

  // Both tokens must be valid.
  auto expired = Light4jClaims();
  expired["exp"] = kNow - 3600;
  d = v->Authorize({"GET", "/v1/pets", user, rsa_.Sign(expired)});
  EXPECT_EQ(d.verdict, Verdict::kUnauthorized);
  EXPECT_EQ(d.code, "ERR10004");
  d = v->Authorize({"GET", "/v1/pets", user, "garbage"});
  EXPECT_EQ(d.code, "ERR10003");
  d = v->Authorize({"GET", "/v1/pets", Bearer(rsa_.Sign(expired)), caller});
  EXPECT_EQ(d.code, "ERR10001");

  // No Bearer Authorization (e.g. Basic to a native API): the scope token is the token.
  d = v->Authorize({"GET", "/v1/pets", "Basic dTpw", caller});
  ASSERT_TRUE(d.allowed()) << d.reason;
  EXPECT_EQ(d.identity.client_id, "c1");
  EXPECT_FALSE(d.scope_caller);
}

TEST_F(AuthorizeTest, PullsTheDenyList) {
  fake_.SetRevoked({"j-revoked"});
  Options o = WithRegistry();
  o.revoked_url = fake_.url("/oauth2/revoked");
  o.revoked_refresh = 10s;
  auto v = Make(std::move(o));
  EXPECT_EQ(v->stats().revoked_fetches, 1u);
  auto d = v->Authorize("GET", "/v1/pets", Bearer(rsa_.Sign(Light4jClaims("j-revoked"))));
  EXPECT_EQ(d.verdict, Verdict::kUnauthorized);
  EXPECT_EQ(d.reason, "revoked");
  std::string later = Bearer(rsa_.Sign(Light4jClaims("j-later")));
  EXPECT_TRUE(v->Authorize("GET", "/v1/pets", later).allowed());

  fake_.SetRevoked({"j-revoked", "j-later"});
  time_.Advance(11s);
  v->Wake();
  ASSERT_TRUE(Eventually([&] { return v->stats().revoked_fetches == 2; }));
  EXPECT_EQ(v->Authorize("GET", "/v1/pets", later).reason, "revoked");
}

// The gateway holes of "Trust I/II", closed in the library the same way as at /oauth2/verify.
constexpr char kSecretEndpoints[] = R"([{"endpoint":"/v1/{x}/secret@get","scope":"pets.r"},)"
                                    R"({"endpoint":"/v1/admin/secret@get","scope":"pets.admin"}])";

TEST_F(AuthorizeTest, RefusesSemicolonPathParameters) {
  Options o = Base();
  o.verify_scope = true;
  o.endpoints_json = kSecretEndpoints;
  auto v = Make(std::move(o));
  std::string reader = Bearer(rsa_.Sign(Light4jClaims()));  // pets.r pets.w
  EXPECT_TRUE(v->Authorize("GET", "/v1/pets/secret", reader).allowed());
  EXPECT_EQ(v->Authorize("GET", "/v1/admin/secret", reader).code, "ERR10005");
  // Tomcat and Spring drop ";x", so these reach /v1/admin/secret upstream.
  for (std::string_view path : {"/v1/admin;x/secret", "/v1/admin%3Bx/secret",
                                "/v1/x/../admin/secret", "/v1/x/%2e%2e/admin/secret",
                                "/v1//admin/secret", "/v1/admin%2Fx/secret", "/v1/a\\b/secret"}) {
    auto d = v->Authorize("GET", path, reader);
    EXPECT_EQ(d.verdict, Verdict::kForbidden) << path;
    EXPECT_EQ(d.code, "ERR10007") << path;
    EXPECT_EQ(d.reason, "refused_path") << path;
  }
}

TEST_F(AuthorizeTest, RefusesCaseVariantOfDeclaredEndpoint) {
  Options o = Base();
  o.verify_scope = true;
  o.endpoints_json = kSecretEndpoints;
  auto v = Make(std::move(o));
  std::string reader = Bearer(rsa_.Sign(Light4jClaims()));
  auto d = v->Authorize("GET", "/v1/Admin/secret", reader);
  EXPECT_EQ(d.verdict, Verdict::kForbidden);
  EXPECT_EQ(d.code, "ERR10007");
  EXPECT_EQ(d.reason, "case_variant");

  // A service whose upstream ignores case: the admin endpoint's scope decides.
  o = Base();
  o.verify_scope = true;
  o.endpoints_json = kSecretEndpoints;
  o.path_case = PathCase::kInsensitive;
  v = Make(std::move(o));
  d = v->Authorize("GET", "/v1/Admin/secret", reader);
  EXPECT_EQ(d.code, "ERR10005");
  EXPECT_EQ(d.required_scope, "pets.admin");
  std::string admin = Bearer(ec_.Sign(Rfc9068Claims("pets.admin"), "at+jwt"));
  EXPECT_TRUE(v->Authorize("GET", "/v1/ADMIN/secret", admin).allowed());
}

TEST_F(AuthorizeTest, RefusesTokenForOtherAudience) {
  auto v = Make(WithRegistry());  // service_id petstore
  auto with_aud = [&](json::value aud) {
    auto c = Rfc9068Claims("pets.r");
    if (aud.is_null()) {
      c.erase("aud");
    } else {
      c["aud"] = aud;
    }
    return Bearer(ec_.Sign(c, "at+jwt"));
  };
  // Requested with resource=svcc: for another service.
  auto d = v->Authorize("GET", "/v1/pets", with_aud("svcc"));
  EXPECT_EQ(d.verdict, Verdict::kUnauthorized);
  EXPECT_EQ(d.code, "ERR10000");
  EXPECT_EQ(d.reason, "wrong_audience");
  EXPECT_EQ(v->Authorize("GET", "/v1/pets", with_aud(json::array{"svcc", "svcd"})).reason,
            "wrong_audience");
  EXPECT_EQ(v->Authorize("GET", "/v1/pets", with_aud(json::array{1, 2})).reason, "wrong_audience");
  // For this service, for no particular service (the issuer, light-oauth2's default), or none.
  EXPECT_TRUE(v->Authorize("GET", "/v1/pets", with_aud("petstore")).allowed());
  EXPECT_TRUE(v->Authorize("GET", "/v1/pets", with_aud(json::array{"svcc", "petstore"})).allowed());
  EXPECT_TRUE(v->Authorize("GET", "/v1/pets", with_aud(kIss)).allowed());
  EXPECT_TRUE(v->Authorize("GET", "/v1/pets", with_aud("urn:com.networknt")).allowed());
  EXPECT_TRUE(v->Authorize("GET", "/v1/pets", with_aud(nullptr)).allowed());
  // The X-Scope-Token too.
  std::string user = Bearer(ec_.Sign(Rfc9068Claims("openid"), "at+jwt"));
  auto caller = Light4jClaims("j-caller");
  caller["aud"] = "svcc";
  d = v->Authorize({"GET", "/v1/pets", user, rsa_.Sign(caller)});
  EXPECT_EQ(d.code, "ERR10003");
  EXPECT_EQ(d.reason, "wrong_audience");
}

TEST_F(AuthorizeTest, RefusesSignedPayload) {
  auto v = Make(WithRegistry());
  auto payload = Rfc9068Claims("pets.r");
  payload["aud"] = "urn:portcullis:signed-payload";
  for (std::string typ : {"payload+jwt", "PAYLOAD+JWT", "application/payload+jwt"}) {
    auto d = v->Authorize("GET", "/v1/pets", Bearer(ec_.Sign(payload, typ)));
    EXPECT_EQ(d.verdict, Verdict::kUnauthorized) << typ;
    EXPECT_EQ(d.reason, "wrong_type") << typ;
  }
  // Even with an audience that would otherwise pass.
  payload["aud"] = "petstore";
  EXPECT_EQ(v->Authorize("GET", "/v1/pets", Bearer(ec_.Sign(payload, "payload+jwt"))).reason,
            "wrong_type");
  EXPECT_EQ(v->Verify(ec_.Sign(payload, "payload+jwt")).reason, "wrong_type");
  EXPECT_TRUE(v->Authorize("GET", "/v1/pets", Bearer(ec_.Sign(payload, "at+jwt"))).allowed());
}

// OpenID Connect ID tokens (typ claim "ID") are for clients, never access tokens, even when
// their audience is the service and their JOSE typ is JWT.
TEST_F(AuthorizeTest, RefusesIdToken) {
  auto v = Make(WithRegistry());
  auto id = Rfc9068Claims("pets.r");
  id["aud"] = "petstore";
  id["typ"] = "ID";
  for (std::string typ : {"JWT", "at+jwt", ""}) {
    auto d = v->Authorize("GET", "/v1/pets", Bearer(ec_.Sign(id, typ)));
    EXPECT_EQ(d.verdict, Verdict::kUnauthorized) << typ;
    EXPECT_EQ(d.reason, "wrong_type") << typ;
  }
  EXPECT_EQ(v->Verify(ec_.Sign(id, "JWT")).reason, "wrong_type");
  id.erase("typ");
  EXPECT_TRUE(v->Authorize("GET", "/v1/pets", Bearer(ec_.Sign(id, "JWT"))).allowed());
}

TEST(VerifierCreate, RefusesInconsistentOptions) {
  auto error = [](Options o) {
    auto v = Verifier::Create(std::move(o));
    return v ? std::string("(created)") : v.error();
  };
  Options none;
  none.verify_scope = false;
  EXPECT_NE(error(none).find("no key source"), std::string::npos);

  Options o;
  o.jwks_url = "http://127.0.0.1:1/keys";
  EXPECT_NE(error(o).find("verify_scope"), std::string::npos);
  o.verify_scope = false;
  o.algorithms = {"HS256"};
  EXPECT_NE(error(o).find("HS256"), std::string::npos);
  o.algorithms = {"RS256"};
  o.jwks_url = "ftp://x";
  EXPECT_NE(error(o).find("jwks_url"), std::string::npos);
  o.jwks_url = "http://127.0.0.1:1/keys";
  o.verify_scope = true;
  o.registry_url = "http://127.0.0.1:1";
  EXPECT_NE(error(o).find("service_id"), std::string::npos);
  o.service_id = "s";
  EXPECT_NE(error(o).find("token_url"), std::string::npos);
  o.registry_url.clear();
  o.endpoints_json = "[";
  EXPECT_NE(error(o).find("endpoints_json"), std::string::npos);
  o.endpoints_json.clear();
  o.verify_scope = false;
  o.pem_keys = {{"k", "not a pem"}};
  EXPECT_NE(error(o).find("pem_keys[k]"), std::string::npos);
}

}  // namespace
}  // namespace portcullis::verify
