// The store contract suite: one set of tests that every backend must pass. It always runs on
// SQLite (a temporary file) and on PostgreSQL when PORTCULLIS_TEST_PG_URL is set, e.g.
//   export PORTCULLIS_TEST_PG_URL=$(scripts/pg.sh start /tmp/pc-pg)
// Each PostgreSQL test works in a schema of its own, so test processes can share a server.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <latch>
#include <memory>
#include <mutex>
#include <random>
#include <thread>

#include "store/db.h"
#include "store/test_env.h"

namespace portcullis::store {
namespace {

using namespace std::chrono_literals;

constexpr int64_t kNow = 1'700'000'000;

std::string RandomSuffix() {
  static std::atomic<int> counter{0};
  std::random_device rd;
  return std::to_string(::getpid()) + "_" + std::to_string(counter++) + "_" +
         std::to_string(rd() % 1000000);
}

// Collects the notes a subscriber receives, and waits for them without sleeping. The state lives as
// long as any subscriber made by Fn(): a store's listener thread may still deliver after the test
// body, and the Collector on its stack, are gone (the store outlives them until TearDown).
class Collector {
 public:
  Database::Subscriber Fn() {
    return [state = state_](std::string_view kind, std::string_view id) {
      std::lock_guard lock(state->mu);
      state->seen.emplace_back(std::string(kind), std::string(id));
      state->cv.notify_all();
    };
  }
  bool WaitFor(std::string_view kind, std::string_view id, std::chrono::seconds timeout = 15s) {
    std::unique_lock lock(state_->mu);
    return state_->cv.wait_for(lock, timeout, [&] { return HasLocked(kind, id); });
  }
  bool Has(std::string_view kind, std::string_view id) {
    std::lock_guard lock(state_->mu);
    return HasLocked(kind, id);
  }
  int Count(std::string_view kind, std::string_view id) {
    std::lock_guard lock(state_->mu);
    int n = 0;
    for (const auto& [k, i] : state_->seen) n += k == kind && i == id;
    return n;
  }

 private:
  struct State {
    std::mutex mu;
    std::condition_variable cv;
    std::vector<std::pair<std::string, std::string>> seen;
  };

  bool HasLocked(std::string_view kind, std::string_view id) const {
    for (const auto& [k, i] : state_->seen) {
      if (k == kind && i == id) return true;
    }
    return false;
  }

  std::shared_ptr<State> state_ = std::make_shared<State>();
};

// Where a backend keeps isolated databases: files in a temp dir for SQLite, schemas for
// PostgreSQL.
class StoreContract : public ::testing::TestWithParam<std::string> {
 protected:
  bool IsPostgres() const { return GetParam() == "postgres"; }

  void SetUp() override {
    if (IsPostgres()) {
      PORTCULLIS_PG_URL_OR_SKIP(pg_base_);
      auto admin = OpenDatabase(pg_base_);
      ASSERT_TRUE(admin) << admin.error().detail;
      admin_ = std::move(*admin);
    } else {
      dir_ = std::filesystem::temp_directory_path() / ("pc_store_test_" + RandomSuffix());
      std::filesystem::create_directories(dir_);
    }
    options_.application_name = "pc_test_" + RandomSuffix();
    url_ = NewLocation();
    auto db = OpenDatabase(url_, options_);
    ASSERT_TRUE(db) << db.error().detail;
    db_ = std::move(*db);
    auto n = db_->Migrate();
    ASSERT_TRUE(n) << n.error().detail;
  }

