// Contract: SqlRefreshTokenStore (SQLite, PostgreSQL) and MemoryRefreshTokenStore answer the same
// cases the same way, rotation included: of concurrent rotations exactly one wins.
#include "store/sql/refresh_token_store.h"

#include <gtest/gtest.h>

#include <memory>

#include "oauth/refresh/grant_revocation.h"
#include "oauth/refresh/memory_refresh_token_store.h"
#include "store/sql/code_store.h"
#include "store/sql/device_store.h"
#include "store/sql/session_store.h"
#include "store/sql/token_store_test_util.h"

namespace portcullis::store {
namespace {

using oauth::RefreshToken;
using oauth::RefreshTokenStore;

class RefreshTokenStoreContract : public TokenStateTest {
 protected:
  void SetUp() override {
    TokenStateTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    if (IsMemory()) {
      store_ = std::make_unique<oauth::MemoryRefreshTokenStore>();
    } else {
      store_ = std::make_unique<SqlRefreshTokenStore>(db());
    }
    AddClient("c1");
    AddClient("c2");
  }

  static RefreshToken Token(std::string hash, std::string family, std::string client,
                            std::string user, int64_t created, int64_t expires) {
    RefreshToken t;
    t.token_hash = std::move(hash);
    t.family_id = std::move(family);
    t.client_id = std::move(client);
    t.user_id = std::move(user);
    t.user_type = "employee";
    t.roles = "user";
    t.scope = "a b";
    t.remember = "Y";
    t.created_at = created;
    t.expires_at = expires;
    t.user_source = "users";
    return t;
  }

  void Insert(const RefreshToken& t) {
    InTx([&](Tx& tx) { return store_->Insert(tx, t); });
  }

  std::optional<RefreshToken> Find(std::string_view hash) {
    auto r = store_->Find(hash);
    EXPECT_TRUE(r);
    return r ? *r : std::nullopt;
  }

  // Rotate in a transaction of its own; true when this call won.
  bool Rotate(std::string_view hash, int64_t now) {
    bool won = false;
    InTx([&](Tx& tx) -> Status {
      auto r = store_->Rotate(tx, hash, now);
      if (!r) return Fail(r.error());
      won = *r;
      return {};
    });
    return won;
  }

  std::string StateOf(std::string_view hash) {
    auto t = Find(hash);
    return t ? t->state : "gone";
  }

  std::unique_ptr<RefreshTokenStore> store_;
};

TEST_P(RefreshTokenStoreContract, InsertAndFindRoundTrip) {
  RefreshToken t = Token("h1", "fam", "c1", "u1", 10, 1000);
  t.parent_hash = "h0";
  Insert(t);
  auto got = Find("h1");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->family_id, "fam");
  EXPECT_EQ(got->client_id, "c1");
  EXPECT_EQ(got->user_id, "u1");
  EXPECT_EQ(got->user_type, "employee");
  EXPECT_EQ(got->roles, "user");
  EXPECT_EQ(got->scope, "a b");
  EXPECT_EQ(got->remember, "Y");
  EXPECT_EQ(got->state, "active");
  EXPECT_EQ(got->created_at, 10);
  EXPECT_EQ(got->expires_at, 1000);
  EXPECT_EQ(got->parent_hash, "h0");
  EXPECT_FALSE(got->rotated_at);
  EXPECT_EQ(got->user_source, "users");
  // The same row inside a transaction.
  InTx([&](Tx& tx) -> Status {
    auto r = store_->Find(tx, "h1");
    if (!r) return Fail(r.error());
    EXPECT_TRUE(*r && (*r)->token_hash == "h1");
    auto none = store_->Find(tx, "nope");
    EXPECT_TRUE(none && !*none);
    return {};
  });
  EXPECT_FALSE(Find("nope"));
}

// RFC 8705 §4: a public client's refresh token keeps the certificate it is bound to.
TEST_P(RefreshTokenStoreContract, CertThumbprintRoundTrips) {
  RefreshToken t = Token("bound", "fb", "c1", "u1", 10, 1000);
  t.cert_thumbprint = "x5t-s256-thumbprint";
  Insert(t);
  auto got = Find("bound");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->cert_thumbprint, "x5t-s256-thumbprint");
  Insert(Token("unbound", "fu", "c1", "u1", 10, 1000));
  auto plain = Find("unbound");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->cert_thumbprint, "");
}

