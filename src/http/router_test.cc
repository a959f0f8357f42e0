#include "http/router.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace portcullis::http