  void TearDown() override {
    db_.reset();
    if (admin_) {
      for (const auto& schema : schemas_) {
        auto r = admin_->Exec("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
        EXPECT_TRUE(r) << r.error().detail;
      }
    }
    if (!dir_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    }
  }

  // A URL for a new, empty database.
  std::string NewLocation() {
    if (!IsPostgres()) return "sqlite:" + (dir_ / ("db_" + RandomSuffix() + ".sqlite")).string();
    std::string schema = "pc_test_" + RandomSuffix();
    auto r = admin_->Exec("CREATE SCHEMA " + schema);
    EXPECT_TRUE(r) << r.error().detail;
    schemas_.push_back(schema);
    return pg_base_ + (pg_base_.find('?') == std::string::npos ? "?" : "&") +
           "options=-csearch_path%3D" + schema;
  }

  std::unique_ptr<Database> Open(const std::string& url, Options o) {
    auto db = OpenDatabase(url, o);
    EXPECT_TRUE(db) << db.error().detail;
    return db ? std::move(*db) : nullptr;
  }

  Result<int64_t> InsertClient(Database& db, const std::string& id) {
    return db.Exec(
        "INSERT INTO clients (client_id, client_type, client_profile, client_name, owner_id, "
        "host, created_at, updated_at) VALUES ($1, 'confidential', 'service', $2, 'admin', "
        "'lightapi.net', $3, $3)",
        {id, "client " + id, kNow});
  }

  Result<int64_t> InsertCode(Database& db, const std::string& hash, const std::string& client) {
    return db.Exec(
        "INSERT INTO auth_codes (code_hash, client_id, user_id, scope, created_at, expires_at) "
        "VALUES ($1, $2, 'alice', 'openid', $3, $4)",
        {hash, client, kNow, kNow + 600});
  }

  int64_t Count(std::string_view table, std::string_view where = "1 = 1",
                std::initializer_list<Param> params = {}) {
    auto row = db_->QueryRow(
        "SELECT count(*) FROM " + std::string(table) + " WHERE " + std::string(where), params);
    EXPECT_TRUE(row) << row.error().detail;
    return row && *row ? (*row)->Int(0) : -1;
  }

  std::filesystem::path dir_;
  std::string pg_base_;
  std::unique_ptr<Database> admin_;
  std::vector<std::string> schemas_;
  Options options_;
  std::string url_;
  std::unique_ptr<Database> db_;
};

TEST_P(StoreContract, MigrateIsIdempotentAndVersioned) {
  const int latest = db_->LatestSchemaVersion();
  EXPECT_GE(latest, 1);
  EXPECT_EQ(db_->SchemaVersion().value(), latest);
  auto again = db_->Migrate();
  ASSERT_TRUE(again) << again.error().detail;
  EXPECT_EQ(*again, 0);
  EXPECT_EQ(db_->SchemaVersion().value(), latest);
  auto row = db_->QueryRow("SELECT name, applied_at FROM schema_migrations WHERE version = 1");
  ASSERT_TRUE(row && *row);
  EXPECT_EQ((*row)->Str(0), "0001_initial");
  EXPECT_GT((*row)->Int(1), 0);
  EXPECT_EQ(db_->dialect(), IsPostgres() ? Dialect::kPostgres : Dialect::kSqlite);
  EXPECT_TRUE(db_->Ping());
}

TEST_P(StoreContract, FreshDatabaseIsVersionZeroAndMigratesFully) {
  auto fresh = Open(NewLocation(), options_);
  ASSERT_TRUE(fresh);
  EXPECT_EQ(fresh->SchemaVersion().value(), 0);
  auto n = fresh->Migrate();
  ASSERT_TRUE(n) << n.error().detail;
  EXPECT_EQ(*n, fresh->LatestSchemaVersion());
  EXPECT_EQ(fresh->SchemaVersion().value(), fresh->LatestSchemaVersion());
}

TEST_P(StoreContract, ConcurrentMigrateAppliesEachMigrationOnce) {
  const std::string url = NewLocation();
  constexpr int kInstances = 4;
  std::vector<std::unique_ptr<Database>> dbs;
  for (int i = 0; i < kInstances; ++i) dbs.push_back(Open(url, options_));
  std::vector<Result<int>> results(kInstances);
  std::latch start(kInstances);
  std::vector<std::thread> threads;
  for (int i = 0; i < kInstances; ++i) {
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      results[i] = dbs[i]->Migrate();
    });
  }
  for (auto& t : threads) t.join();
  int total = 0;
  for (auto& r : results) {
    ASSERT_TRUE(r) << r.error().detail;
    total += *r;
  }
  EXPECT_EQ(total, dbs[0]->LatestSchemaVersion());
  EXPECT_EQ(dbs[0]->SchemaVersion().value(), dbs[0]->LatestSchemaVersion());
}

TEST_P(StoreContract, RoundTripsNullsUnicodeAndSqlMetacharacters) {
  const std::string nasty = "O'Brien\"; DROP TABLE users; -- $1 ?1 ? %s \\ \t\n end";
  const std::string unicode = "Jöhn Dœ 测试 🚀 مرحبا";
  const std::string email = "jöhn.dœ+测试@例え.jp";
  auto ins = db_->Exec(
      "INSERT INTO users (user_id, user_type, first_name, last_name, email, password_hash, "
      "roles, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
      {Text("u-1"), Text("customer"), Null(), nasty, email, unicode, OptText(std::nullopt),
       int64_t{-5}, std::numeric_limits<int64_t>::max()});
  ASSERT_TRUE(ins) << ins.error().detail;
  EXPECT_EQ(*ins, 1);

  auto row = db_->QueryRow(
      "SELECT user_id, first_name, last_name, email, password_hash, roles, created_at, "
      "updated_at FROM users WHERE email = $1",
      {email});
  ASSERT_TRUE(row) << row.error().detail;
  ASSERT_TRUE(row->has_value());
  const Row& r = **row;
  EXPECT_EQ(r.size(), 8u);
  EXPECT_EQ(r.Str(0), "u-1");
  EXPECT_TRUE(r.IsNull(1));
  EXPECT_EQ(r.Text(1), std::nullopt);
  EXPECT_EQ(r.Str(1), "");
  EXPECT_EQ(r.Str(2), nasty);
  EXPECT_EQ(r.Str(3), email);
  EXPECT_EQ(r.Str(4), unicode);
  EXPECT_TRUE(r.IsNull(5));
  EXPECT_EQ(r.Int(6), -5);
  EXPECT_EQ(r.Int(7), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(Count("users"), 1);
  // The nasty text was data, not SQL.
  EXPECT_EQ(Count("users", "last_name = $1", {nasty}), 1);
}

TEST_P(StoreContract, CrudReportsAffectedRows) {
  ASSERT_TRUE(InsertClient(*db_, "c1"));
  ASSERT_TRUE(InsertClient(*db_, "c2"));
  auto row = db_->QueryRow(
      "SELECT client_id, secret_hash, token_profile, auth_method, access_token_ttl FROM clients "
      "WHERE client_id = $1",
      {Text("c1")});
  ASSERT_TRUE(row && *row);
  EXPECT_TRUE((*row)->IsNull(1));
  EXPECT_EQ((*row)->Str(2), "rfc9068");
  EXPECT_EQ((*row)->Str(3), "client_secret_basic");
  EXPECT_EQ((*row)->OptInt(4), std::nullopt);

  auto upd = db_->Exec("UPDATE clients SET scope = $2, access_token_ttl = $3 WHERE client_id = $1",
                       {Text("c1"), Text("a.r b.w"), Int(300)});
  ASSERT_TRUE(upd) << upd.error().detail;
  EXPECT_EQ(*upd, 1);
  auto none = db_->Exec("UPDATE clients SET scope = 'x' WHERE client_id = $1", {Text("nope")});
  ASSERT_TRUE(none);
  EXPECT_EQ(*none, 0);
  auto all = db_->Exec("UPDATE clients SET updated_at = $1", {kNow + 1});
  ASSERT_TRUE(all);
  EXPECT_EQ(*all, 2);

  auto rows = db_->Query("SELECT client_id, access_token_ttl FROM clients ORDER BY client_id");
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].Int(1), 300);
  EXPECT_EQ((*rows)[1].OptInt(1), std::nullopt);

