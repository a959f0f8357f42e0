// The authorization endpoint's validation and code issuance: clients on a real store (SQLite
// always, PostgreSQL when PORTCULLIS_TEST_PG_URL is set), codes in MemoryAuthCodeStore (the SQL
// of codes: src/store/sql/code_store_test.cc).

#include "oauth/code/authorization_service.h"

#include <gtest/gtest.h>

#include "oauth/client/client_catalog.h"
#include "oauth/client/client_store.h"
#include "oauth/client/registry_testing.h"
#include "oauth/code/memory_code_store.h"
#include "oauth/code/memory_par_store.h"
#include "oauth/credentials/token_hash.h"
#include "oauth/token/pkce.h"
#include "store/db.h"
#include "store/sql/client_store.h"

namespace portcullis::oauth {
namespace {

using testing::RegistryDbTest;

constexpr char kRedirect[] = "https://app.example.com/cb";
// light-oauth2's PKCE test vector (reference §16): verifier -> S256 challenge.
constexpr char kVerifier[] =
    "xzmujl-tX1OgdSrtB3oVFp4G3VHVvGbv81i8Nd-A62qgcmo0VDvOq_EaYJiSaM4fsx6oEqhHZfzhTcmcU4WjUA";
constexpr char kChallenge[] = "GIDiZShhVObyvaTrpkPM8VPmtMkj_qnBWlDwE7uz90s";

AuthorizationRequest Request(std::string client_id, std::string query_tail = {}) {
  std::string q = "response_type=code&client_id=" + client_id;
  if (!query_tail.empty()) q += "&" + query_tail;
  auto r = AuthorizationRequest::Parse(q);
  EXPECT_TRUE(r) << r.error().description;
  return *r;
}

class AuthorizationTest : public RegistryDbTest {
 protected:
  void SetUp() override {
    RegistryDbTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    Add("conf", "confidential", {kRedirect});
    Add("pub", "public", {kRedirect});
    Add("many", "confidential", {kRedirect, "https://app.example.com/other"});
    Add("none", "confidential", {});
    Add("query", "confidential", {"https://app.example.com/cb?tenant=a%20b"});
    Add("cc_only", "confidential", {kRedirect}, {"client_credentials"});
    Add("par_only", "confidential", {kRedirect}, {}, /*require_par=*/true);
    Add("fapi", "confidential", {kRedirect}, {}, false, SecurityProfile::kFapi2);
    client_store_ = std::make_unique<store::SqlClientStore>(*db_);
    catalog_ = std::make_unique<ClientCatalog>(*client_store_);
    ASSERT_TRUE(catalog_->Reload());
    AuthorizationSettings s;
    s.issuer = "https://issuer.example";
    s.code_ttl = 120;
    service_ = std::make_unique<AuthorizationService>(s, *catalog_, codes_, clock_, random_);
  }

  void Add(std::string id, std::string type, std::vector<std::string> redirects,
           std::vector<std::string> grants = {}, bool require_par = false,
           SecurityProfile profile = SecurityProfile::kNone) {
    Client c;
    c.require_par = require_par;
    c.security_profile = profile;
    c.client_id = id;
    c.client_type = *ParseClientType(type);
    c.client_profile = "webserver";
    c.client_name = "App " + id;
    c.scope = {"petstore.r", "petstore.w"};
    c.redirect_uris = std::move(redirects);
    c.grant_types = std::move(grants);
    c.owner_id = "admin";
    c.host = "lightapi.net";
    store::SqlClientStore clients(*db_);
    auto s = db_->Transact([&](store::Tx& tx) { return clients.Insert(tx, c); });
    ASSERT_TRUE(s) << s.error().detail;
  }

  // Expects a failure that is shown to the user, never redirected.
  void ExpectShown(const Validation& v, std::string_view code) {
    ASSERT_FALSE(v.has_value());
    EXPECT_EQ(v.error().error.code, code) << v.error().error.description;
    EXPECT_TRUE(v.error().redirect_uri.empty());
  }
  void ExpectRedirected(const Validation& v, std::string_view oauth_error,
                        std::string_view code = {}) {
    ASSERT_FALSE(v.has_value());
    EXPECT_EQ(v.error().error.oauth_error, oauth_error) << v.error().error.description;
    EXPECT_EQ(v.error().error.code, code);
    EXPECT_EQ(v.error().redirect_uri, kRedirect);
  }

