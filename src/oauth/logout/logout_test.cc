// Unit tests of the logout domain: the logout token's claims, end-session URI matching and
// hint checks, back-channel queueing and delivery (retries, backoff, giving up), and the
// participation hook. Over fakes: MemoryLogoutStore, MemoryClientStore, a recorded transport.
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <deque>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "common/clock.h"
#include "oauth/client/client_catalog.h"
#include "oauth/client/memory_client_store.h"
#include "oauth/client/registry_testing.h"
#include "oauth/code/memory_code_store.h"
#include "oauth/logout/backchannel.h"
#include "oauth/logout/end_session.h"
#include "oauth/logout/logout_token.h"
#include "oauth/logout/memory_logout_store.h"
#include "oauth/logout/participant_recorder.h"
#include "store/fake_database.h"

namespace portcullis::oauth {
namespace {

namespace json = boost::json;

TEST(LogoutToken, CarriesTheBackChannelClaimsAndNeverANonce) {
  LogoutTokenClaims c{"https://op.example", "rp1", "alice", "sid-1", "jti-1", 1000, 1120};
  auto o = json::parse(LogoutTokenJson(c)).as_object();
  EXPECT_EQ(o["iss"].as_string(), "https://op.example");
  EXPECT_EQ(o["aud"].as_string(), "rp1");
  EXPECT_EQ(o["sub"].as_string(), "alice");
  EXPECT_EQ(o["sid"].as_string(), "sid-1");
  EXPECT_EQ(o["jti"].as_string(), "jti-1");
  EXPECT_EQ(o["iat"].as_int64(), 1000);
  EXPECT_EQ(o["exp"].as_int64(), 1120);
  ASSERT_TRUE(o["events"].is_object());
  const auto& events = o["events"].as_object();
  ASSERT_EQ(events.size(), 1u);
  ASSERT_TRUE(events.contains(kBackchannelLogoutEvent));
  EXPECT_TRUE(events.at(kBackchannelLogoutEvent).as_object().empty());
  EXPECT_FALSE(o.contains("nonce"));  // §2.4: MUST NOT
  EXPECT_EQ(kLogoutTokenTyp, "logout+jwt");

  c.sid.clear();  // a session from before sids existed: sub alone
  o = json::parse(LogoutTokenJson(c)).as_object();
  EXPECT_FALSE(o.contains("sid"));
  EXPECT_EQ(o["sub"].as_string(), "alice");
}

class LogoutTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Add("rp1", {"https://rp1.example/bye", "https://rp1.example/bye?x=1"},
        "https://rp1.example/bc");
    Add("rp2", {"https://rp2.example/bye"}, "https://rp2.example/bc");
    Add("quiet", {}, "");  // no back-channel URI: never told
    catalog_ = std::make_unique<ClientCatalog>(clients_);
    ASSERT_TRUE(catalog_->Reload());
    BackchannelSettings s;
    s.issuer = "https://op.example";
    s.max_attempts = 3;
    s.retry_base_s = 10;
    s.retry_max_s = 15;
    s.outbox_ttl_s = 3600;
    backchannel_ = std::make_unique<BackchannelLogout>(
        logout_store_, *catalog_,
        [this](std::string_view claims, std::string_view alg) -> Result<std::string> {
          signed_.emplace_back(claims);
          algs_.emplace_back(alg);
          return std::string("header.") + std::to_string(signed_.size()) + ".sig";
        },
        [this](const std::string& url, const std::string& body) -> std::expected<int, std::string> {
          posts_.emplace_back(url, body);
          if (answers_.empty()) return 200;
          auto a = answers_.front();
          answers_.pop_front();
          if (a < 0) return std::unexpected("connection refused");
          return a;
        },
        clock_, random_, s);
  }

  void Add(std::string id, std::vector<std::string> post_logout, std::string backchannel) {
    Client c;
    c.client_id = id;
    c.client_name = id;
    c.post_logout_redirect_uris = std::move(post_logout);
    c.redirect_uris = {"https://" + id + ".example/cb"};
    c.backchannel_logout_uri = std::move(backchannel);
    if (id == "rp2") c.id_token_signed_response_alg = "ES256";
    ASSERT_TRUE(db_.Transact([&](store::Tx& tx) { return clients_.Insert(tx, c); }));
  }

  Result<int> End(std::string_view sid) {
    Result<int> n = 0;
    auto st = db_.Transact([&](store::Tx& tx) -> Status {
      n = backchannel_->EndSession(tx, sid);
      if (!n) return Fail(n.error());
      return {};
    });
    EXPECT_TRUE(st);
    return n;
  }

