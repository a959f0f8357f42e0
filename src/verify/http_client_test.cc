#include "verify/http_client.h"

#include <gtest/gtest.h>

#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iterator>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "jose/key.h"
#include "verify/fake_http_server.h"

namespace portcullis::verify::internal {
namespace {

using testing::FakeHttpServer;
using testing::FakeRequest;
using testing::FakeResponse;

TEST(ParseUrl, Forms) {
  auto u = ParseUrl("http://127.0.0.1:6886/oauth2/keys");
  ASSERT_TRUE(u);
  EXPECT_FALSE(u->tls);
  EXPECT_EQ(u->host, "127.0.0.1");
  EXPECT_EQ(u->port, 6886);
  EXPECT_EQ(u->target, "/oauth2/keys");
  u = ParseUrl("https://auth.example.com");
  ASSERT_TRUE(u);
  EXPECT_TRUE(u->tls);
  EXPECT_EQ(u->port, 443);
  EXPECT_EQ(u->target, "/");
  u = ParseUrl("http://[::1]:8080/a?b=c");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->target, "/a?b=c");
  EXPECT_EQ(ParseUrl("http://host?x")->target, "/?x");
}

TEST(ParseUrl, Refuses) {
  for (const char* bad :
       {"ftp://x/", "http://", "http://:80/", "http://u@h/", "http://h:0/", "http://h:70000/",
        "http://h/#frag", "http://h/a b", "//h/", "http://[::1/", "http://h:8x/"}) {
    EXPECT_FALSE(ParseUrl(bad)) << bad;
  }
}

TEST(MaxAge, Directives) {
  EXPECT_EQ(MaxAge("public, max-age=300"), 300);
  EXPECT_EQ(MaxAge("max-age=\"60\""), 60);
  EXPECT_EQ(MaxAge("no-cache"), 0);
  EXPECT_EQ(MaxAge("max-age=300, no-store"), 0);
  EXPECT_EQ(MaxAge("max-age=99999999999999999999"), 2147483648);
  EXPECT_EQ(MaxAge("public"), std::nullopt);
  EXPECT_EQ(MaxAge(""), std::nullopt);
  EXPECT_EQ(MaxAge("max-age=abc"), std::nullopt);
}

TEST(BasicAuth, FormEncodesBeforeBase64) {
  // RFC 6749 §2.3.1; "a:b" -> "YTpi".
  EXPECT_EQ(BasicAuth("a", "b"), "Basic YTpi");
  EXPECT_EQ(BasicAuth("a:", "b"), "Basic YSUzQTpi");  // "a%3A:b"
}

TEST(Fetch, ContentLengthAndHeaders) {
  FakeHttpServer server([](const FakeRequest& r) {
    FakeResponse out;
    out.headers = {{"ETag", "\"v1\""}, {"X-Seen-Auth", r.Header("authorization")}};
    out.body = r.method + " " + r.target + " " + r.Header("host") + " " + r.body;
    return out;
  });
  HttpRequest req;
  req.method = "POST";
  req.url = server.url("/p?q=1");
  req.headers = {{"Authorization", "Bearer t"}};
  req.body = "x=1";
  auto r = Fetch(req, {});
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "POST /p?q=1 127.0.0.1:" + std::to_string(server.port()) + " x=1");
  EXPECT_EQ(r->Header("etag"), "\"v1\"");
  EXPECT_EQ(r->Header("X-SEEN-AUTH"), "Bearer t");
}

TEST(Fetch, ChunkedAndCloseDelimited) {
  const std::string body(1000, 'z');
  FakeHttpServer chunked([&](const FakeRequest&) {
    FakeResponse out;
    out.body = body;
    out.chunked = true;
    return out;
  });
  auto r = Fetch({.url = chunked.url("/")}, {});
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->body, body);

  FakeHttpServer eof([&](const FakeRequest&) {
    FakeResponse out;
    out.body = body;
    out.no_length = true;
    return out;
  });
  r = Fetch({.url = eof.url("/")}, {});
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->body, body);
}

TEST(Fetch, NotModifiedHasNoBody) {
  FakeHttpServer server([](const FakeRequest&) {
    return FakeResponse{.raw = "HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\n\r\n"};
  });
  auto r = Fetch({.url = server.url("/")}, {});
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->status, 304);
  EXPECT_TRUE(r->body.empty());
}

TEST(Fetch, AnUnusableClientCertificateFailsBeforeTheHandshake) {
  FakeHttpServer server([](const FakeRequest&) { return FakeResponse{}; });
  std::string url = "https://" + server.url("/").substr(7);
  HttpOptions o;
  o.timeout = std::chrono::milliseconds(2000);
  o.cert_file = "/nonexistent/client.pem";
  o.key_file = "/nonexistent/client.key";
  auto r = Fetch({.url = url}, o);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("tls client certificate"), std::string::npos) << r.error();
}

TEST(Fetch, SkipsInterimResponses) {
  FakeHttpServer server([](const FakeRequest&) {
    return FakeResponse{.raw =
                            "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n"
                            "Content-Length: 2\r\n\r\nok"};
  });
  auto r = Fetch({.url = server.url("/")}, {});
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "ok");
}