// A user signed in by a configured authenticator keeps that source (migration 0018), so a
// refresh knows which realm's user it is.
TEST_P(RefreshTokenStoreContract, AuthenticatorSourceRoundTrips) {
  RefreshToken t = Token("dir", "fd", "c1", "alice", 10, 1000);
  t.user_source = "authenticator:ldap-corp";
  Insert(t);
  auto got = Find("dir");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->user_source, "authenticator:ldap-corp");
}

// OpenID Connect Core §12.2: the sign-in behind the grant travels with every refresh token.
TEST_P(RefreshTokenStoreContract, SignInAndClaimsRoundTripAndEmptyIsNull) {
  RefreshToken t = Token("oidc", "fo", "c1", "u1", 10, 1000);
  t.auth_time = 7;
  t.sid = "sid-1";
  t.amr = "pwd mfa";
  t.acr = "urn:acr:1";
  t.claims = R"({"userinfo":{"email":null}})";
  t.dpop_jkt = "jkt-1";
  Insert(t);
  auto got = Find("oidc");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->auth_time, 7);
  EXPECT_EQ(got->sid, "sid-1");
  EXPECT_EQ(got->amr, "pwd mfa");
  EXPECT_EQ(got->acr, "urn:acr:1");
  EXPECT_EQ(got->claims, R"({"userinfo":{"email":null}})");
  EXPECT_EQ(got->dpop_jkt, "jkt-1");
  InTx([&](Tx& tx) -> Status {
    auto family = store_->Family(tx, "fo");
    if (!family) return Fail(family.error());
    EXPECT_EQ(family->size(), 1u);
    if (!family->empty()) EXPECT_EQ(family->front().sid, "sid-1");
    return {};
  });

  Insert(Token("plain", "fp", "c1", "u1", 10, 1000));
  auto plain = Find("plain");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->auth_time, 0);
  EXPECT_EQ(plain->sid, "");
  EXPECT_EQ(plain->claims, "");
  EXPECT_EQ(plain->dpop_jkt, "");
  if (!IsMemory()) {
    auto nulls = db().QueryRow(
        "SELECT COUNT(*) FROM refresh_tokens WHERE token_hash = 'plain' AND auth_time IS NULL"
        " AND sid IS NULL AND amr IS NULL AND acr IS NULL AND claims IS NULL");
    ASSERT_TRUE(nulls && *nulls);
    EXPECT_EQ((*nulls)->Int(0), 1);
  }
}

TEST_P(RefreshTokenStoreContract, SetScopeChangesOnlyAnActiveRow) {
  Insert(Token("s1", "fs", "c1", "u1", 10, 1000));
  Insert(Token("s2", "fs2", "c1", "u1", 10, 1000));
  InTx([&](Tx& tx) -> Status {
    auto r = store_->Rotate(tx, "s2", 20);
    if (!r) return Fail(r.error());
    return {};
  });
  const std::string before = Find("s2")->scope;
  InTx([&](Tx& tx) -> Status {
    if (auto s = store_->SetScope(tx, "s1", "a"); !s) return s;
    if (auto s = store_->SetScope(tx, "s2", "narrowed"); !s) return s;
    return store_->SetScope(tx, "unknown", "a");
  });
  EXPECT_EQ(Find("s1")->scope, "a");
  EXPECT_EQ(Find("s2")->scope, before);
}