  // A pushed request of `client_id` with `params`, live for 60 s; returns its request_uri.
  std::string Push(std::string client_id, std::string params, std::string reference = "ref-1") {
    PushedRequest r;
    r.reference_hash = TokenHash(reference);
    r.client_id = std::move(client_id);
    r.params = std::move(params);
    r.created_at = clock_.Now();
    r.expires_at = clock_.Now() + 60;
    EXPECT_TRUE(pushed_.Insert(r).value());
    return std::string(kPushedRequestUriPrefix) + reference;
  }

  ManualClock clock_;
  testing::CountingRandom random_;
  MemoryAuthCodeStore codes_;
  MemoryPushedRequestStore pushed_;
  std::unique_ptr<store::SqlClientStore> client_store_;
  std::unique_ptr<ClientCatalog> catalog_;
  std::unique_ptr<AuthorizationService> service_;
};

TEST(AuthorizationRequestTest, RepeatedOrOversizedParametersAreRefused) {
  auto r = AuthorizationRequest::Parse("client_id=a&response_type=code&client_id=b");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().oauth_error, "invalid_request");
  EXPECT_FALSE(AuthorizationRequest::Parse("state=" + std::string(3000, 'x')));
  EXPECT_FALSE(AuthorizationRequest::Parse("state=%zz"));
  // Unknown parameters are ignored, even repeated.
  EXPECT_TRUE(AuthorizationRequest::Parse("client_id=a&x=1&x=2"));
}

TEST(AuthorizationRequestTest, RoundTripsThroughAQuery) {
  auto r = AuthorizationRequest::Parse(
      "response_type=code&client_id=c%201&state=a%26b%3Dc+d&scope=x+y&nonce=n&remember=Y");
  ASSERT_TRUE(r);
  EXPECT_EQ(*r->state, "a&b=c d");
  auto again = AuthorizationRequest::Parse(r->ToQuery());
  ASSERT_TRUE(again);
  EXPECT_EQ(again->ToFields(), r->ToFields());
  EXPECT_FALSE(again->redirect_uri.has_value());
}

TEST_P(AuthorizationTest, UnknownOrMissingClientIsShownNotRedirected) {
  ExpectShown(service_->Validate(Request("nope", "redirect_uri=https://evil.example/"), false),
              "ERR12014");
  ExpectShown(service_->Validate(*AuthorizationRequest::Parse("response_type=code"), false),
              "ERR11000");
  auto v = service_->Validate(Request("nope"), true);
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().error.http_status, 404);
}

TEST_P(AuthorizationTest, RedirectUriMustMatchExactly) {
  for (std::string bad :
       {"https://evil.example/cb", "https://app.example.com/cb/x", "https://app.example.com/cb?x=1",
        "http://app.example.com/cb", "https://app.example.com:444/cb",
        "https://app.example.com/cb/", "https://app.example.com/CB", "https://app.example.com/cb#f",
        "https://app.example.com.evil.example/cb", ""}) {
    SCOPED_TRACE(bad);
    AuthorizationRequest r = Request("conf");
    r.redirect_uri = bad;
    ExpectShown(service_->Validate(r, false), "ERR12026");
    ExpectShown(service_->Validate(r, true), "ERR12026");
  }
}

TEST_P(AuthorizationTest, OmittedRedirectUriNeedsExactlyOneRegistered) {
  auto one = service_->Validate(Request("conf"), false);
  ASSERT_TRUE(one) << one.error().error.description;
  EXPECT_EQ(one->redirect_uri, kRedirect);
  EXPECT_FALSE(one->redirect_uri_given);
  ExpectShown(service_->Validate(Request("many"), false), "ERR12025");
  ExpectShown(service_->Validate(Request("none"), false), "ERR12025");
  ExpectShown(service_->Validate(Request("none", "redirect_uri=https://x.example/"), false),
              "ERR12026");
  auto given = service_->Validate(
      Request("many", "redirect_uri=https%3A%2F%2Fapp.example.com%2Fother"), false);
  ASSERT_TRUE(given);
  EXPECT_TRUE(given->redirect_uri_given);
}

TEST_P(AuthorizationTest, ResponseTypeErrorsFollowTheOrderOfTheCaller) {
  auto missing = *AuthorizationRequest::Parse("client_id=conf&state=s1");
  // Browser: after the redirect URI, so redirected with the state.
  auto v = service_->Validate(missing, false);
  ExpectRedirected(v, "invalid_request", "ERR11000");
  EXPECT_EQ(v.error().state, "s1");
  EXPECT_TRUE(v.error().has_state);
  // light-oauth2: first of all.
  ExpectShown(service_->Validate(missing, true), "ERR11000");
  auto wrong = *AuthorizationRequest::Parse("response_type=token&client_id=conf");
  ExpectRedirected(service_->Validate(wrong, false), "unsupported_response_type", "ERR11004");
  ExpectShown(service_->Validate(wrong, true), "ERR11004");
  // light-oauth2 order: a bad response_type wins over an unknown client.
  ExpectShown(service_->Validate(*AuthorizationRequest::Parse("response_type=x&client_id=q"), true),
              "ERR11004");
}