  auto missing = db_->QueryRow("SELECT 1 FROM clients WHERE client_id = $1", {Text("nope")});
  ASSERT_TRUE(missing);
  EXPECT_FALSE(missing->has_value());

  auto del = db_->Exec("DELETE FROM clients WHERE client_id = $1", {Text("c2")});
  ASSERT_TRUE(del);
  EXPECT_EQ(*del, 1);
  EXPECT_EQ(Count("clients"), 1);

  // RETURNING, and an autoincrement key.
  auto id1 = db_->QueryRow(
      "INSERT INTO audit_log (at, actor, action, entity_kind, entity_id) VALUES ($1, $2, $3, "
      "$4, $5) RETURNING id",
      {kNow, Text("admin"), Text("client.delete"), Text("client"), Text("c2")});
  auto id2 = db_->QueryRow("INSERT INTO audit_log (at, action) VALUES ($1, $2) RETURNING id",
                           {kNow, Text("x")});
  ASSERT_TRUE(id1 && *id1 && id2 && *id2);
  EXPECT_GT((*id2)->Int(0), (*id1)->Int(0));
}

TEST_P(StoreContract, PlaceholdersMayRepeatAndComeInAnyOrder) {
  auto rows = db_->Query("SELECT $2, $1, $2, '$1', $3", {Text("one"), Text("two"), Int(3)});
  ASSERT_TRUE(rows) << rows.error().detail;
  ASSERT_EQ(rows->size(), 1u);
  const Row& r = (*rows)[0];
  EXPECT_EQ(r.Str(0), "two");
  EXPECT_EQ(r.Str(1), "one");
  EXPECT_EQ(r.Str(2), "two");
  EXPECT_EQ(r.Str(3), "$1");
  EXPECT_EQ(r.Int(4), 3);

  std::vector<Param> many;
  for (int i = 1; i <= 12; ++i) many.emplace_back(std::to_string(i));
  // PostgreSQL infers each parameter's type from its use, so every one must appear.
  auto wide = db_->QueryRow("SELECT $12, $10, $1, $2, $3, $4, $5, $6, $7, $8, $9, $11", many);
  ASSERT_TRUE(wide) << wide.error().detail;
  EXPECT_EQ((**wide).Str(0), "12");
  EXPECT_EQ((**wide).Str(1), "10");
  EXPECT_EQ((**wide).Str(2), "1");

  // The same SQL text again (SQLite: from the statement cache) with other values.
  ASSERT_TRUE(InsertClient(*db_, "p1"));
  ASSERT_TRUE(InsertClient(*db_, "p2"));
  for (const char* id : {"p1", "p2", "p1"}) {
    auto row = db_->QueryRow("SELECT client_name FROM clients WHERE client_id = $1 AND $1 = $1",
                             {Text(id)});
    ASSERT_TRUE(row && *row);
    EXPECT_EQ((**row).Str(0), std::string("client ") + id);
  }
}