TEST(Fetch, EnforcesLimits) {
  FakeHttpServer big(
      [](const FakeRequest&) { return FakeResponse{.body = std::string(5000, 'a')}; });
  HttpOptions small;
  small.max_body_bytes = 4096;
  auto r = Fetch({.url = big.url("/")}, small);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("too large"), std::string::npos) << r.error();

  FakeHttpServer chunked([](const FakeRequest&) {
    return FakeResponse{.body = std::string(5000, 'a'), .chunked = true};
  });
  EXPECT_FALSE(Fetch({.url = chunked.url("/")}, small));

  FakeHttpServer headers([](const FakeRequest&) {
    return FakeResponse{.headers = {{"X-Big", std::string(20000, 'h')}}};
  });
  EXPECT_FALSE(Fetch({.url = headers.url("/")}, {}));
}

TEST(ParseResponse, BoundsInterimResponses) {
  std::string interim;
  for (int i = 0; i < 8; ++i) interim += "HTTP/1.1 102 Processing\r\n\r\n";
  std::string final = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
  auto r = ParseResponse(interim + final, "GET", {});
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->body, "ok");
  r = ParseResponse(interim + "HTTP/1.1 102 Processing\r\n\r\n" + final, "GET", {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), "too many interim responses");
}

TEST(ParseResponse, BoundsTheWholeResponseNotOnlyTheBody) {
  // A tiny body in 1-byte chunks, each with a long chunk extension: every line is within its
  // own limit, the body is within max_body_bytes, yet the peer sends far more than both.
  HttpOptions small;
  small.max_header_bytes = 1024;
  small.max_body_bytes = 1024;
  std::string framed = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 100; ++i) framed += "1;ext=" + std::string(1000, 'x') + "\r\na\r\n";
  framed += "0\r\n\r\n";
  auto r = ParseResponse(framed, "GET", small);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("response too large"), std::string::npos) << r.error();
  // The same body with lean framing passes.
  std::string lean = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 100; ++i) lean += "1\r\na\r\n";
  lean += "0\r\n\r\n";
  r = ParseResponse(lean, "GET", small);
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->body, std::string(100, 'a'));
}

TEST(Fetch, RejectsMalformedAnswers) {
  for (const char* raw : {"garbage\r\n\r\n", "HTTP/1.1 2000 OK\r\n\r\n",
                          "HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
                          "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
                          "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
                          "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
                          "HTTP/1.1 200 OK\r\nno colon\r\n\r\n"}) {
    FakeHttpServer server([&](const FakeRequest&) { return FakeResponse{.raw = raw}; });
    EXPECT_FALSE(Fetch({.url = server.url("/")}, {})) << raw;
  }
}

TEST(Fetch, TimesOutOnASilentPeer) {
  // A listening socket that never accepts: the connection completes (backlog) but no answer.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::listen(fd, 8);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  HttpOptions quick;
  quick.timeout = std::chrono::milliseconds(200);
  auto start = std::chrono::steady_clock::now();
  auto r = Fetch({.url = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/"}, quick);
  auto took = std::chrono::steady_clock::now() - start;
  ::close(fd);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("timeout"), std::string::npos) << r.error();
  // The 200 ms timeout fired (the error says so); the bound only catches a hang, generously.
  EXPECT_LT(took, std::chrono::seconds(30));
}

// getaddrinfo has no timeout of its own: a lookup that hangs must not hold Fetch past its
// deadline. The seam stands in for a resolver that never answers.
TEST(Fetch, NameResolutionStopsAtTheDeadline) {
  struct Gate {
    std::mutex mu;
    std::condition_variable cv;
    bool open = false;
    std::atomic<int> calls{0};
  };
  auto gate = std::make_shared<Gate>();
  HttpOptions quick;
  quick.timeout = std::chrono::milliseconds(200);
  quick.resolver = [gate](const char*, const char*, const addrinfo*, addrinfo**) {
    ++gate->calls;
    std::unique_lock lock(gate->mu);
    gate->cv.wait(lock, [&] { return gate->open; });
    return EAI_NONAME;
  };
  auto start = std::chrono::steady_clock::now();
  auto r = Fetch({.url = "http://hangs.test:8080/"}, quick);
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), "resolve hangs.test: timeout");
  EXPECT_EQ(gate->calls.load(), 1);
  EXPECT_LT(took, std::chrono::seconds(30));  // catches a hang only; the error names the cause
  {
    std::lock_guard lock(gate->mu);
    gate->open = true;  // the abandoned lookup ends on its own
  }
  gate->cv.notify_all();
}