TEST_P(AuthorizationTest, GrantTypeAndScopeAreChecked) {
  ExpectRedirected(service_->Validate(Request("cc_only"), false), "unauthorized_client");
  ExpectRedirected(service_->Validate(Request("conf", "scope=petstore.r+admin"), false),
                   "invalid_scope", "ERR12027");
  // Set membership, not light-oauth2's substring match (reference §4.6).
  ExpectRedirected(service_->Validate(Request("conf", "scope=pet"), false), "invalid_scope",
                   "ERR12027");
  auto subset = service_->Validate(Request("conf", "scope=petstore.r"), false);
  ASSERT_TRUE(subset);
  EXPECT_EQ(subset->scope, std::vector<std::string>{"petstore.r"});
  auto all = service_->Validate(Request("conf"), false);
  ASSERT_TRUE(all);
  EXPECT_EQ(all->scope, (std::vector<std::string>{"petstore.r", "petstore.w"}));
}

TEST_P(AuthorizationTest, PkceIsS256AndRequiredForPublicClients) {
  ExpectRedirected(service_->Validate(Request("pub"), false), "invalid_request");
  std::string s256 = std::string("code_challenge=") + kChallenge + "&code_challenge_method=S256";
  auto ok = service_->Validate(Request("pub", s256), false);
  ASSERT_TRUE(ok) << ok.error().error.description;
  EXPECT_EQ(ok->code_challenge, kChallenge);
  EXPECT_EQ(ok->code_challenge_method, "S256");
  // plain (explicit or by default) is refused (RFC 9700 §2.1.1).
  ExpectRedirected(
      service_->Validate(Request("pub", std::string("code_challenge=") + kChallenge), false),
      "invalid_request", "ERR12033");
  ExpectRedirected(service_->Validate(Request("pub", std::string("code_challenge=") + kChallenge +
                                                         "&code_challenge_method=plain"),
                                      false),
                   "invalid_request", "ERR12033");
  ExpectRedirected(service_->Validate(Request("conf", std::string("code_challenge=") + kChallenge +
                                                          "&code_challenge_method=ABC"),
                                      false),
                   "invalid_request", "ERR12033");
  ExpectRedirected(
      service_->Validate(Request("conf", "code_challenge=abc&code_challenge_method=S256"), false),
      "invalid_request", "ERR12034");
  ExpectRedirected(service_->Validate(Request("conf", "code_challenge=" + std::string(129, 'a') +
                                                          "&code_challenge_method=S256"),
                                      false),
                   "invalid_request", "ERR12035");
  ExpectRedirected(service_->Validate(Request("conf", "code_challenge=" + std::string(43, '$') +
                                                          "&code_challenge_method=S256"),
                                      false),
                   "invalid_request", "ERR12036");
  ExpectRedirected(service_->Validate(Request("conf", "code_challenge_method=S256"), false),
                   "invalid_request");
  // PKCE errors of light-oauth2 callers keep their codes and status.
  auto light = service_->Validate(
      Request("conf",
              "redirect_uri=https%3A%2F%2Fapp.example.com%2Fcb&code_challenge=abc&"
              "code_challenge_method=S256"),
      true);
  ASSERT_FALSE(light);
  EXPECT_EQ(light.error().error.code, "ERR12034");
  EXPECT_EQ(light.error().error.http_status, 400);
}

TEST_P(AuthorizationTest, PromptNoneStandsAlone) {
  auto v = service_->Validate(Request("conf", "prompt=none"), false);
  ASSERT_TRUE(v);
  EXPECT_TRUE(v->prompt_none);
  ExpectRedirected(service_->Validate(Request("conf", "prompt=none+login"), false),
                   "invalid_request");
  ExpectRedirected(service_->Validate(Request("conf", "prompt=consent+none"), false),
                   "invalid_request");
}

TEST_P(AuthorizationTest, PromptValuesCombineAndUnknownOnesAreRefused) {
  auto both = service_->Validate(Request("conf", "prompt=login+consent"), false);
  ASSERT_TRUE(both) << both.error().error.description;
  EXPECT_TRUE(both->prompt_login);
  EXPECT_TRUE(both->prompt_consent);
  EXPECT_FALSE(both->prompt_none);
  for (std::string bad :
       {"prompt=select_account", "prompt=login+bogus", "prompt=", "prompt=NONE"}) {
    SCOPED_TRACE(bad);
    ExpectRedirected(service_->Validate(Request("conf", bad), false), "invalid_request");
  }
}