TEST_P(StoreContract, WrongParameterCountIsAnError) {
  auto r = db_->Query("SELECT $1, $2", {Text("only one")});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().http_status, 500);
  EXPECT_FALSE(r.error().detail.empty());
  EXPECT_TRUE(db_->Ping());
}

TEST_P(StoreContract, BadSqlIsInternalWithDetailOnly) {
  auto r = db_->Query("SELECT nope FROM no_such_table");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().http_status, 500);
  EXPECT_NE(r.error().detail.find("no_such_table"), std::string::npos);
  EXPECT_EQ(r.error().description.find("no_such_table"), std::string::npos);
}

TEST_P(StoreContract, FailedTransactionLeavesNothing) {
  auto st = db_->Transact([&](Tx& tx) -> Status {
    auto a = tx.Exec(
        "INSERT INTO clients (client_id, client_type, client_profile, client_name, owner_id, "
        "host, created_at, updated_at) VALUES ($1, 'public', 'mobile', 'n', 'o', 'h', 1, 1)",
        {Text("tx1")});
    if (!a) return Fail(a.error());
    auto seen = tx.QueryRow("SELECT count(*) FROM clients WHERE client_id = 'tx1'");
    EXPECT_EQ((**seen).Int(0), 1);  // visible inside the transaction
    return Fail(Error::Status("ERR12014"));
  });
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, "ERR12014");  // the function's own error comes back unchanged
  EXPECT_EQ(Count("clients"), 0);

  // A statement failing half-way rolls back the statements before it.
  ASSERT_TRUE(InsertClient(*db_, "dup"));
  st = db_->Transact([&](Tx& tx) -> Status {
    auto a = tx.Exec("UPDATE clients SET client_name = 'changed' WHERE client_id = 'dup'");
    if (!a) return Fail(a.error());
    auto b = tx.Exec(
        "INSERT INTO clients (client_id, client_type, client_profile, client_name, owner_id, "
        "host, created_at, updated_at) VALUES ('dup', 'public', 'mobile', 'n', 'o', 'h', 1, 1)");
    if (!b) return Fail(b.error());
    return {};
  });
  ASSERT_FALSE(st);
  EXPECT_TRUE(IsUniqueViolation(st.error()));
  EXPECT_EQ(Count("clients", "client_name = 'client dup'"), 1);

  // An exception thrown by the function rolls back too, and the connection stays usable.
  EXPECT_THROW((void)db_->Transact([&](Tx& tx) -> Status {
    (void)tx.Exec("DELETE FROM clients");
    throw std::runtime_error("boom");
  }),
               std::runtime_error);
  EXPECT_EQ(Count("clients"), 1);

  // A successful transaction commits.
  st = db_->Transact("client.rename", [&](Tx& tx) -> Status {
    auto a = tx.Exec("UPDATE clients SET client_name = 'renamed' WHERE client_id = 'dup'");
    if (!a) return Fail(a.error());
    return {};
  });
  ASSERT_TRUE(st) << st.error().detail;
  EXPECT_EQ(Count("clients", "client_name = 'renamed'"), 1);

  auto value = db_->TransactValue<std::string>("client.name", [](Tx& tx) -> Result<std::string> {
    auto row = tx.QueryRow("SELECT client_name FROM clients WHERE client_id = 'dup'");
    if (!row) return Fail(row.error());
    return (**row).Str(0);
  });
  ASSERT_TRUE(value);
  EXPECT_EQ(*value, "renamed");
}