TEST_P(RefreshTokenStoreContract, RotateOnceThenRevokeTheFamily) {
  Insert(Token("h1", "fam", "c1", "u1", 10, 1000));
  Insert(Token("other", "fam2", "c1", "u1", 10, 1000));
  bool first = false, second = true;
  InTx([&](Tx& tx) -> Status {
    auto a = store_->Rotate(tx, "h1", 50);
    if (!a) return Fail(a.error());
    first = *a;
    auto b = store_->Rotate(tx, "h1", 51);
    if (!b) return Fail(b.error());
    second = *b;
    return {};
  });
  EXPECT_TRUE(first);
  EXPECT_FALSE(second);
  auto rotated = Find("h1");
  EXPECT_EQ(rotated->state, "rotated");
  EXPECT_EQ(rotated->rotated_at, 50);

  RefreshToken child = Token("h2", "fam", "c1", "u1", 50, 1000);
  child.parent_hash = "h1";
  Insert(child);
  // Reuse detection revokes the family and leaves rotated_at as it was.
  InTx([&](Tx& tx) { return store_->RevokeFamily(tx, "fam", std::nullopt); });
  EXPECT_EQ(StateOf("h1"), "revoked");
  EXPECT_EQ(Find("h1")->rotated_at, 50);
  EXPECT_EQ(StateOf("h2"), "revoked");
  EXPECT_FALSE(Find("h2")->rotated_at);
  EXPECT_EQ(StateOf("other"), "active");
  bool rotated_revoked = true;
  InTx([&](Tx& tx) -> Status {
    auto r = store_->Rotate(tx, "h2", 60);
    if (!r) return Fail(r.error());
    rotated_revoked = *r;
    return {};
  });
  EXPECT_FALSE(rotated_revoked);
}

TEST_P(RefreshTokenStoreContract, RevokeFamilyAtStampsRotatedAtWhereUnset) {
  Insert(Token("h1", "fam", "c1", "u1", 10, 1000));
  Insert(Token("h2", "fam", "c1", "u1", 20, 1000));
  EXPECT_TRUE(Rotate("h1", 15));
  InTx([&](Tx& tx) { return store_->RevokeFamily(tx, "fam", 99); });
  EXPECT_EQ(Find("h1")->rotated_at, 15);
  EXPECT_EQ(Find("h2")->rotated_at, 99);
  EXPECT_EQ(StateOf("h2"), "revoked");
}

TEST_P(RefreshTokenStoreContract, ConcurrentRotationsHaveExactlyOneWinner) {
  for (int round = 0; round < 3; ++round) {
    std::string hash = "race" + std::to_string(round);
    Insert(Token(hash, "fam" + std::to_string(round), "c1", "u1", 10, 1000));
    std::atomic<int> winners{0}, errors{0};
    Race(6, [&](int i) {
      auto st = txdb().Transact("race", [&](Tx& tx) -> Status {
        auto found = store_->Find(tx, hash);
        if (!found) return Fail(found.error());
        auto r = store_->Rotate(tx, hash, 100 + i);
        if (!r) return Fail(r.error());
        if (*r) winners.fetch_add(1);
        return {};
      });
      if (!st) errors.fetch_add(1);
    });
    EXPECT_EQ(errors.load(), 0);
    EXPECT_EQ(winners.load(), 1) << "round " << round;
    EXPECT_EQ(StateOf(hash), "rotated");
  }
}

// Cases that need SQL (transactions that roll back, other tables, other instances): run on
// SQLite and PostgreSQL only.
class RefreshTokenStoreSqlContract : public RefreshTokenStoreContract {};

TEST_P(RefreshTokenStoreSqlContract, ARolledBackRotationLeavesTheTokenActive) {
  Insert(Token("h1", "fam", "c1", "u1", 10, 1000));
  auto st = db().Transact("test", [&](Tx& tx) -> Status {
    auto r = store_->Rotate(tx, "h1", 50);
    if (!r) return Fail(r.error());
    return Fail(Error::Internal("roll back"));
  });
  ASSERT_FALSE(st);
  EXPECT_EQ(StateOf("h1"), "active");
}

TEST_P(RefreshTokenStoreContract, RevokeForUserAndForUserClient) {
  Insert(Token("a", "f1", "c1", "u1", 10, 1000));
  Insert(Token("b", "f2", "c2", "u1", 10, 1000));
  Insert(Token("c", "f3", "c1", "u2", 10, 1000));
  InTx([&](Tx& tx) { return store_->RevokeForUserClient(tx, "u1", "c2", 70); });
  EXPECT_EQ(StateOf("a"), "active");
  EXPECT_EQ(StateOf("b"), "revoked");
  EXPECT_EQ(Find("b")->rotated_at, 70);
  InTx([&](Tx& tx) { return store_->RevokeForUser(tx, "u1", 80); });
  EXPECT_EQ(StateOf("a"), "revoked");
  EXPECT_EQ(Find("a")->rotated_at, 80);
  EXPECT_EQ(Find("b")->rotated_at, 70);  // already revoked: untouched
  EXPECT_EQ(StateOf("c"), "active");
}