TEST_P(AuthorizationTest, MaxAgeIsANonNegativeIntegerAndForcesAFreshSignIn) {
  for (std::string bad : {"max_age=-1", "max_age=", "max_age=1.5", "max_age=abc", "max_age=%2B5",
                          "max_age=12345678901"}) {
    SCOPED_TRACE(bad);
    ExpectRedirected(service_->Validate(Request("conf", bad), false), "invalid_request");
  }
  auto v = service_->Validate(Request("conf", "max_age=60"), false);
  ASSERT_TRUE(v);
  ASSERT_TRUE(v->max_age);
  EXPECT_EQ(*v->max_age, 60);
  SsoSession session{"alice", false, clock_.Now() - 60, clock_.Now() + 3600};
  EXPECT_FALSE(service_->NeedsFreshSignIn(*v, session)) << "60 seconds is not older than 60";
  session.created_at -= 1;
  EXPECT_TRUE(service_->NeedsFreshSignIn(*v, session));

  auto zero = service_->Validate(Request("conf", "max_age=0"), false);
  ASSERT_TRUE(zero);
  session.created_at = clock_.Now();
  EXPECT_TRUE(service_->NeedsFreshSignIn(*zero, session)) << "max_age=0 always asks";

  auto plain = service_->Validate(Request("conf"), false);
  ASSERT_TRUE(plain);
  session.created_at = 0;
  EXPECT_FALSE(service_->NeedsFreshSignIn(*plain, session));
  auto login = service_->Validate(Request("conf", "prompt=login"), false);
  ASSERT_TRUE(login);
  session.created_at = clock_.Now();
  EXPECT_TRUE(service_->NeedsFreshSignIn(*login, session));
}

TEST_P(AuthorizationTest, ResponseModeIsQueryOrFormPostAndErrorsFollowIt) {
  auto q = service_->Validate(Request("conf"), false);
  ASSERT_TRUE(q);
  EXPECT_EQ(q->response_mode, ResponseMode::kQuery);
  auto fp = service_->Validate(Request("conf", "response_mode=form_post&state=s"), false);
  ASSERT_TRUE(fp);
  EXPECT_EQ(fp->response_mode, ResponseMode::kFormPost);
  auto answer = service_->Success(*fp, Secret("c"));
  EXPECT_EQ(answer.mode, ResponseMode::kFormPost);
  EXPECT_EQ(answer.redirect_uri, kRedirect);
  EXPECT_EQ(answer.params,
            (FormFields{{"code", "c"}, {"state", "s"}, {"iss", "https://issuer.example"}}));

  // Unknown mode: invalid_request, delivered in the default mode.
  for (std::string bad : {"response_mode=fragment", "response_mode=jwt", "response_mode="}) {
    SCOPED_TRACE(bad);
    auto v = service_->Validate(Request("conf", bad), false);
    ExpectRedirected(v, "invalid_request");
    EXPECT_EQ(v.error().response_mode, ResponseMode::kQuery);
  }
  // A later error goes back by form post when that was asked for.
  auto scope = service_->Validate(Request("conf", "response_mode=form_post&scope=nope"), false);
  ExpectRedirected(scope, "invalid_scope", "ERR12027");
  EXPECT_EQ(scope.error().response_mode, ResponseMode::kFormPost);
  EXPECT_EQ(service_->ErrorAnswer(scope.error()).mode, ResponseMode::kFormPost);
  EXPECT_EQ(
      AuthorizationService::FailureFor(*fp, Error::OAuth(400, "login_required", "x")).response_mode,
      ResponseMode::kFormPost);
}

TEST_P(AuthorizationTest, RequestObjectsAndRegistrationAreRefusedByName) {
  auto r = service_->Validate(Request("conf", "request=eyJhbGciOiJub25lIn0.e30.&state=s"), false);
  ExpectRedirected(r, "request_not_supported");
  EXPECT_EQ(r.error().state, "s");
  ExpectRedirected(
      service_->Validate(Request("conf", "request_uri=https%3A%2F%2Fapp.example.com%2Fr"), false),
      "request_uri_not_supported");
  ExpectRedirected(service_->Validate(Request("conf", "registration=%7B%7D"), false),
                   "registration_not_supported");
  // Before the client is known nothing is redirected.
  ExpectShown(service_->Validate(Request("nope", "request=x"), false), "ERR12014");
  // Form-post mode applies to the refusal.
  auto fp = service_->Validate(Request("conf", "response_mode=form_post&request=x"), false);
  ExpectRedirected(fp, "request_not_supported");
  EXPECT_EQ(fp.error().response_mode, ResponseMode::kFormPost);
}