// Only lookups abandoned at a deadline are capped: many callers still waiting for theirs (a
// cold start fetching many jwksUri hosts at once) all get their lookup.
TEST(Fetch, LookupsStillAwaitedAreNotCapped) {
  constexpr int kCallers = 40;  // above the cap on abandoned lookups
  struct Barrier {
    std::mutex mu;
    std::condition_variable cv;
    int arrived = 0;
  };
  auto barrier = std::make_shared<Barrier>();
  HttpOptions options;
  options.timeout = std::chrono::seconds(60);
  options.resolver = [barrier](const char*, const char*, const addrinfo*, addrinfo**) {
    std::unique_lock lock(barrier->mu);
    ++barrier->arrived;
    barrier->cv.notify_all();
    // Every lookup is in flight at once before any answers.
    barrier->cv.wait_for(lock, std::chrono::seconds(30),
                         [&] { return barrier->arrived >= kCallers; });
    return EAI_NONAME;
  };
  std::vector<std::string> errors(kCallers);
  std::vector<std::thread> callers;
  for (int i = 0; i < kCallers; ++i) {
    callers.emplace_back([&, i] {
      auto r = Fetch({.url = "http://svc" + std::to_string(i) + ".test:8080/"}, options);
      errors[i] = r ? "fetched" : r.error();
    });
  }
  for (auto& t : callers) t.join();
  EXPECT_EQ(barrier->arrived, kCallers);
  for (int i = 0; i < kCallers; ++i) {
    EXPECT_EQ(errors[i].find("too many"), std::string::npos) << errors[i];
    EXPECT_EQ(errors[i].find("timeout"), std::string::npos) << errors[i];
  }
}

// IP literals are never looked up; names go through the resolver and still connect.
TEST(Fetch, LiteralsSkipTheResolverAndNamesUseIt) {
  FakeHttpServer server([](const FakeRequest&) { return FakeResponse{.body = "ok"}; });
  auto calls = std::make_shared<std::atomic<int>>(0);
  HttpOptions options;
  options.resolver = [calls](const char*, const char* port, const addrinfo* hints, addrinfo** res) {
    ++*calls;
    return ::getaddrinfo("127.0.0.1", port, hints, res);  // every name is loopback here
  };
  auto r = Fetch({.url = server.url("/")}, options);
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(calls->load(), 0);
  r = Fetch({.url = "http://svc.test:" + std::to_string(server.port()) + "/"}, options);
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->body, "ok");
  EXPECT_EQ(calls->load(), 1);
  auto v6 = Fetch({.url = "http://[::1]:1/"}, options);  // refused or unreachable, not looked up
  EXPECT_FALSE(v6);
  EXPECT_EQ(calls->load(), 1);
}