TEST_P(RefreshTokenStoreContract, FamilyDeleteFamilyNotifies) {
  Insert(Token("a", "f1", "c1", "u1", 10, 1000));
  Insert(Token("b", "f1", "c1", "u1", 20, 1000));
  Insert(Token("c", "f2", "c1", "u1", 30, 1000));
  // Only the fake delivers notifications synchronously. A SQL backend's listener thread may
  // deliver after this test's locals are gone, so it is not subscribed here; SQL notifications
  // are covered by the store-change tests.
  std::vector<std::string> notified;
  if (IsMemory()) {
    txdb().Subscribe([&](std::string_view kind, std::string_view id) {
      if (kind == "refresh_token") notified.emplace_back(id);
    });
  }
  size_t family = 0;
  int64_t deleted = 0;
  InTx([&](Tx& tx) -> Status {
    auto f = store_->Family(tx, "f1");
    if (!f) return Fail(f.error());
    family = f->size();
    auto n = store_->DeleteFamily(tx, "f1");
    if (!n) return Fail(n.error());
    deleted = *n;
    return {};
  });
  EXPECT_EQ(family, 2u);
  EXPECT_EQ(deleted, 2);
  EXPECT_FALSE(Find("a"));
  EXPECT_FALSE(Find("b"));
  EXPECT_TRUE(Find("c"));
  if (IsMemory()) {
    EXPECT_EQ(notified, std::vector<std::string>{"f1"});
  }
}

TEST_P(RefreshTokenStoreContract, ListActiveFiltersSortsAndPages) {
  Insert(Token("h3", "f3", "c1", "steve", 5, 1000));
  Insert(Token("h2", "f2", "c1", "admin", 20, 1000));
  Insert(Token("h1", "f1", "c1", "admin", 10, 1000));
  Insert(Token("hx", "f4", "c1", "admin", 1, 99));  // expired at now = 100
  Insert(Token("hr", "f5", "c1", "stan", 1, 1000));
  EXPECT_TRUE(Rotate("hr", 50));

  auto all = store_->ListActive({}, 100, 0, 10);
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].token_hash, "h1");
  EXPECT_EQ((*all)[1].token_hash, "h2");
  EXPECT_EQ((*all)[2].token_hash, "h3");
  EXPECT_EQ(store_->CountActive({}, 100).value(), 3);
  auto st = store_->ListActive({.user_id_prefix = "st"}, 100, 0, 10);
  ASSERT_TRUE(st);
  ASSERT_EQ(st->size(), 1u);
  EXPECT_EQ((*st)[0].user_id, "steve");
  EXPECT_EQ(store_->CountActive({.user_id_prefix = "st"}, 100).value(), 1);
  auto paged = store_->ListActive({}, 100, 1, 1);
  ASSERT_TRUE(paged);
  ASSERT_EQ(paged->size(), 1u);
  EXPECT_EQ((*paged)[0].token_hash, "h2");
  // no LIKE pattern: a literal prefix
  auto lit = store_->ListActive({.user_id_prefix = "%"}, 100, 0, 10);
  ASSERT_TRUE(lit);
  EXPECT_TRUE(lit->empty());
  EXPECT_EQ(store_->CountActive({.user_id_prefix = "%"}, 100).value(), 0);
}