TEST_P(AuthorizationTest, ClaimsParameterMustBeAJsonObjectOfObjects) {
  const std::string good =
      R"({"userinfo":{"email":null,"name":{"essential":true}},"id_token":{"acr":{"values":["1"]}},"x":1})";
  auto v = service_->Validate(Request("conf", "claims=" + PercentEncode(good)), false);
  ASSERT_TRUE(v) << v.error().error.description;
  EXPECT_EQ(v->claims, good);
  for (std::string bad :
       {"[]", "\"x\"", "{", "{\"userinfo\":[]}", "{\"id_token\":\"email\"}",
        "{\"userinfo\":{\"email\":1}}", "{\"userinfo\":{\"email\":{\"essential\":\"yes\"}}}",
        "{\"id_token\":{\"acr\":{\"values\":\"1\"}}}"}) {
    SCOPED_TRACE(bad);
    ExpectRedirected(service_->Validate(Request("conf", "claims=" + PercentEncode(bad)), false),
                     "invalid_request");
  }
  std::string big = "{\"userinfo\":{\"" + std::string(5000, 'a') + "\":null}}";
  EXPECT_FALSE(CheckClaimsParameter(big));
  EXPECT_TRUE(CheckClaimsParameter("{}"));
  // The validated text is what the code keeps.
  auto code = service_->IssueCode(*v, {"bob", "", ""}, false, service_->SignInNow());
  ASSERT_TRUE(code);
  EXPECT_EQ(codes_.Get(TokenHash(code->Reveal()))->code.claims, good);
}

TEST_P(AuthorizationTest, IdTokenHintIsVerifiedAndLoginHintIsOnlyCarried) {
  // Without a verifier, a hint cannot be honoured: refused, never ignored.
  ExpectRedirected(service_->Validate(Request("conf", "id_token_hint=abc"), false),
                   "invalid_request");
  std::string seen_client;
  service_->SetIdTokenHintReader(
      [&](std::string_view hint, std::string_view client_id) -> Result<std::string> {
        seen_client = client_id;
        if (hint == "good") return std::string("alice");
        return Fail(Error::OAuth(400, "invalid_request", "bad signature"));
      });
  auto v = service_->Validate(Request("conf", "id_token_hint=good&login_hint=%3Cb%3E"), false);
  ASSERT_TRUE(v) << v.error().error.description;
  EXPECT_EQ(v->hint_subject, "alice");
  EXPECT_EQ(v->login_hint, "<b>");
  EXPECT_EQ(seen_client, "conf");
  ExpectRedirected(service_->Validate(Request("conf", "id_token_hint=forged"), false),
                   "invalid_request");
  // With prompt=none too: an unverifiable hint is a malformed request.
  ExpectRedirected(service_->Validate(Request("conf", "id_token_hint=forged&prompt=none"), false),
                   "invalid_request");
}

TEST(AuthorizationRequestTest, LongParametersHaveTheirOwnBound) {
  std::string jwt(6000, 'a');
  auto r = AuthorizationRequest::Parse("id_token_hint=" + jwt + "&claims=%7B%7D");
  ASSERT_TRUE(r) << r.error().description;
  EXPECT_EQ(r->id_token_hint->size(), 6000u);
  EXPECT_FALSE(AuthorizationRequest::Parse("id_token_hint=" + std::string(9000, 'a')));
  EXPECT_FALSE(AuthorizationRequest::Parse("login_hint=" + std::string(3000, 'a')));
  EXPECT_FALSE(AuthorizationRequest::Parse("max_age=1&max_age=2"));
  // The OIDC parameters travel through the forms.
  auto all = AuthorizationRequest::Parse(
      "prompt=login&max_age=0&login_hint=a&response_mode=form_post&acr_values=x");
  ASSERT_TRUE(all);
  auto again = AuthorizationRequest::Parse(all->ToQuery());
  ASSERT_TRUE(again);
  EXPECT_EQ(again->ToFields(), all->ToFields());
  EXPECT_EQ(*again->response_mode, "form_post");
}