TEST(Fetch, RefusedConnectionFails) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);  // bound, never listened, now closed: nothing listens on that port
  auto r = Fetch({.url = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/"}, {});
  EXPECT_FALSE(r);
}

TEST(Fetch, RefusesHeaderInjection) {
  HttpRequest req;
  req.url = "http://127.0.0.1:1/";
  req.headers = {{"X", "a\r\nEvil: 1"}};
  auto r = Fetch(req, {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), "bad request header");
}

// --- Keep-alive (RFC 9112 §9.3) ---

TEST(ParseResponse, TellsWhetherTheConnectionPersists) {
  struct Case {
    const char* raw;
    const char* method;
    bool persistent;
  };
  for (const Case& c : {
           Case{"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", "GET", true},
           Case{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n", "GET",
                true},
           Case{"HTTP/1.1 204 No Content\r\n\r\n", "GET", true},
           Case{"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n", "GET", true},
           Case{"HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n", "GET", true},
           Case{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "HEAD", true},
           Case{"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n", "HEAD", true},
           Case{"HTTP/1.1 200 OK\r\n\r\nto the end", "GET", false},
           Case{"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok", "GET",
                false},
           Case{"HTTP/1.1 200 OK\r\nConnection: keep-alive, CLOSE\r\nContent-Length: 0\r\n\r\n",
                "GET", false},
           Case{"HTTP/1.1 200 OK\r\nConnection: te\r\nConnection: close\r\nContent-Length: "
                "0\r\n\r\n",
                "GET", false},
           Case{"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", "GET", false},
       }) {
    bool persistent = !c.persistent;
    auto r = ParseResponse(c.raw, c.method, {}, &persistent);
    ASSERT_TRUE(r) << c.raw << ": " << r.error();
    EXPECT_EQ(persistent, c.persistent) << c.raw;
  }
}

// RFC 9112 §6.3: framing two parties could read differently is refused, never reused.
TEST(ParseResponse, RefusesAmbiguousFraming) {
  for (const char* raw : {
           "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 7\r\n\r\nokHTTP/1",
           "HTTP/1.1 200 OK\r\nContent-Length: 2, 7\r\n\r\nokHTTP/1",
           "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n"
           "2\r\nok\r\n0\r\n\r\n",
           "HTTP/1.1 200 OK\r\nContent-Length: 22\r\ntransfer-encoding: CHUNKED\r\n\r\n"
           "2\r\nok\r\n0\r\n\r\n",
           "HTTP/1.1 200 OK\r\nTransfer-Encoding: identity, chunked\r\nContent-Length: 2\r\n\r\n"
           "2\r\nok\r\n0\r\n\r\n",
           "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"
           "2\r\nok\r\n0\r\n\r\n",
           "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, identity\r\n\r\n2\r\nok\r\n0\r\n\r\n",
           "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n"
           "2\r\nok\r\n0\r\n\r\n",
           "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
           "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nok",
           "HTTP/1.1 200 OK\r\nTransfer-Encoding:\r\n\r\nok",
           "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: x\r\n\r\nok",
       }) {
    bool persistent = true;
    auto r = ParseResponse(raw, "GET", {}, &persistent);
    EXPECT_FALSE(r) << raw;
    EXPECT_FALSE(persistent) << raw;
  }
}

// What servers sent before RFC 9112 tightened the rules is read as they meant it, but the
// connection is never reused after it: a proxy on the path may have read it otherwise.
TEST(ParseResponse, ReadsLenientFramingButNeverReusesIt) {
  struct Case {
    const char* raw;
    const char* method;
    const char* body;
  };
  for (const Case& c : {
           Case{"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok", "GET", "ok"},
           Case{"HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\nok", "GET", "ok"},
           Case{"HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\nContent-Length: 2\r\n\r\nok",
                "GET", "ok"},
           Case{"HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\n\r\nto the end", "GET",
                "to the end"},
           Case{"HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\nTransfer-Encoding: "
                "chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
                "GET", "ok"},
           Case{"HTTP/1.1 200 OK\r\nTransfer-Encoding: identity, chunked\r\n\r\n"
                "2\r\nok\r\n0\r\n\r\n",
                "GET", "ok"},
           // Bodyless whatever the framing fields say.
           Case{"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 7\r\n\r\n", "HEAD", ""},
           Case{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
                "HEAD", ""},
           Case{"HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: gzip\r\n\r\n", "GET", ""},
           Case{"HTTP/1.1 304 Not Modified\r\nContent-Length: 4\r\nContent-Length: 4\r\n\r\n",
                "GET", ""},
           Case{"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nContent-Length: 9\r\n\r\n", "GET",
                ""},
           Case{"HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n", "GET", ""},
           Case{"HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n", "GET", ""},
       }) {
    bool persistent = true;
    auto r = ParseResponse(c.raw, c.method, {}, &persistent);
    ASSERT_TRUE(r) << c.raw << ": " << r.error();
    EXPECT_EQ(r->body, c.body) << c.raw;
    EXPECT_FALSE(persistent) << c.raw;
  }
}

// A keep-alive server that answers "<target>" with Content-Length.
std::unique_ptr<FakeHttpServer> KeepAliveServer(FakeHttpServer::Handler handler = nullptr) {
  if (!handler) {
    handler = [](const FakeRequest& r) { return FakeResponse{.body = r.target}; };
  }
  auto server = std::make_unique<FakeHttpServer>(std::move(handler));
  server->set_keep_alive(true);
  return server;
}

TEST(KeepAlive, SequentialFetchesShareOneConnection) {
  std::vector<std::string> connection_headers;
  std::mutex mu;
  auto server = KeepAliveServer([&](const FakeRequest& r) {
    std::lock_guard lock(mu);
    connection_headers.push_back(r.Header("connection"));
    return FakeResponse{.body = r.target};
  });
  for (const char* path : {"/a", "/b", "/c"}) {
    auto r = Fetch({.url = server->url(path)}, {});
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(r->body, path);
  }
  EXPECT_EQ(server->connections(), 1);
  EXPECT_EQ(IdleConnections(server->url("/"), {}), 1u);
  EXPECT_EQ(connection_headers, std::vector<std::string>(3, ""));

  // Pooling off: one connection per request, and the server is told so.
  HttpOptions no_reuse;
  no_reuse.reuse_connections = false;
  ASSERT_TRUE(Fetch({.url = server->url("/d")}, no_reuse));
  ASSERT_TRUE(Fetch({.url = server->url("/e")}, no_reuse));
  EXPECT_EQ(server->connections(), 3);
  EXPECT_EQ(connection_headers.back(), "close");
}

TEST(KeepAlive, ConnectionCloseIsNotReused) {
  // The server keeps its end open after the raw answer: only the header says close.
  auto server = KeepAliveServer([](const FakeRequest&) {
    return FakeResponse{.raw =
                            "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"};
  });
  for (int i = 0; i < 2; ++i) {
    auto r = Fetch({.url = server->url("/")}, {});
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(r->body, "ok");
    EXPECT_EQ(IdleConnections(server->url("/"), {}), 0u);
  }
  EXPECT_EQ(server->connections(), 2);
}

TEST(KeepAlive, AServerClosingAnIdleConnectionIsNotAnError) {
  auto server = KeepAliveServer();
  ASSERT_TRUE(Fetch({.url = server->url("/1")}, {}));
  EXPECT_EQ(IdleConnections(server->url("/"), {}), 1u);
  server->CloseIdle();  // the server's idle timeout
  auto r = Fetch({.url = server->url("/2")}, {});
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->body, "/2");
  EXPECT_EQ(server->connections(), 2);
  // A POST, which is not sent twice after a complete write, also goes through: the closed
  // connection is noticed and dropped before the request is written.
  server->CloseIdle();
  r = Fetch({.method = "POST", .url = server->url("/3"), .body = "x"}, {});
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->body, "/3");
  EXPECT_EQ(server->connections(), 3);
}