TEST_P(StoreContract, UniqueViolationsAreRecognisedWithTheirKey) {
  ASSERT_TRUE(InsertClient(*db_, "c1"));
  auto dup = InsertClient(*db_, "c1");
  ASSERT_FALSE(dup);
  EXPECT_TRUE(IsUniqueViolation(dup.error()));
  EXPECT_FALSE(IsForeignKeyViolation(dup.error()));
  EXPECT_EQ(dup.error().http_status, 409);
  EXPECT_EQ(ViolatedKey(dup.error()), "clients(client_id)");

  auto user = [&](const std::string& id, const std::string& email) {
    return db_->Exec(
        "INSERT INTO users (user_id, user_type, email, password_hash, created_at, updated_at) "
        "VALUES ($1, 'admin', $2, 'h', 1, 1)",
        {id, email});
  };
  ASSERT_TRUE(user("u1", "a@x.org"));
  auto same_email = user("u2", "a@x.org");
  ASSERT_FALSE(same_email);
  EXPECT_TRUE(IsUniqueViolation(same_email.error()));
  EXPECT_EQ(ViolatedKey(same_email.error()), "users(email)");
  // The value itself stays out of the error entirely.
  EXPECT_EQ(same_email.error().detail.find("a@x.org"), std::string::npos);
  EXPECT_EQ(same_email.error().description.find("a@x.org"), std::string::npos);

  ASSERT_TRUE(
      db_->Exec("INSERT INTO services (service_id, service_type, service_name, owner_id, "
                "host, created_at, updated_at) VALUES ('s1', 'openapi', 'S', 'o', 'h', "
                "1, 1)"));
  ASSERT_TRUE(
      db_->Exec("INSERT INTO service_endpoints (service_id, endpoint, operation, scope) VALUES "
                "('s1', '/v1/data@get', 'getData', 'data.r')"));
  auto dup_ep = db_->Exec(
      "INSERT INTO service_endpoints (service_id, endpoint, operation, scope) VALUES "
      "('s1', '/v1/data@get', 'other', 'data.w')");
  ASSERT_FALSE(dup_ep);
  EXPECT_EQ(ViolatedKey(dup_ep.error()), "service_endpoints(service_id, endpoint)");

  // ON CONFLICT is the non-failing way.
  auto upsert = db_->Exec(
      "INSERT INTO service_endpoints (service_id, endpoint, operation, scope) VALUES "
      "('s1', '/v1/data@get', 'other', 'data.w') ON CONFLICT (service_id, endpoint) "
      "DO UPDATE SET operation = excluded.operation");
  ASSERT_TRUE(upsert) << upsert.error().detail;
  EXPECT_EQ(Count("service_endpoints", "operation = 'other'"), 1);
}

TEST_P(StoreContract, ForeignKeyViolationsAreRecognised) {
  auto orphan = InsertCode(*db_, "code-1", "no-such-client");
  ASSERT_FALSE(orphan);
  EXPECT_TRUE(IsForeignKeyViolation(orphan.error()));
  EXPECT_FALSE(IsUniqueViolation(orphan.error()));
  auto link = db_->Exec(
      "INSERT INTO client_endpoints (client_id, service_id, endpoint) VALUES ('x', 'y', 'z')");
  ASSERT_FALSE(link);
  EXPECT_TRUE(IsForeignKeyViolation(link.error()));
}

TEST_P(StoreContract, DeletesCascade) {
  ASSERT_TRUE(InsertClient(*db_, "c1"));
  ASSERT_TRUE(InsertClient(*db_, "c2"));
  ASSERT_TRUE(
      db_->Exec("INSERT INTO services (service_id, service_type, service_name, owner_id, "
                "host, created_at, updated_at) VALUES ('s1', 'openapi', 'S', 'o', 'h', "
                "1, 1)"));
  for (const char* ep : {"/a@get", "/b@post"}) {
    ASSERT_TRUE(
        db_->Exec("INSERT INTO service_endpoints (service_id, endpoint, operation, scope) "
                  "VALUES ('s1', $1, 'op', 's.r')",
                  {Text(ep)}));
    for (const char* c : {"c1", "c2"}) {
      ASSERT_TRUE(db_->Exec(
          "INSERT INTO client_endpoints (client_id, service_id, endpoint) VALUES ($1, 's1', $2)",
          {Text(c), Text(ep)}));
    }
  }
  ASSERT_TRUE(InsertCode(*db_, "code-1", "c1"));
  ASSERT_TRUE(db_->Exec(
      "INSERT INTO refresh_tokens (token_hash, family_id, client_id, user_id, scope, created_at, "
      "expires_at) VALUES ('rt-1', 'fam-1', 'c1', 'alice', 's.r', $1, $2)",
      {kNow, kNow + 86400}));
  ASSERT_TRUE(db_->Exec(
      "INSERT INTO consents (user_id, client_id, scope, created_at) VALUES ('alice', 'c1', 's.r', "
      "$1)",
      {kNow}));
  EXPECT_EQ(Count("client_endpoints"), 4);

  // Deleting an endpoint drops its client links; deleting the service drops the rest.
  ASSERT_EQ(db_->Exec("DELETE FROM service_endpoints WHERE endpoint = '/a@get'").value(), 1);
  EXPECT_EQ(Count("client_endpoints"), 2);
  ASSERT_EQ(db_->Exec("DELETE FROM services WHERE service_id = 's1'").value(), 1);
  EXPECT_EQ(Count("service_endpoints"), 0);
  EXPECT_EQ(Count("client_endpoints"), 0);

  // Deleting a client drops its codes, refresh tokens and consents, and nothing else.
  ASSERT_EQ(db_->Exec("DELETE FROM clients WHERE client_id = 'c1'").value(), 1);
  EXPECT_EQ(Count("auth_codes"), 0);
  EXPECT_EQ(Count("refresh_tokens"), 0);
  EXPECT_EQ(Count("consents"), 0);
  EXPECT_EQ(Count("clients"), 1);
}