// The console's "by client" list: an exact client id, with or without a user prefix, paged in
// the store and counted there (not the first page filtered by the caller).
TEST_P(RefreshTokenStoreContract, ListActiveByClientPagesAndCounts) {
  for (const char* id : {"app", "app2", "ap"}) AddClient(id);
  for (int i = 0; i < 7; ++i) {
    std::string n = std::to_string(i);
    Insert(Token("a" + n, "fa" + n, "app", "user" + n, 10 + i, 1000));
    Insert(Token("b" + n, "fb" + n, "app2", "user" + n, 10 + i, 1000));
  }
  Insert(Token("ax", "fax", "app", "user9", 1, 99));    // expired at now = 100
  Insert(Token("ar", "far", "app", "user8", 1, 1000));  // rotated below
  EXPECT_TRUE(Rotate("ar", 50));
  Insert(Token("ap", "fap", "ap", "user0", 1, 1000));  // a client id that prefixes "app"

  EXPECT_EQ(store_->CountActive({.client_id = "app"}, 100).value(), 7);
  EXPECT_EQ(store_->CountActive({.client_id = "ap"}, 100).value(), 1);  // exact, not a prefix
  EXPECT_EQ(store_->CountActive({.client_id = "nobody"}, 100).value(), 0);
  EXPECT_EQ(store_->CountActive({}, 100).value(), 15);
  std::vector<std::string> seen;
  for (int64_t offset = 0; offset < 9; offset += 3) {
    auto page = store_->ListActive({.client_id = "app"}, 100, offset, 3);
    ASSERT_TRUE(page);
    EXPECT_EQ(page->size(), offset < 6 ? 3u : 1u);
    for (const auto& t : *page) {
      EXPECT_EQ(t.client_id, "app");
      seen.push_back(t.token_hash);
    }
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"a0", "a1", "a2", "a3", "a4", "a5", "a6"}));
  auto both = store_->ListActive({.user_id_prefix = "user3", .client_id = "app2"}, 100, 0, 10);
  ASSERT_TRUE(both);
  ASSERT_EQ(both->size(), 1u);
  EXPECT_EQ((*both)[0].token_hash, "b3");
  EXPECT_EQ(store_->CountActive({.user_id_prefix = "user", .client_id = "app2"}, 100).value(), 7);
}

TEST_P(RefreshTokenStoreContract, ImportKeepsExistingRowsAndStoresEmptyAsNone) {
  RefreshToken t = Token("imp", "fi", "c1", "", 10, 1000);
  t.user_type = t.roles = t.scope = "";
  bool inserted = false, again = true;
  InTx([&](Tx& tx) -> Status {
    auto a = store_->Import(tx, t);
    if (!a) return Fail(a.error());
    inserted = *a;
    RefreshToken other = t;
    other.family_id = "changed";
    auto b = store_->Import(tx, other);
    if (!b) return Fail(b.error());
    again = *b;
    return {};
  });
  EXPECT_TRUE(inserted);
  EXPECT_FALSE(again);
  auto got = Find("imp");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->family_id, "fi");
  EXPECT_EQ(got->state, "active");
  EXPECT_EQ(got->user_id, "");
  EXPECT_EQ(got->user_source, "");
  if (!IsMemory()) {
    auto nulls = db().QueryRow(
        "SELECT COUNT(*) FROM refresh_tokens WHERE token_hash = 'imp' AND user_id IS NULL"
        " AND user_type IS NULL AND roles IS NULL AND scope IS NULL AND user_source IS NULL");
    ASSERT_TRUE(nulls && *nulls);
    EXPECT_EQ((*nulls)->Int(0), 1);
  }
}

TEST_P(RefreshTokenStoreContract, DeleteForUserAndClientAndPurge) {
  Insert(Token("a", "f1", "c1", "u1", 10, 1000));
  Insert(Token("b", "f2", "c2", "u2", 10, 1000));
  Insert(Token("c", "f3", "c2", "u3", 10, 2000));
  Insert(Token("d", "f4", "c2", "u3", 10, 3000));
  InTx([&](Tx& tx) { return store_->DeleteForUser(tx, "u1"); });
  EXPECT_FALSE(Find("a"));
  InTx([&](Tx& tx) { return store_->PurgeExpired(tx, 1001); });
  EXPECT_FALSE(Find("b"));
  EXPECT_TRUE(Find("c"));
  InTx([&](Tx& tx) { return store_->DeleteForClient(tx, "c2"); });
  EXPECT_FALSE(Find("c"));
  EXPECT_FALSE(Find("d"));
}