// The server takes the request on the reused connection and closes without a byte: the race
// between its idle close and our reuse. A replayable request goes once more, on a new
// connection; a POST does not, and nothing is retried on a fresh connection.
TEST(KeepAlive, RetriesOnceWhenAReusedConnectionClosesBeforeAnswering) {
  std::atomic<int> seen{0};
  std::atomic<int> drop_at{2};  // the n-th request (1-based) is dropped
  auto server = KeepAliveServer([&](const FakeRequest& r) {
    return FakeResponse{.body = r.method + " " + r.target, .drop = ++seen == drop_at};
  });
  ASSERT_TRUE(Fetch({.url = server->url("/1")}, {}));
  auto r = Fetch({.url = server->url("/2")}, {});
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->body, "GET /2");
  EXPECT_EQ(seen.load(), 3);
  EXPECT_EQ(server->connections(), 2);

  drop_at = 4;  // the next request, on the connection pooled by the retry
  r = Fetch({.method = "POST", .url = server->url("/post"), .body = "x"}, {});
  ASSERT_FALSE(r);
  EXPECT_EQ(seen.load(), 4);
  EXPECT_EQ(server->connections(), 2);

  drop_at = 6;  // /5 on a new connection (nothing idle), /6 on it again
  ASSERT_TRUE(Fetch({.url = server->url("/5")}, {}));
  r = Fetch({.method = "POST", .url = server->url("/6"), .body = "x", .replayable = true}, {});
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->body, "POST /6");
  EXPECT_EQ(seen.load(), 7);
  EXPECT_EQ(server->connections(), 4);

  drop_at = 9;  // pooling off: /7 (8th), then /8 on a fresh connection that is dropped
  HttpOptions no_reuse;
  no_reuse.reuse_connections = false;
  ASSERT_TRUE(Fetch({.url = server->url("/7")}, no_reuse));
  EXPECT_FALSE(Fetch({.url = server->url("/8")}, no_reuse));
  EXPECT_EQ(seen.load(), 9);
  EXPECT_EQ(server->connections(), 6);
}

TEST(KeepAlive, NoRetryOnceAResponseByteArrived) {
  std::atomic<int> seen{0};
  auto server = KeepAliveServer([&](const FakeRequest&) {
    if (++seen == 2) return FakeResponse{.raw = "HTTP/1.1 200 OK\r\nContent-Le", .close = true};
    return FakeResponse{.body = "ok"};
  });
  ASSERT_TRUE(Fetch({.url = server->url("/")}, {}));
  auto r = Fetch({.url = server->url("/")}, {});
  ASSERT_FALSE(r);
  EXPECT_EQ(seen.load(), 2);
  EXPECT_EQ(server->connections(), 1);
}

TEST(KeepAlive, AmbiguousFramingFailsAndIsNotReused) {
  std::atomic<int> seen{0};
  auto server = KeepAliveServer([&](const FakeRequest&) {
    if (++seen == 1) {
      // The second length would leave "HTTP/" ... on the connection as the next response.
      return FakeResponse{.raw =
                              "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: "
                              "40\r\n\r\nokHTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nforged"};
    }
    return FakeResponse{.body = "real"};
  });
  auto r = Fetch({.url = server->url("/")}, {});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("differing content-length"), std::string::npos) << r.error();
  EXPECT_EQ(IdleConnections(server->url("/"), {}), 0u);
  r = Fetch({.url = server->url("/")}, {});
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->body, "real");
  EXPECT_EQ(server->connections(), 2);
}