TEST_P(StoreContract, CheckConstraintsHold) {
  auto bad_type = db_->Exec(
      "INSERT INTO clients (client_id, client_type, client_profile, client_name, owner_id, host, "
      "created_at, updated_at) VALUES ('c', 'superuser', 'p', 'n', 'o', 'h', 1, 1)");
  ASSERT_FALSE(bad_type);
  EXPECT_FALSE(IsUniqueViolation(bad_type.error()));
  auto null_required = db_->Exec(
      "INSERT INTO clients (client_id, client_type, client_profile, client_name, owner_id, host, "
      "created_at, updated_at) VALUES ('c', 'public', 'p', NULL, 'o', 'h', 1, 1)");
  ASSERT_FALSE(null_required);
  auto long_provider = db_->Exec(
      "INSERT INTO providers (provider_id, server_url, uri) VALUES ('abc', 'https://x', '/k')");
  ASSERT_FALSE(long_provider);
  EXPECT_EQ(Count("clients"), 0);
}

TEST_P(StoreContract, ConcurrentRedemptionHasExactlyOneWinner) {
  ASSERT_TRUE(InsertClient(*db_, "c1"));
  constexpr int kCodes = 10;
  constexpr int kThreads = 8;
  for (int c = 0; c < kCodes; ++c) {
    const std::string hash = "code-" + std::to_string(c);
    ASSERT_TRUE(InsertCode(*db_, hash, "c1"));
    std::atomic<int> winners{0};
    std::atomic<int> errors{0};
    std::latch start(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        start.arrive_and_wait();
        auto rows = db_->Query(
            "UPDATE auth_codes SET consumed_at = $2 WHERE code_hash = $1 AND consumed_at IS NULL "
            "RETURNING user_id, scope, family_id",
            {hash, kNow + t});
        if (!rows) {
          ++errors;
          ADD_FAILURE() << rows.error().detail;
        } else {
          winners += static_cast<int>(rows->size());
          for (const Row& r : *rows) EXPECT_EQ(r.Str(0), "alice");
        }
      });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(errors.load(), 0);
    EXPECT_EQ(winners.load(), 1) << hash;
  }
  EXPECT_EQ(Count("auth_codes", "consumed_at IS NULL"), 0);
}

