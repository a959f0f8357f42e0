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

TEST(EndpointTable, NormalisesRequestPaths) {
  auto t = Pets();
  EXPECT_EQ(ScopeOf(t, "GET", "/v1/pets?limit=5"), "/v1/pets@get");
  EXPECT_EQ(ScopeOf(t, "GET", "/v1/pets/"), "/v1/pets@get");
  EXPECT_EQ(ScopeOf(t, "GET", "//v1//pets"), "/v1/pets@get");
  EXPECT_EQ(ScopeOf(t, "GET", "/v1/./pets"), "/v1/pets@get");
  EXPECT_EQ(ScopeOf(t, "GET", "/v1/pets/mine/../42"), "/v1/pets/{id}@get");
  EXPECT_EQ(ScopeOf(t, "GET", "/v1/%70ets/mine"), "/v1/pets/mine@get");
  EXPECT_EQ(ScopeOf(t, "GET", "/../../v1/pets"), "/v1/pets@get");
  // An encoded slash or NUL, or a bad escape, matches nothing rather than something else.
  EXPECT_EQ(ScopeOf(t, "GET", "/v1/pets/a%2Fb"), "(none)");
  EXPECT_EQ(ScopeOf(t, "GET", "/v1/pets/a%00"), "(none)");
  EXPECT_EQ(ScopeOf(t, "GET", "/v1/pets/%zz"), "(none)");
  EXPECT_EQ(ScopeOf(t, "GET", "v1/pets"), "(none)");
  EXPECT_EQ(ScopeOf(t, "GET", ""), "(none)");
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