  store::FakeDatabase db_;
  MemoryClientStore clients_;
  std::unique_ptr<ClientCatalog> catalog_;
  MemoryLogoutStore logout_store_;
  ManualClock clock_{1000};
  testing::CountingRandom random_;
  std::unique_ptr<BackchannelLogout> backchannel_;
  std::vector<std::string> signed_, algs_;
  std::vector<std::pair<std::string, std::string>> posts_;
  std::deque<int> answers_;  // statuses the transport answers in turn; -1: a network error
};

LogoutHintReader Hints(std::string client_id, std::string sub, std::string sid) {
  return [=](std::string_view token) -> Result<LogoutHint> {
    if (token != "good") return Fail(Error::OAuth(400, "invalid_token", "bad"));
    return LogoutHint{sub, sid, client_id, {client_id}};
  };
}

TEST_F(LogoutTest, PostLogoutRedirectUrisMatchExactlyAndOnlyForAKnownClient) {
  oauth::EndSession es(*catalog_, Hints("rp1", "alice", "s1"));
  auto resolve = [&](FormFields f) {
    auto r = EndSessionRequest::FromFields(f);
    EXPECT_TRUE(r);
    return es.Resolve(*r);
  };
  auto t = resolve({{"client_id", "rp1"},
                    {"post_logout_redirect_uri", "https://rp1.example/bye"},
                    {"state", "a b&c"}});
  ASSERT_TRUE(t);
  EXPECT_EQ(t->RedirectLocation(), "https://rp1.example/bye?state=a%20b%26c");
  // A registered query is kept; state is appended.
  t = resolve({{"client_id", "rp1"}, {"post_logout_redirect_uri", "https://rp1.example/bye?x=1"}});
  EXPECT_EQ(t->RedirectLocation(), "https://rp1.example/bye?x=1");
  // Not exactly registered: a trailing slash, another case, a prefix, a redirect URI (not a
  // post-logout one), another client's URI.
  for (std::string uri :
       {"https://rp1.example/bye/", "https://RP1.example/bye", "https://rp1.example/by",
        "https://rp1.example/cb", "https://rp2.example/bye", "https://rp1.example/bye#x"}) {
    t = resolve({{"client_id", "rp1"}, {"post_logout_redirect_uri", uri}});
    ASSERT_TRUE(t);
    EXPECT_EQ(t->RedirectLocation(), "") << uri;
  }
  // No client known: never redirected.
  t = resolve({{"post_logout_redirect_uri", "https://rp1.example/bye"}});
  EXPECT_EQ(t->RedirectLocation(), "");
  t = resolve({{"client_id", "ghost"}, {"post_logout_redirect_uri", "https://rp1.example/bye"}});
  EXPECT_EQ(t->RedirectLocation(), "");
  // The hint names the client.
  t = resolve({{"id_token_hint", "good"}, {"post_logout_redirect_uri", "https://rp1.example/bye"}});
  ASSERT_TRUE(t);
  EXPECT_EQ(t->RedirectLocation(), "https://rp1.example/bye");
  ASSERT_TRUE(t->hint);
  EXPECT_EQ(t->hint->sid, "s1");
}

TEST_F(LogoutTest, ABadHintOrAnotherClientsHintIsRefused) {
  oauth::EndSession es(*catalog_, Hints("rp1", "alice", "s1"));
  auto forged = es.Resolve(*EndSessionRequest::FromFields({{"id_token_hint", "forged"}}));
  ASSERT_FALSE(forged);
  EXPECT_EQ(forged.error().oauth_error, "invalid_request");
  auto other =
      es.Resolve(*EndSessionRequest::FromFields({{"id_token_hint", "good"}, {"client_id", "rp2"}}));
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().oauth_error, "invalid_request");
  auto repeated = EndSessionRequest::FromFields({{"state", "a"}, {"state", "b"}});
  EXPECT_FALSE(repeated);
  // Without a reader, a hint is never taken on trust.
  oauth::EndSession none(*catalog_, nullptr);
  EXPECT_FALSE(none.Resolve(*EndSessionRequest::FromFields({{"id_token_hint", "good"}})));
}

