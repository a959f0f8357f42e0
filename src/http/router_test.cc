#include "http/router.h"

#include <gtest/gtest.h>

#include <memory>

#include "http/request_head.h"

namespace portcullis::http {
namespace {

Handler Named(std::string name) {
  return [name](Request&) -> Reply { return Response::Text(200, name); };
}

std::string Call(const Router& router, Request& req) {
  auto m = router.Find(req);
  if (!m.route) return std::to_string(m.status);
  return std::get<Response>(m.route->handler(req)).body;
}

Request Make(std::string method, std::string path) {
  Request r;
  r.method = std::move(method);
  r.target = std::move(path);
  r.path = r.target;
  return r;
}

TEST(Router, MatchesLiteralsBeforeParameters) {
  Router router;
  router.Add("GET", "/oauth2/key/{kid}", "key", Named("cert"));
  router.Add("GET", "/oauth2/keys", "key", Named("jwks"));
  router.Add("GET", "/oauth2/client/{id}/service/{sid}", "client", Named("link"));
  auto r1 = Make("GET", "/oauth2/keys");
  EXPECT_EQ(Call(router, r1), "jwks");
  auto r2 = Make("GET", "/oauth2/key/00100");
  EXPECT_EQ(Call(router, r2), "cert");
  EXPECT_EQ(r2.Param("kid"), "00100");
  auto r3 = Make("GET", "/oauth2/client/a%20b/service/AACT0001");
  EXPECT_EQ(Call(router, r3), "link");
  EXPECT_EQ(r3.Param("id"), "a b");
  EXPECT_EQ(r3.Param("sid"), "AACT0001");
}

TEST(Router, UnknownPathIs404WrongMethodIs405WithAllow) {
  Router router;
  router.Add("GET", "/oauth2/client", "client", Named("list"));
  router.Add("POST", "/oauth2/client", "client", Named("create"));
  auto r1 = Make("DELETE", "/oauth2/client");
  auto m = router.Find(r1);
  EXPECT_EQ(m.route, nullptr);
  EXPECT_EQ(m.status, 405);
  EXPECT_EQ(m.allow, "GET, POST");
  auto r2 = Make("GET", "/nope");
  EXPECT_EQ(router.Find(r2).status, 404);
  auto r3 = Make("GET", "/oauth2/client/");  // trailing slash is another path
  EXPECT_EQ(router.Find(r3).status, 404);
}

TEST(Router, HeadFallsBackToGet) {
  Router router;
  router.Add("GET", "/health", "core", Named("ok"));
  auto r = Make("HEAD", "/health");
  EXPECT_EQ(Call(router, r), "ok");
}

TEST(Router, EmptyParameterDoesNotMatch) {
  Router router;
  router.Add("GET", "/oauth2/user/{id}", "user", Named("user"));
  auto r = Make("GET", "/oauth2/user/");
  EXPECT_EQ(Call(router, r), "404");
}

TEST(Request, QueryParamsAreDecoded) {
  Request r = Make("GET", "/x");
  r.query = "a=1&redirect_uri=http%3A%2F%2Flocalhost%2Fcb&b=%zz";
  EXPECT_EQ(*r.QueryParam("redirect_uri"), "http://localhost/cb");
  EXPECT_FALSE(r.QueryParam("missing"));
  EXPECT_FALSE(r.QueryParam("b"));
}

TEST(Router, MethodsOfOnePatternShareOneAllowInRegistrationOrder) {
  Router router;
  router.Add("POST", "/oauth2/client/{id}", "client", Named("post"));
  router.Add("GET", "/oauth2/client/{id}", "client", Named("get"));
  router.Add("DELETE", "/oauth2/client/{id}", "client", Named("delete"));
  router.Add("GET", "/oauth2/client/{id}/secret", "client", Named("secret"));
  auto r1 = Make("PATCH", "/oauth2/client/c1");
  auto m = router.Find(r1);
  EXPECT_EQ(m.status, 405);
  EXPECT_EQ(m.allow, "POST, GET, DELETE");
  auto r2 = Make("DELETE", "/oauth2/client/c1");
  EXPECT_EQ(Call(router, r2), "delete");
  EXPECT_EQ(r2.Param("id"), "c1");
  auto r3 = Make("HEAD", "/oauth2/client/c1");
  EXPECT_EQ(Call(router, r3), "get");
  auto r4 = Make("POST", "/oauth2/client/c1/secret");
  EXPECT_EQ(router.Find(r4).status, 405);
  EXPECT_EQ(router.Find(r4).allow, "GET");
  auto r5 = Make("GET", "/oauth2/client/c1/secret/x");
  EXPECT_EQ(router.Find(r5).status, 404);
}

TEST(Router, AMoreLiteralPatternDecidesThePathEvenForAnotherMethod) {
  Router router;
  router.Add("GET", "/a/{x}", "t", Named("param"));
  router.Add("POST", "/a/b", "t", Named("literal"));
  auto r1 = Make("GET", "/a/b");  // /a/b is POST only: 405, no fall-back to /a/{x}
  auto m = router.Find(r1);
  EXPECT_EQ(m.status, 405);
  EXPECT_EQ(m.allow, "POST");
  auto r2 = Make("GET", "/a/c");
  EXPECT_EQ(Call(router, r2), "param");
  EXPECT_EQ(r2.Param("x"), "c");
}

TEST(Router, PatternsOfEqualPrecedenceAreMatchedTogether) {
  Router router;
  router.Add("GET", "/a/{x}", "t", Named("ax"));
  router.Add("PUT", "/{y}/b", "t", Named("yb"));
  router.Add("GET", "/{y}/b", "t", Named("yb-get"));
  auto r1 = Make("GET", "/a/b");  // both match with one literal: the first registered wins
  EXPECT_EQ(Call(router, r1), "ax");
  auto r2 = Make("PUT", "/a/b");
  EXPECT_EQ(Call(router, r2), "yb");
  EXPECT_EQ(r2.Param("y"), "a");
  auto r3 = Make("DELETE", "/a/b");
  auto m = router.Find(r3);
  EXPECT_EQ(m.status, 405);
  EXPECT_EQ(m.allow, "GET, PUT");
}

TEST(Router, RootAndLiteralPathsAreFoundDirectly) {
  Router router;
  router.Add("GET", "/", "core", Named("root"));
  router.Add("GET", "/health", "core", Named("health"));
  router.Add("GET", "/oauth2/keys", "key", Named("jwks"));
  auto r1 = Make("GET", "/");
  EXPECT_EQ(Call(router, r1), "root");
  auto r2 = Make("GET", "/health");
  EXPECT_EQ(Call(router, r2), "health");
  auto r3 = Make("GET", "/oauth2/keys/");
  EXPECT_EQ(Call(router, r3), "404");
  auto r4 = Make("GET", "//health");
  EXPECT_EQ(Call(router, r4), "404");
}

TEST(Request, CopiesAndMovesKeepTheirViewsIntoTheirOwnTarget) {
  auto original = std::make_unique<Request>(Make("GET", "/x?a=1"));
  original->path = std::string_view(original->target).substr(0, 2);
  original->query = std::string_view(original->target).substr(3);
  original->headers.emplace_back("authorization", "Bearer abc");
  Request copy = *original;
  Request moved = std::move(*original);
  original.reset();
  for (Request* r : {&copy, &moved}) {
    EXPECT_EQ(r->path, "/x");
    EXPECT_EQ(r->query, "a=1");
    EXPECT_EQ(r->QueryParam("a"), "1");
    EXPECT_EQ(r->path.data(), r->target.data());
    EXPECT_EQ(r->Header("Authorization"), "Bearer abc");
  }
  Request assigned;
  assigned = copy;
  EXPECT_EQ(assigned.path.data(), assigned.target.data());
  EXPECT_EQ(assigned.query, "a=1");
}

TEST(Request, HeadersViewTheParsedMessageLowerCasedAndOutliveCopies) {
  ServerOptions options;
  auto parsed = ParseRequest(
      "POST /oauth2/token?x=1 HTTP/1.1\r\nHost: example.test\r\nX-Custom-Header: Value With Case"
      "\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 3\r\n\r\na=b",
      options, "127.0.0.1");
  ASSERT_EQ(parsed.status, 0);
  std::vector<std::pair<std::string, std::string>> seen;
  for (const auto& [k, v] : parsed.request.headers) seen.emplace_back(k, v);
  EXPECT_EQ(seen, (std::vector<std::pair<std::string, std::string>>{
                      {"host", "example.test"},
                      {"x-custom-header", "Value With Case"},
                      {"content-type", "application/x-www-form-urlencoded"},
                      {"content-length", "3"}}));
  EXPECT_EQ(parsed.request.Header("X-CUSTOM-HEADER"), "Value With Case");
  EXPECT_FALSE(parsed.request.Header("x-custom"));
  EXPECT_EQ(parsed.request.body, "a=b");
  // A copy shares the parsed fields and adds its own; both stay valid after the original goes.
  auto holder = std::make_unique<ParsedRequest>(std::move(parsed));
  Headers copy = holder->request.headers;
  copy.emplace_back("x-added", "1");
  holder.reset();
  EXPECT_EQ(copy.Find("host"), "example.test");
  EXPECT_EQ(copy.Find("x-added"), "1");
  EXPECT_EQ(copy.size(), 5u);
}

}  // namespace
}  // namespace portcullis::http