// Lenient framing (see ParseResponse.ReadsLenientFramingButNeverReusesIt) over a real
// connection: each response is read whole, and the next request goes on a new connection.
TEST(KeepAlive, LenientFramingIsReadButNotReused) {
  struct Case {
    const char* method;
    const char* raw;
    const char* body;
  };
  const std::vector<Case> cases = {
      {"GET", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok", "ok"},
      {"GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\nContent-Length: 2\r\n\r\nok",
       "ok"},
      {"GET",
       "HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\nTransfer-Encoding: chunked\r\n\r\n"
       "2\r\nok\r\n0\r\n\r\n",
       "ok"},
      {"HEAD", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 7\r\n\r\n", ""},
      {"GET", "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: gzip\r\n\r\n", ""},
      {"GET", "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n", ""},
  };
  std::atomic<size_t> seen{0};
  auto server = KeepAliveServer([&](const FakeRequest&) {
    size_t n = seen++;
    return FakeResponse{.raw = n < cases.size() ? cases[n].raw : ""};
  });
  for (size_t i = 0; i < cases.size(); ++i) {
    auto r = Fetch({.method = cases[i].method, .url = server->url("/")}, {});
    ASSERT_TRUE(r) << cases[i].raw << ": " << r.error();
    EXPECT_EQ(r->body, cases[i].body) << cases[i].raw;
    EXPECT_EQ(IdleConnections(server->url("/"), {}), 0u) << cases[i].raw;
    EXPECT_EQ(server->connections(), int(i + 1)) << cases[i].raw;
  }
}

// Busy connections are not kept forever: a connection is replaced once it is
// max_connection_age old (DNS changes and re-checked trust then take effect), and after
// max_connection_requests requests.
TEST(KeepAlive, ConnectionsAgeOutEvenWhenInUse) {
  auto server = KeepAliveServer();
  HttpOptions o;
  o.max_connection_age = std::chrono::milliseconds(150);
  o.max_connection_requests = 1 << 30;  // only the age counts here
  const auto start = std::chrono::steady_clock::now();
  int fetches = 0;
  while (std::chrono::steady_clock::now() - start < std::chrono::milliseconds(400)) {
    auto r = Fetch({.url = server->url("/")}, o);
    ASSERT_TRUE(r) << r.error();
    ++fetches;
  }
  EXPECT_GE(server->connections(), 2);  // at most 150 ms each over 400 ms
  EXPECT_LE(server->connections(), 4);  // and reused until then
  EXPECT_GT(fetches, server->connections());
}

TEST(KeepAlive, ConnectionsCarryAtMostMaxRequests) {
  auto server = KeepAliveServer();
  HttpOptions o;
  o.max_connection_requests = 3;
  for (int i = 1; i <= 7; ++i) {
    auto r = Fetch({.url = server->url("/" + std::to_string(i))}, o);
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(IdleConnections(server->url("/"), o), i % 3 == 0 ? 0u : 1u) << i;
  }
  EXPECT_EQ(server->connections(), 3);  // 1-3, 4-6, 7
  EXPECT_EQ(server->requests(), 7);
}

// A pre-forking host: the child must not write on the socket it inherited from its parent
// (the two would read each other's responses). It opens its own; the parent keeps its own.
TEST(KeepAlive, AForkedChildNeverUsesItsParentsConnections) {
  auto server = KeepAliveServer();
  const std::string url = server->url("/");
  ASSERT_TRUE(Fetch({.url = server->url("/parent")}, {}));
  ASSERT_EQ(IdleConnections(url, {}), 1u);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {  // only this thread exists here: no gtest, report by exit status
    // As a child in a new PID namespace (or with a recycled pid) would look: the pid no
    // longer tells, only the atfork flag does.
    SetPoolOwnerForTest(::getpid());
    int code = 0;
    if (IdleConnections(url, {}) != 0) code |= 1;
    auto r = Fetch({.url = server->url("/child")}, {});
    if (!r || r->body != "/child") code |= 2;
    ::_exit(code);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_EQ(server->connections(), 2);  // the child's own
  auto r = Fetch({.url = server->url("/parent2")}, {});
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->body, "/parent2");
  EXPECT_EQ(server->connections(), 2);  // the parent's connection survived the child
}

TEST(KeepAlive, ReadToEndIsNotReused) {
  auto server = KeepAliveServer(
      [](const FakeRequest&) { return FakeResponse{.body = "eof", .no_length = true}; });
  for (int i = 0; i < 2; ++i) {
    auto r = Fetch({.url = server->url("/")}, {});
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(r->body, "eof");
    EXPECT_EQ(IdleConnections(server->url("/"), {}), 0u);
  }
  EXPECT_EQ(server->connections(), 2);
}

TEST(KeepAlive, BytesPastTheResponseAreNotReused) {
  // The server keeps the connection open; the stray bytes would be read as the next response.
  std::atomic<int> seen{0};
  auto server = KeepAliveServer([&](const FakeRequest&) {
    if (++seen == 1) {
      return FakeResponse{
          .raw = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 500 X\r\n\r\n"};
    }
    return FakeResponse{.body = "fine"};
  });
  auto r = Fetch({.url = server->url("/")}, {});
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->body, "ok");
  EXPECT_EQ(IdleConnections(server->url("/"), {}), 0u);
  r = Fetch({.url = server->url("/")}, {});
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->body, "fine");
  EXPECT_EQ(server->connections(), 2);
}

TEST(KeepAlive, ACutBodyIsAnErrorAndNotReused) {
  std::atomic<int> seen{0};
  auto server = KeepAliveServer([&](const FakeRequest&) {
    int n = ++seen;
    // 1: the body stops short and the server waits (the connection stays open).
    if (n == 1) return FakeResponse{.raw = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort"};
    // 3: the body stops short and the server closes.
    if (n == 3) {
      return FakeResponse{.raw = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
                          .close = true};
    }
    return FakeResponse{.body = "whole"};
  });
  HttpOptions quick;
  quick.timeout = std::chrono::milliseconds(300);
  auto r = Fetch({.url = server->url("/")}, quick);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("timeout"), std::string::npos) << r.error();
  EXPECT_EQ(IdleConnections(server->url("/"), quick), 0u);
  r = Fetch({.url = server->url("/")}, quick);  // 2
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->body, "whole");
  EXPECT_EQ(server->connections(), 2);

  r = Fetch({.url = server->url("/")}, quick);  // 3, on the connection of 2
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("closed mid-body"), std::string::npos) << r.error();
  EXPECT_EQ(IdleConnections(server->url("/"), quick), 0u);
  EXPECT_EQ(seen.load(), 3);  // a response byte had arrived: no retry
  EXPECT_EQ(server->connections(), 2);
}

TEST(KeepAlive, ConcurrentFetchesAllSucceed) {
  auto server = KeepAliveServer();
  constexpr int kThreads = 4, kEach = 25;
  std::vector<int> ok(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        std::string path = "/t" + std::to_string(t) + "/" + std::to_string(i);
        auto r = Fetch({.url = server->url(path)}, {});
        ok[t] += r && r->body == path;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok, std::vector<int>(kThreads, kEach));
  EXPECT_EQ(server->requests(), kThreads * kEach);
  // At most one connection per thread: each is returned before its thread's next fetch, and
  // the pool keeps more than kThreads per host.
  EXPECT_LE(server->connections(), kThreads);
  EXPECT_GE(server->connections(), 1);
}