TEST_F(LogoutTest, EndingASessionQueuesOneTokenPerParticipantWithAUri) {
  ASSERT_TRUE(backchannel_->Record("s1", "rp1", "alice"));
  ASSERT_TRUE(backchannel_->Record("s1", "rp1", "alice"));  // a second code: still one
  ASSERT_TRUE(backchannel_->Record("s1", "rp2", "alice"));
  ASSERT_TRUE(backchannel_->Record("s1", "quiet", "alice"));
  ASSERT_TRUE(backchannel_->Record("s2", "rp1", "alice"));  // another session
  ASSERT_TRUE(backchannel_->Record("", "rp1", "alice"));    // no session: not recorded
  auto n = End("s1");
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 2);
  EXPECT_EQ(*End("s1"), 0);  // once
  // The committing transaction wakes the deliverer once; the empty second one does not.
  EXPECT_EQ(std::count(db_.notified().begin(), db_.notified().end(),
                       std::pair<std::string, std::string>(std::string(kLogoutQueuedKind), "")),
            1);
  auto pass = backchannel_->DeliverDue();
  ASSERT_TRUE(pass);
  EXPECT_EQ(pass->delivered, 2);
  ASSERT_EQ(posts_.size(), 2u);
  std::set<std::string> urls{posts_[0].first, posts_[1].first};
  EXPECT_EQ(urls, (std::set<std::string>{"https://rp1.example/bc", "https://rp2.example/bc"}));
  EXPECT_TRUE(posts_[0].second.starts_with("logout_token=header."));
  for (const auto& claims : signed_) {
    auto o = json::parse(claims).as_object();
    EXPECT_EQ(o["iss"].as_string(), "https://op.example");
    EXPECT_EQ(o["sub"].as_string(), "alice");
    EXPECT_EQ(o["sid"].as_string(), "s1");
    EXPECT_EQ(o["iat"].as_int64(), 1000);
    EXPECT_EQ(o["exp"].as_int64(), 1120);
    if (o["aud"].as_string() == "rp2") {
      EXPECT_NE(std::find(algs_.begin(), algs_.end(), "ES256"), algs_.end());
    }
  }
  EXPECT_EQ(logout_store_.outbox_size(), 0u);
}

TEST_F(LogoutTest, NetworkErrorsAnd5xxAreRetriedWithBackoff4xxGivesUp) {
  ASSERT_TRUE(backchannel_->Record("s1", "rp1", "alice"));
  ASSERT_EQ(*End("s1"), 1);
  answers_ = {-1, 503};
  auto pass = backchannel_->DeliverDue();
  EXPECT_EQ(pass->retried, 1);
  EXPECT_EQ(posts_.size(), 1u);
  EXPECT_EQ(backchannel_->DeliverDue()->retried, 0);  // not due before the backoff
  clock_.Advance(10);                                 // retry_base_s
  EXPECT_EQ(backchannel_->DeliverDue()->retried, 1);
  clock_.Advance(14);
  EXPECT_EQ(backchannel_->DeliverDue()->delivered, 0);  // 2 × base = 20 s, capped at 15
  clock_.Advance(1);
  pass = backchannel_->DeliverDue();
  EXPECT_EQ(pass->delivered, 1);
  EXPECT_EQ(posts_.size(), 3u);
  // Each attempt signed a token of its own (jti).
  ASSERT_EQ(signed_.size(), 3u);
  EXPECT_NE(json::parse(signed_[0]).at("jti"), json::parse(signed_[2]).at("jti"));

  // 400: the RP refused the token (§2.8); resending it would not help.
  ASSERT_TRUE(backchannel_->Record("s2", "rp1", "alice"));
  ASSERT_EQ(*End("s2"), 1);
  answers_ = {400};
  pass = backchannel_->DeliverDue();
  EXPECT_EQ(pass->abandoned, 1);
  EXPECT_EQ(logout_store_.outbox_size(), 0u);
}

TEST_F(LogoutTest, DeliveryIsBoundedByAttemptsAndExpiry) {
  ASSERT_TRUE(backchannel_->Record("s1", "rp1", "alice"));
  ASSERT_EQ(*End("s1"), 1);
  answers_ = {500, 500, 500, 500};
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(backchannel_->DeliverDue());
    clock_.Advance(100);
  }
  EXPECT_EQ(posts_.size(), 3u);  // max_attempts
  EXPECT_EQ(logout_store_.outbox_size(), 0u);

  ASSERT_TRUE(backchannel_->Record("s2", "rp1", "alice"));
  ASSERT_EQ(*End("s2"), 1);
  clock_.Advance(3600);  // outbox_ttl_s: expired before anyone could send it
  EXPECT_EQ(backchannel_->DeliverDue()->delivered, 0);
  ASSERT_TRUE(backchannel_->Purge());
  EXPECT_EQ(logout_store_.outbox_size(), 0u);
  EXPECT_EQ(posts_.size(), 3u);
}