TEST_P(AuthorizationTest, IssuedCodeIsRandomHashedBoundAndShortLived) {
  std::string q =
      "redirect_uri=https%3A%2F%2Fapp.example.com%2Fcb&scope=petstore.r&state=xyz&"
      "nonce=n-0S6&code_challenge=" +
      std::string(kChallenge) + "&code_challenge_method=S256";
  auto v = service_->Validate(Request("pub", q), false);
  ASSERT_TRUE(v) << v.error().error.description;
  AuthenticatedUser user{"alice", "employee", "user admin"};
  SignInRecord sign_in{clock_.Now() - 30, "sid-1", "pwd", ""};
  auto code = service_->IssueCode(*v, user, true, sign_in);
  ASSERT_TRUE(code) << code.error().detail;
  EXPECT_EQ(code->Reveal().size(), 43u);  // 256 bits, base64url
  EXPECT_FALSE(codes_.Get(code->Reveal())) << "the clear code must not be stored";
  auto row = codes_.Get(TokenHash(code->Reveal()));
  ASSERT_TRUE(row);
  const AuthCode& r = row->code;
  EXPECT_EQ(r.client_id, "pub");
  EXPECT_EQ(r.user_id, "alice");
  EXPECT_EQ(r.user_type, "employee");
  EXPECT_EQ(r.roles, "user admin");
  EXPECT_EQ(r.scope, "petstore.r");
  EXPECT_EQ(r.redirect_uri, kRedirect);
  EXPECT_EQ(r.code_challenge, kChallenge);
  EXPECT_EQ(r.code_challenge_method, "S256");
  EXPECT_EQ(r.nonce, "n-0S6");
  EXPECT_EQ(r.remember, "Y");
  EXPECT_EQ(r.auth_time, clock_.Now() - 30);
  EXPECT_EQ(r.sid, "sid-1");
  EXPECT_EQ(r.amr, "pwd");
  EXPECT_EQ(r.acr, "");
  EXPECT_EQ(r.claims, "");
  EXPECT_EQ(r.expires_at - r.created_at, 120);
  EXPECT_EQ(r.created_at, clock_.Now());
  EXPECT_FALSE(row->consumed_at);
  // The matching verifier redeems it.
  EXPECT_TRUE(CheckCodeVerifier(kVerifier, r.code_challenge, r.code_challenge_method));

  auto again = service_->IssueCode(*v, user, false, sign_in);
  ASSERT_TRUE(again);
  EXPECT_NE(again->Reveal(), code->Reveal());
}

TEST_P(AuthorizationTest, OmittedRedirectUriIsNotStored) {
  auto v = service_->Validate(Request("conf"), false);
  ASSERT_TRUE(v);
  auto code = service_->IssueCode(*v, {"bob", "", ""}, false, service_->SignInNow());
  ASSERT_TRUE(code);
  auto row = codes_.Get(TokenHash(code->Reveal()));
  ASSERT_TRUE(row);
  EXPECT_EQ(row->code.redirect_uri, "");  // none: the token request need not repeat it
  EXPECT_EQ(row->code.scope, "petstore.r petstore.w");
  EXPECT_EQ(row->code.remember, "N");
  EXPECT_EQ(row->code.user_type, "");
  // A sign-in without a session (HTTP Basic): now, by password, no sid.
  EXPECT_EQ(row->code.auth_time, clock_.Now());
  EXPECT_EQ(row->code.amr, "pwd");
  EXPECT_EQ(row->code.sid, "");
}

TEST_P(AuthorizationTest, CodeTtlIsClampedToTenMinutes) {
  AuthorizationSettings s;
  s.code_ttl = 3600;
  EXPECT_EQ(AuthorizationService(s, *catalog_, codes_, clock_, random_).code_ttl(), 600);
  s.code_ttl = 1;
  EXPECT_EQ(AuthorizationService(s, *catalog_, codes_, clock_, random_).code_ttl(), 60);
}

TEST_P(AuthorizationTest, RedirectsCarryCodeStateAndIssuerEncoded) {
  auto v = service_->Validate(Request("query", "state=a%26b%3D%23+c"), false);
  ASSERT_TRUE(v) << v.error().error.description;
  std::string loc = service_->SuccessRedirect(*v, Secret("the-code"));
  EXPECT_EQ(loc,
            "https://app.example.com/cb?tenant=a%20b&code=the-code&state=a%26b%3D%23%20c&"
            "iss=https%3A%2F%2Fissuer.example");
  auto no_state = service_->Validate(Request("conf"), false);
  ASSERT_TRUE(no_state);
  EXPECT_EQ(service_->SuccessRedirect(*no_state, Secret("c")),
            "https://app.example.com/cb?code=c&iss=https%3A%2F%2Fissuer.example");

  auto failed = service_->Validate(Request("conf", "scope=x%22y&state=s"), false);
  ASSERT_FALSE(failed);
  std::string err = service_->ErrorRedirect(failed.error());
  EXPECT_EQ(err.rfind("https://app.example.com/cb?error=invalid_scope&error_description=", 0), 0u)
      << err;
  EXPECT_NE(err.find("ERR12027"), std::string::npos);
  EXPECT_NE(err.find("&state=s&iss="), std::string::npos);
  EXPECT_EQ(err.find("%22"), std::string::npos) << "quotes are not allowed in descriptions";
}