// A file path of this test process's own: ctest runs each test in its own process, several at
// once, and two of them writing one shared path would swap each other's certificates.
std::string TempPath(const std::string& name) {
  return ::testing::TempDir() + "/pv-" + std::to_string(::getpid()) + "-" + name;
}

// https:// with the peer verified against a CA file and the host name checked.
class TlsFetch : public ::testing::Test {
 protected:
  struct Cert {
    std::string cert_pem, key_pem, ca_file;
  };
  static Cert Make(const std::string& common_name) {
    auto key = jose::Key::Generate(jose::Alg::kES256).value();
    int64_t now = std::time(nullptr);
    Cert c;
    c.cert_pem = key.SelfSignedCertificatePem(common_name, now - 60, now + 3600).value();
    c.key_pem = std::string(key.PrivatePem().value().Reveal());
    c.ca_file = TempPath("ca-" + common_name + ".pem");
    std::ofstream(c.ca_file) << c.cert_pem;
    return c;
  }
  static FakeResponse Ok(const FakeRequest& r) { return FakeResponse{.body = "tls " + r.target}; }
};

TEST_F(TlsFetch, VerifiesTheServer) {
  Cert c = Make("localhost");
  FakeHttpServer server(Ok, c.cert_pem, c.key_pem);
  std::string url = "https://localhost:" + std::to_string(server.port()) + "/k";
  HttpOptions trust;
  trust.ca_file = c.ca_file;
  auto r = Fetch({.url = url}, trust);
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->body, "tls /k");

  // The system trust store does not know this self-signed certificate.
  r = Fetch({.url = url}, {});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("tls handshake"), std::string::npos) << r.error();
}

TEST_F(TlsFetch, ChecksTheHostName) {
  Cert c = Make("auth.example.com");
  FakeHttpServer server(Ok, c.cert_pem, c.key_pem);
  HttpOptions trust;
  trust.ca_file = c.ca_file;
  auto r = Fetch({.url = "https://localhost:" + std::to_string(server.port()) + "/"}, trust);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("hostname mismatch"), std::string::npos) << r.error();
  // An IP literal needs an IP in the certificate, which this one lacks.
  r = Fetch({.url = "https://127.0.0.1:" + std::to_string(server.port()) + "/"}, trust);
  EXPECT_FALSE(r);
}

TEST(KeepAlive, IdleConnectionsPerHostAreBounded) {
  // Ten requests in flight at once hold ten connections; only eight stay idle afterwards.
  constexpr int kAtOnce = 10;
  std::mutex mu;
  std::condition_variable cv;
  int arrived = 0;
  auto server = KeepAliveServer([&](const FakeRequest& r) {
    std::unique_lock lock(mu);
    ++arrived;
    cv.notify_all();
    cv.wait_for(lock, std::chrono::seconds(10), [&] { return arrived >= kAtOnce; });
    return FakeResponse{.body = r.target};
  });
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < kAtOnce; ++i) {
    threads.emplace_back([&] { ok += Fetch({.url = server->url("/")}, {}).has_value(); });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), kAtOnce);
  EXPECT_EQ(server->connections(), kAtOnce);
  EXPECT_EQ(IdleConnections(server->url("/"), {}), 8u);
}

// Pooled connections are keyed by scheme and TLS settings: http:// to a TLS port never gets a
// pooled TLS connection, nor does another trust store or client certificate.
TEST_F(TlsFetch, KeepAliveNeverSharesAcrossSchemesOrTrust) {
  Cert c = Make("localhost");
  FakeHttpServer server(Ok, c.cert_pem, c.key_pem);
  server.set_keep_alive(true);
  const std::string port = std::to_string(server.port());
  const std::string url = "https://localhost:" + port + "/k";
  HttpOptions trust;
  trust.ca_file = c.ca_file;
  trust.timeout = std::chrono::milliseconds(2000);
  for (int i = 0; i < 2; ++i) {
    auto r = Fetch({.url = url}, trust);
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(r->body, "tls /k");
  }
  EXPECT_EQ(server.connections(), 1);
  EXPECT_EQ(IdleConnections(url, trust), 1u);

  // Plain HTTP to the same host and port: a new connection, which the TLS server refuses.
  auto r = Fetch({.url = "http://localhost:" + port + "/k"}, trust);
  EXPECT_FALSE(r);
  EXPECT_EQ(server.connections(), 2);
  // The system trust store does not know the certificate: a new handshake, which fails.
  HttpOptions system = trust;
  system.ca_file.clear();
  r = Fetch({.url = url}, system);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("tls handshake"), std::string::npos) << r.error();
  EXPECT_EQ(server.connections(), 3);
  // Another client identity gets its own connection.
  Cert client = Make("client");
  HttpOptions with_cert = trust;
  with_cert.cert_file = client.ca_file;
  with_cert.key_file = TempPath("client-key.pem");
  std::ofstream(with_cert.key_file) << client.key_pem;
  r = Fetch({.url = url}, with_cert);
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(server.connections(), 4);
  EXPECT_EQ(IdleConnections(url, trust), 1u);
  EXPECT_EQ(IdleConnections(url, with_cert), 1u);
}