// A slow receiver does not hold the background thread: past the budget, the rest waits for
// the next pass.
TEST_F(LogoutTest, APassStopsClaimingOnceItsTimeBudgetIsSpent) {
  for (std::string sid : {"s1", "s2", "s3"}) {
    ASSERT_TRUE(backchannel_->Record(sid, "rp1", "alice"));
    ASSERT_EQ(*End(sid), 1);
  }
  auto slow = std::make_unique<BackchannelLogout>(
      logout_store_, *catalog_,
      [](std::string_view, std::string_view) -> Result<std::string> { return std::string("t"); },
      [this](const std::string& url, const std::string&) -> std::expected<int, std::string> {
        posts_.emplace_back(url, "");
        clock_.Advance(6);  // each POST takes 6 s of the 10 s budget
        return 200;
      },
      clock_, random_, backchannel_->settings());
  EXPECT_EQ(slow->DeliverDue()->delivered, 2);
  EXPECT_EQ(logout_store_.outbox_size(), 1u);
  EXPECT_EQ(slow->DeliverDue()->delivered, 1);
}

TEST_F(LogoutTest, AClientThatDroppedItsUriIsNotCalled) {
  ASSERT_TRUE(backchannel_->Record("s1", "rp1", "alice"));
  ASSERT_EQ(*End("s1"), 1);
  Client c = *catalog_->Find("rp1");
  c.backchannel_logout_uri.clear();
  ASSERT_TRUE(db_.Transact([&](store::Tx& tx) -> Status {
    auto r = clients_.Update(tx, c);
    if (!r) return Fail(r.error());
    return {};
  }));
  ASSERT_TRUE(catalog_->Reload());
  EXPECT_EQ(backchannel_->DeliverDue()->abandoned, 1);
  EXPECT_TRUE(posts_.empty());
}

TEST_F(LogoutTest, EndingAUserReachesEverySessionOfTheirs) {
  ASSERT_TRUE(backchannel_->Record("s1", "rp1", "alice"));
  ASSERT_TRUE(backchannel_->Record("s2", "rp2", "alice"));
  ASSERT_TRUE(backchannel_->Record("s3", "rp1", "bob"));
  Result<int> n = 0;
  ASSERT_TRUE(db_.Transact([&](store::Tx& tx) -> Status {
    n = backchannel_->EndUser(tx, "alice");
    return {};
  }));
  EXPECT_EQ(*n, 2);
}

// A locked or deleted user: every participant is queued (no catalog to filter by), and a client
// without a URI is dropped when its turn comes, without a call.
TEST_F(LogoutTest, UserLogoutHookQueuesEveryParticipantAndDeliveryFiltersByUri) {
  ASSERT_TRUE(backchannel_->Record("s1", "rp1", "alice"));
  ASSERT_TRUE(backchannel_->Record("s2", "quiet", "alice"));
  ASSERT_TRUE(backchannel_->Record("s3", "rp2", "bob"));
  auto hook = UserLogoutHook(logout_store_, clock_, random_, 3600);
  ASSERT_TRUE(db_.Transact([&](store::Tx& tx) { return hook(tx, "alice"); }));
  EXPECT_EQ(logout_store_.outbox_size(), 2u);
  auto pass = backchannel_->DeliverDue();
  ASSERT_TRUE(pass);
  EXPECT_EQ(pass->delivered, 1);
  EXPECT_EQ(pass->abandoned, 1);
  ASSERT_EQ(posts_.size(), 1u);
  EXPECT_EQ(posts_[0].first, "https://rp1.example/bc");
  EXPECT_EQ(*End("s3"), 1);  // bob's session is untouched
}

TEST_F(LogoutTest, IssuingACodeInASessionRecordsTheParticipant) {
  MemoryAuthCodeStore codes;
  ParticipantRecordingCodeStore recording(codes, *backchannel_);
  AuthCode code;
  code.code_hash = "h1";
  code.client_id = "rp1";
  code.user_id = "alice";
  code.sid = "s1";
  ASSERT_TRUE(recording.Insert(code));
  code.code_hash = "h2";
  code.sid.clear();
  ASSERT_TRUE(recording.Insert(code));
  EXPECT_EQ(*End("s1"), 1);
}

}  // namespace
}  // namespace portcullis::oauth