TEST_P(StoreContract, ConcurrentTransactionsAllCommit) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 15;
  std::latch start(kThreads);
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      start.arrive_and_wait();
      for (int i = 0; i < kPerThread; ++i) {
        auto st = db_->Transact([&](Tx& tx) -> Status {
          // Read-then-write in one transaction: the writers must queue, not fail.
          auto n = tx.QueryRow("SELECT count(*) FROM revoked_tokens");
          if (!n) return Fail(n.error());
          auto r = tx.Exec("INSERT INTO revoked_tokens (jti, expires_at) VALUES ($1, $2)",
                           {std::to_string(t) + "-" + std::to_string(i), (**n).Int(0)});
          if (!r) return Fail(r.error());
          return {};
        });
        if (!st) {
          ++failures;
          ADD_FAILURE() << st.error().detail;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(Count("revoked_tokens"), kThreads * kPerThread);
}

TEST_P(StoreContract, ExhaustedPoolFailsWithUnavailable) {
  Options o = options_;
  o.pool_size = 1;
  o.acquire_timeout_ms = 100;
  auto db = Open(url_, o);
  ASSERT_TRUE(db);
  auto st = db->Transact([&](Tx&) -> Status {
    // Don't do this in real code: the only connection is held by this transaction.
    auto nested = db->Query("SELECT 1");
    EXPECT_FALSE(nested);
    if (!nested) {
      EXPECT_EQ(nested.error().http_status, 503);
      EXPECT_NE(nested.error().detail.find("waiting for a database connection"), std::string::npos);
    }
    return {};
  });
  EXPECT_TRUE(st);
  EXPECT_TRUE(db->Ping());
}

TEST_P(StoreContract, ObserverSeesEveryCall) {
  std::mutex mu;
  std::vector<std::tuple<std::string, double, bool>> calls;
  db_->SetObserver([&](std::string_view op, double seconds, bool ok) {
    std::lock_guard lock(mu);
    calls.emplace_back(std::string(op), seconds, ok);
  });
  ASSERT_TRUE(db_->Query("SELECT 1"));
  ASSERT_TRUE(db_->Transact("client.get", [](Tx&) -> Status { return {}; }));
  ASSERT_FALSE(db_->Exec("DELETE FROM no_such_table"));
  db_->SetObserver(nullptr);
  ASSERT_TRUE(db_->Ping());
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_EQ(std::get<0>(calls[0]), "query");
  EXPECT_TRUE(std::get<2>(calls[0]));
  EXPECT_GE(std::get<1>(calls[0]), 0.0);
  EXPECT_EQ(std::get<0>(calls[1]), "client.get");
  EXPECT_EQ(std::get<0>(calls[2]), "exec");
  EXPECT_FALSE(std::get<2>(calls[2]));
}

TEST_P(StoreContract, NotificationsArriveAfterCommitOnly) {
  // PostgreSQL: from one instance to another. SQLite: within the process.
  std::unique_ptr<Database> other_owner;
  Database* listener = db_.get();
  if (IsPostgres()) {
    other_owner = Open(url_, options_);
    ASSERT_TRUE(other_owner);
    listener = other_owner.get();
  }
  Collector seen;
  listener->Subscribe(seen.Fn());
  const std::string tag = RandomSuffix();

  auto rolled_back = db_->Transact([&](Tx& tx) -> Status {
    if (auto st = tx.Notify("client", "rb-" + tag); !st) return st;
    return Fail(Error::Internal("abort"));
  });
  ASSERT_FALSE(rolled_back);

  auto st = db_->Transact([&](Tx& tx) -> Status {
    if (auto n = tx.Notify("client", "c:" + tag); !n) return n;
    if (!IsPostgres()) {
      EXPECT_FALSE(seen.Has("client", "c:" + tag));  // not before commit
    }
    return {};
  });
  ASSERT_TRUE(st) << st.error().detail;
  ASSERT_TRUE(seen.WaitFor("client", "c:" + tag));
  ASSERT_TRUE(db_->Notify("service", "s-" + tag));
  ASSERT_TRUE(seen.WaitFor("service", "s-" + tag));
  // Notifications are delivered in commit order, so the rolled-back one would be here by now.
  EXPECT_FALSE(seen.Has("client", "rb-" + tag));

  EXPECT_FALSE(db_->Notify("bad:kind", "x"));
}

// Another process on the same store (on SQLite: the CLI writing the file a server reads) sees
// committed changes without restarting; rolled-back ones never arrive, and on SQLite a Database
// does not get its own changes twice (once in-process, once from the change log).
TEST_P(StoreContract, NotificationsReachOtherInstancesOnTheSameStore) {
  auto listener = Open(url_, options_);
  ASSERT_TRUE(listener);
  Collector other, own;
  listener->Subscribe(other.Fn());
  db_->Subscribe(own.Fn());
  const std::string tag = RandomSuffix();

  ASSERT_FALSE(db_->Transact([&](Tx& tx) -> Status {
    if (auto st = tx.Notify("client", "rb-" + tag); !st) return st;
    return Fail(Error::Internal("abort"));
  }));
  ASSERT_TRUE(db_->Transact([&](Tx& tx) { return tx.Notify("client", "c-" + tag); }));
  ASSERT_TRUE(db_->Notify("key", "k-" + tag));
  ASSERT_TRUE(other.WaitFor("client", "c-" + tag));
  ASSERT_TRUE(other.WaitFor("key", "k-" + tag));
  EXPECT_FALSE(other.Has("client", "rb-" + tag));

  // And back: the writer hears the listener's changes.
  ASSERT_TRUE(listener->Notify("service", "s-" + tag));
  ASSERT_TRUE(own.WaitFor("service", "s-" + tag));
  // Everything written before the listener's note has been read by now: db_'s own notes were
  // delivered exactly once.
  EXPECT_EQ(own.Count("client", "c-" + tag), 1);
  EXPECT_EQ(own.Count("key", "k-" + tag), 1);
}

// --- PostgreSQL only ---

class PostgresContract : public StoreContract {
 protected:
  void SetUp() override {
    if (!IsPostgres()) GTEST_SKIP() << "PostgreSQL only";
    StoreContract::SetUp();
  }
  // Terminates this test's connections named `app`, waiting until they are gone.
  int64_t Terminate(const std::string& app) {
    auto rows = admin_->Query(
        "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE application_name = "
        "$1 AND pid <> pg_backend_pid()",
        {app});
    EXPECT_TRUE(rows) << rows.error().detail;
    return rows ? static_cast<int64_t>(rows->size()) : 0;
  }
};

TEST_P(PostgresContract, ReconnectsAfterIdleConnectionsAreKilled) {
  ASSERT_TRUE(db_->Ping());
  EXPECT_GE(Terminate(options_.application_name), 1);
  // The dead idle connection is noticed before use and replaced: no error at all.
  auto r = db_->Query("SELECT 1");
  ASSERT_TRUE(r) << r.error().detail;
  ASSERT_TRUE(db_->Transact([](Tx& tx) -> Status {
    auto q = tx.Query("SELECT 1");
    if (!q) return Fail(q.error());
    return {};
  }));
}

TEST_P(PostgresContract, ConnectionKilledMidTransactionIsUnavailableThenRecovers) {
  ASSERT_TRUE(InsertClient(*db_, "c1"));
  auto st = db_->Transact([&](Tx& tx) -> Status {
    auto del = tx.Exec("DELETE FROM clients");
    if (!del) return Fail(del.error());
    auto pid = tx.QueryRow("SELECT pg_backend_pid()");
    if (!pid) return Fail(pid.error());
    auto killed = admin_->Query("SELECT pg_terminate_backend($1::int, 5000)", {(**pid).Int(0)});
    EXPECT_TRUE(killed);
    auto q = tx.Query("SELECT 1");
    if (!q) return Fail(q.error());
    return {};
  });
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().http_status, 503);
  EXPECT_NE(st.error().detail.find("connection lost"), std::string::npos) << st.error().detail;
  // The delete died with the connection; the next call reconnects.
  EXPECT_EQ(Count("clients"), 1);
  EXPECT_TRUE(db_->Ping());
}