TEST_P(AuthorizationTest, PushedRequestsAreOffUntilAStoreIsSet) {
  auto q = Request("conf", "request_uri=urn%3Aietf%3Aparams%3Aoauth%3Arequest_uri%3Aref-1");
  EXPECT_FALSE(service_->NamesPushedRequest(q));
  ExpectRedirected(service_->Validate(q, false), "request_uri_not_supported");
  service_->SetPushedRequests(&pushed_);
  EXPECT_TRUE(service_->NamesPushedRequest(q));
  // Other request_uri values (request objects by reference) stay refused.
  auto other = Request("conf", "request_uri=https%3A%2F%2Fapp.example.com%2Freq");
  EXPECT_FALSE(service_->NamesPushedRequest(other));
  ExpectRedirected(service_->Validate(other, false), "request_uri_not_supported");
}

TEST_P(AuthorizationTest, PushedRequestReplacesTheQueryAndIsConsumedOnceByTheCode) {
  service_->SetPushedRequests(&pushed_);
  std::string uri = Push("conf", "response_type=code&client_id=conf&scope=petstore.r&state=s1");
  AuthorizationRequest q;
  q.client_id = "conf";
  q.request_uri = uri;
  q.scope = "petstore.w";  // ignored (RFC 9126 §4)
  auto loaded = service_->ResolvePushed(q, false);
  ASSERT_TRUE(loaded) << loaded.error().description;
  EXPECT_EQ(loaded->scope.value_or(""), "petstore.r");
  EXPECT_EQ(loaded->state.value_or(""), "s1");
  EXPECT_FALSE(loaded->request_uri);
  EXPECT_EQ(loaded->pushed_hash, TokenHash("ref-1"));
  auto v = service_->Validate(*loaded, false);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->pushed_hash, TokenHash("ref-1"));
  // Read as often as the pages need, consumed by the first code only.
  ASSERT_TRUE(service_->ResolvePushed(q, true));
  AuthenticatedUser user{"alice", "", ""};
  ASSERT_TRUE(service_->IssueCode(*v, user, false, service_->SignInNow()));
  auto second = service_->IssueCode(*v, user, false, service_->SignInNow());
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().oauth_error, "invalid_request_uri");
  auto used = service_->ResolvePushed(q, false);
  ASSERT_FALSE(used);
  EXPECT_EQ(used.error().oauth_error, "invalid_request_uri");
}

TEST_P(AuthorizationTest, PushedRequestIsBoundToItsClientAndExpires) {
  service_->SetPushedRequests(&pushed_);
  std::string uri = Push("conf", "response_type=code&client_id=conf");
  AuthorizationRequest q;
  q.request_uri = uri;
  auto missing = service_->ResolvePushed(q, false);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().oauth_error, "invalid_request");  // client_id is required
  q.client_id = "pub";
  EXPECT_EQ(service_->ResolvePushed(q, false).error().oauth_error, "invalid_request_uri");
  q.client_id = "conf";
  AuthorizationRequest unknown = q;
  unknown.request_uri = std::string(kPushedRequestUriPrefix) + "ref-2";
  EXPECT_EQ(service_->ResolvePushed(unknown, false).error().oauth_error, "invalid_request_uri");
  unknown.request_uri = std::string(kPushedRequestUriPrefix);
  EXPECT_EQ(service_->ResolvePushed(unknown, false).error().oauth_error, "invalid_request_uri");

  clock_.Advance(60);  // expired for a new flow at the authorization endpoint...
  EXPECT_EQ(service_->ResolvePushed(q, false).error().oauth_error, "invalid_request_uri");
  // ...while a flow's sign-in and consent forms have kPushedFlowGrace more.
  auto later = service_->ResolvePushed(q, true);
  ASSERT_TRUE(later);
  auto v = service_->Validate(*later, false);
  ASSERT_TRUE(v);
  clock_.Advance(kPushedFlowGrace);
  EXPECT_FALSE(service_->ResolvePushed(q, true));
  auto code = service_->IssueCode(*v, {"alice", "", ""}, false, service_->SignInNow());
  ASSERT_FALSE(code);
  EXPECT_EQ(code.error().oauth_error, "invalid_request_uri");
}