// A client certificate rewritten in place (same path) takes effect on the next call: the
// connection whose handshake presented the old one is not reused.
TEST_F(TlsFetch, ARotatedClientCertificateGetsANewConnection) {
  Cert c = Make("localhost");
  FakeHttpServer server(Ok, c.cert_pem, c.key_pem);
  server.set_keep_alive(true);
  const std::string url = "https://localhost:" + std::to_string(server.port()) + "/k";
  HttpOptions o;
  o.ca_file = c.ca_file;
  o.cert_file = TempPath("rotating-cert.pem");
  o.key_file = TempPath("rotating-key.pem");
  auto install = [&](const Cert& client) {
    std::ofstream(o.cert_file, std::ios::trunc) << client.cert_pem;
    std::ofstream(o.key_file, std::ios::trunc) << client.key_pem;
  };
  install(Make("client-one"));
  ASSERT_TRUE(Fetch({.url = url}, o));
  ASSERT_TRUE(Fetch({.url = url}, o));
  EXPECT_EQ(server.connections(), 1);
  install(Make("client-rotated"));
  auto r = Fetch({.url = url}, o);
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(server.connections(), 2);
  EXPECT_EQ(IdleConnections(url, o), 1u);
}

std::atomic<int> g_sigpipes{0};

// True once thread `tid` of this process sleeps (state S in /proc), within 5 s.
bool WaitUntilSleeping(pid_t tid) {
  const std::string path = "/proc/self/task/" + std::to_string(tid) + "/stat";
  auto end = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < end) {
    std::ifstream in(path);
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    size_t paren = stat.rfind(')');
    if (paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] == 'S') {
      return true;
    }
    std::this_thread::yield();
  }
  return false;
}

// OpenSSL writes (and so may raise SIGPIPE) in the handshake and in SSL_read, not only in
// SSL_write: the signal is blocked on the calling thread for the whole TLS exchange, and one
// raised meanwhile is consumed. The server raises it on the client thread while that thread
// waits for the response.
TEST_F(TlsFetch, SigpipeIsBlockedForTheWholeExchange) {
  struct sigaction count {
  }, old{};
  count.sa_handler = [](int) { ++g_sigpipes; };
  sigemptyset(&count.sa_mask);
  ASSERT_EQ(::sigaction(SIGPIPE, &count, &old), 0);
  const pid_t tid = ::gettid();
  const pthread_t self = ::pthread_self();
  std::atomic<bool> raised{false};
  Cert c = Make("localhost");
  FakeHttpServer server(
      [&](const FakeRequest& r) {
        if (WaitUntilSleeping(tid)) raised = ::pthread_kill(self, SIGPIPE) == 0;
        return Ok(r);
      },
      c.cert_pem, c.key_pem);
  HttpOptions o;
  o.ca_file = c.ca_file;
  auto r = Fetch({.url = "https://localhost:" + std::to_string(server.port()) + "/k"}, o);
  ASSERT_TRUE(r) << r.error();
  EXPECT_TRUE(raised.load());
  EXPECT_EQ(g_sigpipes.load(), 0);
  sigset_t pending;
  sigemptyset(&pending);
  ::sigpending(&pending);
  EXPECT_EQ(sigismember(&pending, SIGPIPE), 0);
  ::sigaction(SIGPIPE, &old, nullptr);
}

// A forked child drops the TLS connections it inherited without an OpenSSL call (another
// parent thread may have held OpenSSL's locks at fork time), even when its first fetch is plain
// http, and makes its own TLS connection when it needs one.
TEST_F(TlsFetch, AForkedChildLeavesItsParentsTlsConnectionsAlone) {
  Cert c = Make("localhost");
  FakeHttpServer tls(Ok, c.cert_pem, c.key_pem);
  tls.set_keep_alive(true);
  auto plain = KeepAliveServer();
  const std::string url = "https://localhost:" + std::to_string(tls.port()) + "/k";
  HttpOptions o;
  o.ca_file = c.ca_file;
  ASSERT_TRUE(Fetch({.url = url}, o));
  ASSERT_EQ(IdleConnections(url, o), 1u);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {  // no gtest here: report by exit status
    int code = 0;
    const size_t freed = TlsObjectsFreedForTest();
    auto r = Fetch({.url = plain->url("/child")}, {});
    if (!r || r->body != "/child") code |= 1;
    if (IdleConnections(url, o) != 0) code |= 2;
    if (TlsObjectsFreedForTest() != freed) code |= 4;
    r = Fetch({.url = url}, o);
    if (!r || r->body != "tls /k") code |= 8;
    ::_exit(code);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_EQ(tls.connections(), 2);  // the child's own
  auto r = Fetch({.url = url}, o);
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->body, "tls /k");
  EXPECT_EQ(tls.connections(), 2);  // the parent's connection survived the child
}

TEST_F(TlsFetch, PlainHttpToATlsPortFails) {
  Cert c = Make("localhost");
  FakeHttpServer server(Ok, c.cert_pem, c.key_pem);
  HttpOptions quick;
  quick.timeout = std::chrono::milliseconds(500);
  EXPECT_FALSE(Fetch({.url = "http://127.0.0.1:" + std::to_string(server.port()) + "/"}, quick));
}

}  // namespace
}  // namespace portcullis::verify::internal
