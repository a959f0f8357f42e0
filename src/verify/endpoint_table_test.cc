#include "verify/endpoint_table.h"

#include <gtest/gtest.h>

namespace portcullis::verify {
namespace {

EndpointTable Pets() {
  return EndpointTable::FromEntries({
      {"/v1/pets@get", "pets.r"},
      {"/v1/pets@post", "pets.w"},
      {"/v1/pets/{id}@get", "pets.r pets.admin"},
      {"/v1/pets/{id}@delete", "pets.admin"},
      {"/v1/pets/mine@get", "pets.mine"},
      {"/v1/pets/{id}/toys/{toy}@get", "toys.r"},
      {"/v1/{kind}/count@get", "stats.r"},
      {"/public@GET", ""},
      {"getPet", "graphql.r"},  // not a REST id: skipped
  });
}

std::string ScopeOf(const EndpointTable& t, std::string_view method, std::string_view path) {
  const EndpointRule* r = t.Match(method, path);
  return r ? r->id : "(none)";
}

TEST(EndpointTable, LiteralsTemplatesAndMethods) {
  auto t = Pets();
  EXPECT_EQ(t.size(), 8u);
  EXPECT_EQ(t.skipped(), 1u);
  EXPECT_EQ(ScopeOf(t, "GET", "/v1/pets"), "/v1/pets@get");
  EXPECT_EQ(ScopeOf(t, "post", "/v1/pets"), "/v1/pets@post");
  EXPECT_EQ(ScopeOf(t, "PUT", "/v1/pets"), "(none)");
  EXPECT_EQ(ScopeOf(t, "GET", "/v1/pets/42"), "/v1/pets/{id}@get");
  EXPECT_EQ(ScopeOf(t, "DELETE", "/v1/pets/42"), "/v1/pets/{id}@delete");
  EXPECT_EQ(ScopeOf(t, "GET", "/v1/pets/42/toys/7"), "/v1/pets/{id}/toys/{toy}@get");
  EXPECT_EQ(ScopeOf(t, "GET", "/v1/pets/42/toys"), "(none)");  // {x} is exactly one segment
  EXPECT_EQ(ScopeOf(t, "GET", "/v1/pets/42/extra"), "(none)");
  EXPECT_EQ(ScopeOf(t, "GET", "/public"), "/public@GET");
  EXPECT_EQ(t.Match("GET", "/public")->method, "get");
}

TEST(EndpointTable, LiteralBeatsTemplate) {
  auto t = Pets();
  EXPECT_EQ(ScopeOf(t, "GET", "/v1/pets/mine"), "/v1/pets/mine@get");
  // /v1/{kind}/count vs /v1/pets/{id}: at "pets" the second is literal, so it wins.
  EXPECT_EQ(ScopeOf(t, "GET", "/v1/pets/count"), "/v1/pets/{id}@get");
  EXPECT_EQ(ScopeOf(t, "GET", "/v1/cats/count"), "/v1/{kind}/count@get");
}

TEST(EndpointTable, DecodesCanonicalPaths) {
  auto t = Pets();
  EXPECT_EQ(ScopeOf(t, "GET", "/v1/pets?limit=5"), "/v1/pets@get");
  EXPECT_EQ(ScopeOf(t, "GET", "/v1/pets#top"), "/v1/pets@get");
  EXPECT_EQ(ScopeOf(t, "GET", "/v1/pets/"), "/v1/pets@get");  // one trailing slash
  EXPECT_EQ(ScopeOf(t, "GET", "/v1/%70ets/mine"), "/v1/pets/mine@get");
  EXPECT_EQ(ScopeOf(t, "GET", "/v1/pets/a%20b"), "/v1/pets/{id}@get");
}

// Each of these could reach another endpoint upstream than the one it would match here, so
// each matches nothing (fail closed) instead of being normalised.
TEST(EndpointTable, RefusesPathsAnUpstreamCouldReadDifferently) {
  auto t = EndpointTable::FromEntries({
      {"/v1/{x}/secret@get", "pets.r"},
      {"/v1/admin/secret@get", "pets.admin"},
      {"/v1/pets@get", "pets.r"},
      {"/v1/pets/{id}@get", "pets.r"},
  });
  for (std::string_view path : {
           "/v1/admin;x/secret",     // RFC 3986 §3.3 path parameters (Tomcat, Spring drop them)
           "/v1/admin%3Bx/secret",   // ... encoded
           "/v1/admin%3bx/secret",   // ... lower-case escape
           "/v1/pets;jsessionid=1",  // on any segment
           "/v1/a%2Fb/secret",       // encoded slash
           "/v1/admin%5C/secret",    // encoded backslash
           "/v1/admin\\/secret",     // backslash
           "/v1/x/../admin/secret",  // dot-segments, raw
           "/v1/x/%2e%2e/admin/secret",  // ... encoded
           "/v1/x/.%2E/admin/secret",
           "/v1/./pets",
           "/v1/%2e/pets",
           "/v1//admin/secret",  // empty segment
           "//v1/pets",
           "/v1/pets//",
           "/v1/pets/a%00",            // NUL
           "/v1/pets/a%0a",            // control character
           "/v1/pets/%252e%252e",      // double encoding
           "/v1/pets/%zz",             // bad escape
           "/v1/adm\xC4\xB0n/secret",  // U+0130: Java's equalsIgnoreCase takes it for "i"
           "/v1/adm%C4%B1n/secret",    // U+0131, encoded
           "/v1/pets/\xC5\xBF",        // U+017F long s
           "/v1/\xE2\x84\xAA"
           "ey/secret",  // U+212A Kelvin sign
           "v1/pets",
           "",
       }) {
    auto m = t.Lookup("GET", path);
    EXPECT_EQ(m.status, MatchStatus::kRefusedPath) << path;
    EXPECT_EQ(m.rule, nullptr) << path;
    EXPECT_FALSE(m.why.empty()) << path;
  }
  std::string nul("/v1/pets/a\0b", 12);
  EXPECT_EQ(t.Lookup("GET", nul).status, MatchStatus::kRefusedPath);
}

TEST(EndpointTable, ExactCaseRefusesCaseVariantsOfDeclaredEndpoints) {
  auto t = EndpointTable::FromEntries({
      {"/v1/{x}/secret@get", "pets.r"},
      {"/v1/admin/secret@get", "pets.admin"},
      {"/v1/pets@get", "pets.r"},
      {"/v1/Mixed@get", "m.upper"},
      {"/v1/mixed@get", "m.lower"},
  });
  EXPECT_EQ(t.path_case(), PathCase::kExact);
  EXPECT_EQ(ScopeOf(t, "GET", "/v1/admin/secret"), "/v1/admin/secret@get");
  EXPECT_EQ(ScopeOf(t, "GET", "/v1/other/secret"), "/v1/{x}/secret@get");
  // Matched by the template byte for byte, but an upstream that ignores case routes it to the
  // admin endpoint: refused.
  EXPECT_EQ(t.Lookup("GET", "/v1/Admin/secret").status, MatchStatus::kCaseVariant);
  EXPECT_EQ(t.Lookup("GET", "/v1/ADMIN/secret").status, MatchStatus::kCaseVariant);
  EXPECT_EQ(t.Lookup("GET", "/V1/pets").status, MatchStatus::kCaseVariant);
  EXPECT_EQ(t.Lookup("GET", "/v1/PETS").status, MatchStatus::kCaseVariant);
  // Two endpoints declared in two cases: each exact spelling reaches its own.
  EXPECT_EQ(ScopeOf(t, "GET", "/v1/Mixed"), "/v1/Mixed@get");
  EXPECT_EQ(ScopeOf(t, "GET", "/v1/mixed"), "/v1/mixed@get");
  EXPECT_EQ(t.Lookup("GET", "/v1/MIXED").status, MatchStatus::kCaseVariant);
  // Methods are case-insensitive as before.
  EXPECT_EQ(ScopeOf(t, "get", "/v1/pets"), "/v1/pets@get");
  EXPECT_EQ(t.Lookup("GET", "/v2/pets").status, MatchStatus::kNoEndpoint);
}

TEST(EndpointTable, InsensitiveCaseMatchesLikeTheUpstream) {
  auto t = EndpointTable::FromEntries(
      {
          {"/v1/{x}/secret@get", "pets.r"},
          {"/v1/admin/secret@get", "pets.admin"},
      },
      PathCase::kInsensitive);
  EXPECT_EQ(ScopeOf(t, "GET", "/v1/Admin/secret"), "/v1/admin/secret@get");
  EXPECT_EQ(ScopeOf(t, "GET", "/V1/ADMIN/SECRET"), "/v1/admin/secret@get");
  EXPECT_EQ(ScopeOf(t, "GET", "/v1/other/secret"), "/v1/{x}/secret@get");
  // Unicode case folding differs between frameworks (e.g. U+212A KELVIN SIGN folds to "k" in
  // Java): non-ASCII paths are refused on a case-insensitive service.
  EXPECT_EQ(t.Lookup("GET", "/v1/%E2%84%AAey/secret").status, MatchStatus::kRefusedPath);
  EXPECT_EQ(t.Lookup("GET", "/v1/admin;a/secret").status, MatchStatus::kRefusedPath);
}

TEST(EndpointTable, DeclaredEndpointsWithRefusedLiteralsAreSkipped) {
  auto t = EndpointTable::FromEntries({
      {"/v1/a;b@get", "x"},
      {"/v1/../admin@get", "x"},
      {"/v1/ok@get", "x"},
  });
  EXPECT_EQ(t.size(), 1u);
  EXPECT_EQ(t.skipped(), 2u);
}

TEST(EndpointTable, FromRegistryJson) {
  auto t = EndpointTable::FromJson(
      R"([{"endpoint":"/v1/data@get","operation":"getData","scope":"data.r data.w"},)"
      R"({"endpoint":"/v1/data@post","operation":"postData","scope":"data.w"},)"
      R"({"operation":"broken"}, 7])");
  ASSERT_TRUE(t) << t.error();
  EXPECT_EQ(t->size(), 2u);
  EXPECT_EQ(t->skipped(), 2u);
  const EndpointRule* r = t->Match("GET", "/v1/data");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->scopes, (std::vector<std::string>{"data.r", "data.w"}));
  EXPECT_TRUE(EndpointTable::FromJson(R"({"endpoints":[]})"));
  EXPECT_FALSE(EndpointTable::FromJson("{"));
  EXPECT_FALSE(EndpointTable::FromJson(R"({"x":1})"));
}

TEST(Scopes, AnyOfTheEndpointsScopes) {
  // light-4j matchedScopes: the operation's scopes must intersect the token's.
  EXPECT_TRUE(AnyScope({"data.r", "data.w"}, {"data.w"}));
  EXPECT_TRUE(AnyScope({}, {}));
  EXPECT_FALSE(AnyScope({"data.r"}, {"data.w", "data"}));
  EXPECT_FALSE(AnyScope({"data.r"}, {}));
  // Set membership, not light-oauth2's substring match (reference §4.6).
  EXPECT_FALSE(AnyScope({"pet"}, {"petstore.r"}));
  EXPECT_EQ(SplitScopes("  a\tb  c "), (std::vector<std::string>{"a", "b", "c"}));
}

}  // namespace
}  // namespace portcullis::verify
