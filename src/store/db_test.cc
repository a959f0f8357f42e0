// Unit tests of the driver-independent pieces: placeholder rewriting, Row access, error
// classification, URL handling and the embedded migrations.

#include "store/db.h"

#include <gtest/gtest.h>

#include <limits>

#include "store/internal.h"

namespace portcullis::store {
namespace {

using internal::RewritePlaceholders;

TEST(RewritePlaceholders, RewritesDollarNumbers) {
  EXPECT_EQ(RewritePlaceholders("SELECT $1, $2"), "SELECT ?1, ?2");
  EXPECT_EQ(RewritePlaceholders("WHERE a = $2 AND b = $1 OR c = $2"),
            "WHERE a = ?2 AND b = ?1 OR c = ?2");
  EXPECT_EQ(RewritePlaceholders("VALUES ($10,$11)"), "VALUES (?10,?11)");
}

TEST(RewritePlaceholders, LeavesLiteralsIdentifiersAndCommentsAlone) {
  EXPECT_EQ(RewritePlaceholders("SELECT '$1', $1"), "SELECT '$1', ?1");
  EXPECT_EQ(RewritePlaceholders("SELECT 'it''s $2', $2"), "SELECT 'it''s $2', ?2");
  EXPECT_EQ(RewritePlaceholders("SELECT \"col$1\" FROM t WHERE x = $1"),
            "SELECT \"col$1\" FROM t WHERE x = ?1");
  EXPECT_EQ(RewritePlaceholders("SELECT $1 -- not $2\n, $3"), "SELECT ?1 -- not $2\n, ?3");
  EXPECT_EQ(RewritePlaceholders("SELECT /* $9 */ $1"), "SELECT /* $9 */ ?1");
  EXPECT_EQ(RewritePlaceholders("SELECT $a, $"), "SELECT $a, $");
  // An unterminated literal is copied as is (SQLite then reports the syntax error).
  EXPECT_EQ(RewritePlaceholders("SELECT '$1"), "SELECT '$1");
}

TEST(Row, ReadsTextIntsAndNulls) {
  Row row({std::string("abc"), std::nullopt, std::string("-42"), std::string("x1"),
           std::string("9223372036854775807")});
  EXPECT_EQ(row.size(), 5u);
  EXPECT_EQ(row.Text(0), "abc");
  EXPECT_EQ(row.Str(0), "abc");
  EXPECT_FALSE(row.IsNull(0));
  EXPECT_TRUE(row.IsNull(1));
  EXPECT_EQ(row.Text(1), std::nullopt);
  EXPECT_EQ(row.Str(1), "");
  EXPECT_EQ(row.OptStr(1), std::nullopt);
  EXPECT_EQ(row.Int(1), 0);
  EXPECT_EQ(row.OptInt(1), std::nullopt);
  EXPECT_EQ(row.Int(2), -42);
  EXPECT_EQ(row.OptInt(3), std::nullopt);
  EXPECT_EQ(row.Int(4), std::numeric_limits<int64_t>::max());
  EXPECT_TRUE(row.IsNull(99));
}

TEST(Param, BuildersMakeTheRightAlternative) {
  std::vector<Param> p = {
      Text("a"), Int(7),           Null(), OptText(std::nullopt), OptText(std::string("b")),
      OptInt(3), std::string("c"), 5};
  EXPECT_EQ(std::get<std::string>(p[0]), "a");
  EXPECT_EQ(std::get<int64_t>(p[1]), 7);
  EXPECT_TRUE(std::holds_alternative<std::monostate>(p[2]));
  EXPECT_TRUE(std::holds_alternative<std::monostate>(p[3]));
  EXPECT_EQ(std::get<std::string>(p[4]), "b");
  EXPECT_EQ(std::get<int64_t>(p[5]), 3);
  EXPECT_EQ(std::get<std::string>(p[6]), "c");
  EXPECT_EQ(std::get<int64_t>(p[7]), 5);
}

TEST(Violations, AreDistinguishableAndKeepDriverTextInternal) {
  Error u = UniqueViolation("users(email)", "UNIQUE constraint failed: users.email");
  Error f = ForeignKeyViolation("FOREIGN KEY constraint failed");
  EXPECT_TRUE(IsUniqueViolation(u));
  EXPECT_FALSE(IsForeignKeyViolation(u));
  EXPECT_TRUE(IsForeignKeyViolation(f));
  EXPECT_FALSE(IsUniqueViolation(f));
  EXPECT_EQ(u.http_status, 409);
  EXPECT_EQ(u.oauth_error, "conflict");
  EXPECT_EQ(ViolatedKey(u), "users(email)");
  EXPECT_EQ(ViolatedKey(f), "");
  EXPECT_EQ(ViolatedKey(UniqueViolation("", "x")), "");
  EXPECT_EQ(u.description.find("users"), std::string::npos);
  EXPECT_NE(u.detail.find("UNIQUE constraint failed"), std::string::npos);
  EXPECT_FALSE(IsUniqueViolation(Error::Internal("x")));
}

TEST(Notify, PayloadSplitsAtFirstColon) {
  auto [k, id] = internal::SplitPayload("client:a:b");
  EXPECT_EQ(k, "client");
  EXPECT_EQ(id, "a:b");
  auto [k2, id2] = internal::SplitPayload("*");
  EXPECT_EQ(k2, "*");
  EXPECT_EQ(id2, "");
  EXPECT_FALSE(internal::ValidateNotify("a:b", "x"));
  EXPECT_FALSE(internal::ValidateNotify("", "x"));
  EXPECT_TRUE(internal::ValidateNotify("client", "x:y"));
}

TEST(OpenDatabase, RejectsUnknownScheme) {
  auto db = OpenDatabase("mysql://localhost/x");
  ASSERT_FALSE(db);
  EXPECT_NE(db.error().description.find("unsupported database URL scheme \"mysql\""),
            std::string::npos);
}

TEST(OpenDatabase, SqliteMissingDirectoryIsAClearError) {
  auto db = OpenDatabase("sqlite:/nonexistent-portcullis-dir/sub/db.sqlite");
  ASSERT_FALSE(db);
  EXPECT_EQ(db.error().description,
            "cannot open SQLite database /nonexistent-portcullis-dir/sub/db.sqlite: directory "
            "/nonexistent-portcullis-dir/sub does not exist");
}

TEST(OpenDatabase, SqliteInMemoryWorks) {
  auto db = OpenDatabase("sqlite::memory:");
  ASSERT_TRUE(db) << db.error().detail;
  auto n = (*db)->Migrate();
  ASSERT_TRUE(n) << n.error().detail;
  EXPECT_EQ(*n, (*db)->LatestSchemaVersion());
  auto rows = (*db)->Query("SELECT count(*) FROM clients");
  ASSERT_TRUE(rows);
  EXPECT_EQ((*rows)[0].Int(0), 0);
}

TEST(EmbeddedMigrations, BothDialectsHaveTheSameVersions) {
  auto s = internal::EmbeddedMigrations(Dialect::kSqlite);
  auto p = internal::EmbeddedMigrations(Dialect::kPostgres);
  ASSERT_FALSE(s.empty());
  ASSERT_EQ(s.size(), p.size());
  for (size_t i = 0; i < s.size(); ++i) {
    EXPECT_EQ(s[i].version, p[i].version);
    EXPECT_EQ(s[i].name, p[i].name);
    EXPECT_EQ(s[i].version, static_cast<int>(i) + 1);  // contiguous from 1
    EXPECT_FALSE(s[i].sql.empty());
    EXPECT_FALSE(p[i].sql.empty());
  }
  EXPECT_EQ(s.front().version, 1);
  EXPECT_EQ(s.front().name, "0001_initial");
}

}  // namespace
}  // namespace portcullis::store