TEST_P(AuthorizationTest, RequirePushedAuthorizationRequestsRefusesPlainRequests) {
  service_->SetPushedRequests(&pushed_);
  ExpectRedirected(service_->Validate(Request("par_only"), false), "invalid_request");
  ExpectRedirected(service_->Validate(Request("par_only"), true), "invalid_request");
  std::string uri = Push("par_only", "response_type=code&client_id=par_only");
  AuthorizationRequest q;
  q.client_id = "par_only";
  q.request_uri = uri;
  auto loaded = service_->ResolvePushed(q, false);
  ASSERT_TRUE(loaded);
  EXPECT_TRUE(service_->Validate(*loaded, false));
  // A request_uri that is not a pushed one does not count.
  ExpectRedirected(
      service_->Validate(Request("par_only", "request_uri=https%3A%2F%2Fa.example%2Fr"), false),
      "request_uri_not_supported");
}

TEST_P(AuthorizationTest, Fapi2ClientNeedsParAndS256AndGetsCodesOf60Seconds) {
  service_->SetPushedRequests(&pushed_);
  // A plain request is refused, with PKCE or without (FAPI 2.0 5.3.2.2).
  ExpectRedirected(service_->Validate(Request("fapi", "code_challenge=" + std::string(kChallenge) +
                                                          "&code_challenge_method=S256"),
                                      false),
                   "invalid_request");
  std::string redirect = "&redirect_uri=https%3A%2F%2Fapp.example.com%2Fcb";
  auto pushed = [&](std::string params, std::string ref) {
    AuthorizationRequest q;
    q.client_id = "fapi";
    q.request_uri = Push("fapi", "response_type=code&client_id=fapi" + redirect + params, ref);
    auto loaded = service_->ResolvePushed(q, false);
    EXPECT_TRUE(loaded);
    return service_->Validate(*loaded, false);
  };
  // redirect_uri is required, though the client registered only one.
  redirect.clear();
  ExpectRedirected(
      pushed("&code_challenge=" + std::string(kChallenge) + "&code_challenge_method=S256", "r0"),
      "invalid_request");
  redirect = "&redirect_uri=https%3A%2F%2Fapp.example.com%2Fcb";
  // PKCE missing, or plain (even where code.allow_plain_pkce would allow it for others).
  ExpectRedirected(pushed("", "r1"), "invalid_request");
  ExpectRedirected(pushed("&code_challenge=" + std::string(kVerifier), "r2"), "invalid_request");
  ExpectRedirected(
      pushed("&code_challenge=" + std::string(kVerifier) + "&code_challenge_method=plain", "r3"),
      "invalid_request");
  auto v =
      pushed("&code_challenge=" + std::string(kChallenge) + "&code_challenge_method=S256", "r4");
  ASSERT_TRUE(v) << v.error().error.description;
  auto code = service_->IssueCode(*v, {"alice", "", ""}, false, service_->SignInNow());
  ASSERT_TRUE(code);
  auto row = codes_.Get(TokenHash(code->Reveal()));
  ASSERT_TRUE(row);
  // code.ttl_s is 120 here: a fapi2 client's code lives 60 s, another client's 120 s.
  EXPECT_EQ(row->code.expires_at - row->code.created_at, kFapi2CodeTtl);
  auto other = service_->Validate(Request("conf"), false);
  ASSERT_TRUE(other);
  auto conf_code = service_->IssueCode(*other, {"alice", "", ""}, false, service_->SignInNow());
  ASSERT_TRUE(conf_code);
  auto conf_row = codes_.Get(TokenHash(conf_code->Reveal()));
  EXPECT_EQ(conf_row->code.expires_at - conf_row->code.created_at, 120);
}

TEST(AppendQueryTest, KeepsQueryAndDropsFragment) {
  EXPECT_EQ(AppendQuery("https://a/cb", {{"k", "v w"}}), "https://a/cb?k=v%20w");
  EXPECT_EQ(AppendQuery("https://a/cb?", {{"k", "v"}}), "https://a/cb?k=v");
  EXPECT_EQ(AppendQuery("https://a/cb?x=1", {{"k", "&"}}), "https://a/cb?x=1&k=%26");
  EXPECT_EQ(AppendQuery("https://a/cb?x=1&", {{"k", "v"}}), "https://a/cb?x=1&k=v");
  EXPECT_EQ(AppendQuery("https://a/cb#frag", {{"k", "v"}}), "https://a/cb?k=v");
  EXPECT_EQ(SafeErrorDescription("a\"b\\c\nd\x01\xc3\xa9"), "a b c d   ");
}

INSTANTIATE_TEST_SUITE_P(Backends, AuthorizationTest, testing::kRegistryBackends,
                         testing::BackendName);

}  // namespace
}  // namespace portcullis::oauth