TEST_P(PostgresContract, ListenerReconnectsAndAsksForAFullReload) {
  Collector seen;
  db_->Subscribe(seen.Fn());
  EXPECT_EQ(Terminate(options_.application_name + "-listen"), 1);
  ASSERT_TRUE(seen.WaitFor("*", ""));
  const std::string tag = RandomSuffix();
  ASSERT_TRUE(db_->Notify("key", tag));
  ASSERT_TRUE(seen.WaitFor("key", tag));
}

TEST_P(PostgresContract, OpenNamesAMissingDatabase) {
  std::string url = pg_base_.substr(0, pg_base_.rfind('/')) + "/no_such_db_" + RandomSuffix();
  auto db = OpenDatabase(url);
  ASSERT_FALSE(db);
  EXPECT_NE(db.error().description.find("cannot connect to PostgreSQL at "), std::string::npos);
  EXPECT_NE(db.error().description.find("database \"no_such_db_"), std::string::npos)
      << db.error().description;
  EXPECT_EQ(db.error().description.find("FATAL"), std::string::npos);
}

TEST_P(PostgresContract, SerializationFailuresAreRetried) {
  int attempts = 0;
  auto st = db_->Transact([&](Tx& tx) -> Status {
    ++attempts;
    if (attempts == 1) {
      auto r = tx.Exec(
          "DO $$ BEGIN RAISE EXCEPTION 'forced' USING ERRCODE = 'serialization_failure'; END $$");
      if (!r) return Fail(r.error());
    }
    auto r = tx.Exec("INSERT INTO revoked_tokens (jti, expires_at) VALUES ('j', 1)");
    if (!r) return Fail(r.error());
    return {};
  });
  ASSERT_TRUE(st) << st.error().detail;
  EXPECT_EQ(attempts, 2);
  EXPECT_EQ(Count("revoked_tokens"), 1);

  // Other failures are not retried.
  attempts = 0;
  st = db_->Transact([&](Tx& tx) -> Status {
    ++attempts;
    auto r = tx.Exec("INSERT INTO revoked_tokens (jti, expires_at) VALUES ('j', 1)");
    if (!r) return Fail(r.error());
    return {};
  });
  ASSERT_FALSE(st);
  EXPECT_EQ(attempts, 1);
}

std::string BackendName(const ::testing::TestParamInfo<std::string>& info) { return info.param; }

INSTANTIATE_TEST_SUITE_P(Backends, StoreContract, ::testing::Values("sqlite", "postgres"),
                         BackendName);
INSTANTIATE_TEST_SUITE_P(Backends, PostgresContract, ::testing::Values("postgres"), BackendName);

// --- opening, no server needed ---

TEST(OpenPostgres, UnreachableServerFailsFastWithAClearError) {
  // A port nobody listens on: bind one, then close it.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const int port = ntohs(addr.sin_port);
  ::close(fd);

  // A connect timeout far longer than the bound below: failing within the bound means the
  // refusal was taken at once, not waited out. The bound is generous (a loaded machine is slow).
  Options options;
  options.connect_timeout_s = 120;
  auto start = std::chrono::steady_clock::now();
  auto db = OpenDatabase(
      "postgres://portcullis:secret-pw@127.0.0.1:" + std::to_string(port) + "/portcullis", options);
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(db);
  EXPECT_LT(elapsed, 60s);
  EXPECT_EQ(db.error().description, "cannot connect to PostgreSQL at 127.0.0.1:" +
                                        std::to_string(port) + ": Connection refused");
  EXPECT_EQ(db.error().http_status, 503);
  EXPECT_EQ(db.error().detail.find("secret-pw"), std::string::npos);
  EXPECT_EQ(db.error().description.find('\n'), std::string::npos);
}

}  // namespace
}  // namespace portcullis::store