// Ending SSO sessions ends the refresh tokens issued in them (UserAccess): one session's by its
// sid, all of a user's by any sid; tokens of sign-ins without a session stay.
TEST_P(RefreshTokenStoreContract, RevokeForUserSidAndForUserSessions) {
  auto with_sid = [](RefreshToken t, std::string sid) {
    t.sid = std::move(sid);
    return t;
  };
  Insert(with_sid(Token("a1", "fa", "c1", "u1", 10, 1000), "sid-a"));
  Insert(with_sid(Token("a2", "fa", "c1", "u1", 20, 1000), "sid-a"));  // a rotation
  Insert(with_sid(Token("b", "fb", "c2", "u1", 10, 1000), "sid-b"));
  Insert(Token("p", "fp", "c1", "u1", 10, 1000));                     // password grant: no session
  Insert(with_sid(Token("o", "fo", "c1", "u2", 10, 1000), "sid-a"));  // another user's row
  InTx([&](Tx& tx) { return store_->RevokeForUserSid(tx, "u1", "", 300); });
  EXPECT_EQ(StateOf("p"), "active");  // an empty sid matches nothing
  InTx([&](Tx& tx) { return store_->RevokeForUserSid(tx, "u1", "sid-a", 300); });
  EXPECT_EQ(StateOf("a1"), "revoked");
  EXPECT_EQ(StateOf("a2"), "revoked");
  EXPECT_EQ(Find("a2")->rotated_at, 300);
  EXPECT_EQ(StateOf("b"), "active");
  EXPECT_EQ(StateOf("p"), "active");
  EXPECT_EQ(StateOf("o"), "active");
  InTx([&](Tx& tx) { return store_->RevokeForUserSessions(tx, "u1", 400); });
  EXPECT_EQ(StateOf("b"), "revoked");
  EXPECT_EQ(Find("b")->rotated_at, 400);
  EXPECT_EQ(Find("a2")->rotated_at, 300);  // already revoked: unchanged
  EXPECT_EQ(StateOf("p"), "active");
  EXPECT_EQ(StateOf("o"), "active");
}

// GrantRevocation over the SQL stores, in the caller's transaction: a rolled-back change keeps
// every grant; a committed one revokes the user's tokens, expires their codes and ends their
// sessions.
TEST_P(RefreshTokenStoreSqlContract, GrantRevocationOverTheSqlStores) {
  SqlAuthCodeStore codes(db());
  SqlSessionStore session_store(db());
  SqlDeviceGrantStore devices(db());
  oauth::GrantRevocation revocation(*store_, codes, session_store, devices);
  Insert(Token("a", "f1", "c1", "u1", 10, 1000));
  Insert(Token("b", "f2", "c1", "u2", 10, 1000));
  oauth::AuthCode code;
  code.code_hash = "code1";
  code.client_id = "c1";
  code.user_id = "u1";
  code.expires_at = 1000;
  ASSERT_TRUE(codes.Insert(code));
  ASSERT_TRUE(
      db().Exec("INSERT INTO sso_sessions (session_hash, user_id, created_at, expires_at)"
                " VALUES ('s1', 'u1', 1, 1000), ('s2', 'u2', 1, 1000)"));
  auto sessions = [&] {
    auto r = db().QueryRow("SELECT COUNT(*) FROM sso_sessions");
    return r && *r ? (*r)->Int(0) : -1;
  };
  auto rolled_back = db().Transact("test", [&](Tx& tx) -> Status {
    if (auto s = revocation.RevokeUserGrants(tx, "u1", 500); !s) return s;
    return Fail(Error::Internal("roll back"));
  });
  ASSERT_FALSE(rolled_back);
  EXPECT_EQ(StateOf("a"), "active");
  EXPECT_EQ(sessions(), 2);

  InTx([&](Tx& tx) { return revocation.RevokeUserGrants(tx, "u1", 500); });
  EXPECT_EQ(StateOf("a"), "revoked");
  EXPECT_EQ(Find("a")->rotated_at, 500);
  EXPECT_EQ(StateOf("b"), "active");
  EXPECT_EQ(sessions(), 1);
  std::optional<oauth::AuthCodeState> state;
  InTx([&](Tx& tx) -> Status {
    auto r = codes.Find(tx, "code1");
    if (!r) return Fail(r.error());
    state = *r;
    return {};
  });
  ASSERT_TRUE(state);
  EXPECT_EQ(state->expires_at, 500);
}

PORTCULLIS_INSTANTIATE_TOKEN_STATE(RefreshTokenStoreContract);
PORTCULLIS_INSTANTIATE_BACKENDS(RefreshTokenStoreSqlContract);

}  // namespace
}  // namespace portcullis::store
