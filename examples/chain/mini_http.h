#pragma once
// The chain examples' HTTP side, kept out of the way: a blocking HTTP/1.1 server (one thread per
// connection, one request per connection, Content-Length bodies only).
// Production services use their own framework; what the examples show is around Authorize(),
// Call() and VerifyEvent().

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <string>
#include <string_view>
#include <thread>

#include "../common/json_string.h"

namespace mini_http {

struct Request {
  std::string method, target, body;
  std::map<std::string, std::string> headers;  // names lower-cased

  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

struct Response {
  int status = 200;
  std::string body = "{}";    // JSON
  std::string extra_headers;  // "Name: value\r\n" lines
};

inline void Handle(int fd, const std::function<Response(const Request&)>& handler) {
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string data;
  char buf[8192];
  size_t head_end;
  while ((head_end = data.find("\r\n\r\n")) == std::string::npos) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0 || data.size() > 32 * 1024) return;
    data.append(buf, static_cast<size_t>(n));
  }
  Request req;
  size_t eol = data.find("\r\n");
  std::string line = data.substr(0, eol);
  size_t sp1 = line.find(' '), sp2 = line.rfind(' ');
  if (sp1 == std::string::npos || sp2 <= sp1) return;
  req.method = line.substr(0, sp1);
  req.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  for (size_t pos = eol + 2; pos < head_end;) {
    size_t end = data.find("\r\n", pos);
    std::string field = data.substr(pos, end - pos);
    pos = end + 2;
    size_t colon = field.find(':');
    if (colon == std::string::npos) continue;
    std::string name = field.substr(0, colon);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    size_t v = field.find_first_not_of(' ', colon + 1);
    std::string value = v == std::string::npos ? "" : field.substr(v);
    auto [it, fresh] = req.headers.emplace(name, value);
    if (!fresh) it->second += "," + value;  // RFC 9110 §5.3
  }
  size_t length = 0;
  if (auto cl = req.Header("content-length"); !cl.empty()) length = std::stoul(cl);
  if (length > 1024 * 1024) return;
  req.body = data.substr(head_end + 4);
  while (req.body.size() < length) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return;
    req.body.append(buf, static_cast<size_t>(n));
  }
  Response res = handler(req);
  if (res.status == 204) res.body.clear();
  std::string out =
      "HTTP/1.1 " + std::to_string(res.status) +
      " -\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(res.body.size()) +
      "\r\nConnection: close\r\n" + res.extra_headers + "\r\n" + res.body;
  for (size_t off = 0; off < out.size();) {
    ssize_t n = ::send(fd, out.data() + off, out.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return;
    off += static_cast<size_t>(n);
  }
}

// Listens on `listen` (IPv4:PORT; port 0 picks one, written to `port_file` when non-empty) and
// serves forever. Returns 2 when it cannot listen.
inline int Serve(const std::string& listen, const std::string& port_file,
                 std::function<Response(const Request&)> handler) {
  size_t colon = listen.rfind(':');
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(std::stoi(listen.substr(colon + 1))));
  int server = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(server, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (inet_pton(AF_INET, listen.substr(0, colon).c_str(), &addr.sin_addr) != 1 ||
      ::bind(server, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(server, 128) != 0) {
    std::cerr << "cannot listen on " << listen << ": " << std::strerror(errno) << "\n";
    return 2;
  }
  socklen_t len = sizeof addr;
  getsockname(server, reinterpret_cast<sockaddr*>(&addr), &len);
  if (!port_file.empty()) {
    // Written whole, then renamed, so a reader never sees half a port number.
    std::ofstream(port_file + ".tmp") << ntohs(addr.sin_port) << "\n";
    std::rename((port_file + ".tmp").c_str(), port_file.c_str());
  }
  static std::atomic<int> active{0};
  for (;;) {
    int fd = ::accept4(server, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    if (active.load() >= 256) {  // a bound on threads; the caller retries
      ::close(fd);
      continue;
    }
    ++active;
    std::thread([fd, handler] {
      Handle(fd, handler);
      ::close(fd);
      --active;
    }).detach();
  }
}

// --flag value pairs (every flag takes a value); --help prints `usage`.
inline std::map<std::string, std::string> Flags(int argc, char** argv, const char* usage) {
  std::map<std::string, std::string> a;
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    if (k == "--help" || k.rfind("--", 0) != 0 || i + 1 >= argc) {
      std::cerr << usage;
      std::exit(k == "--help" ? 0 : 2);
    }
    a[k.substr(2)] = argv[++i];
  }
  return a;
}

}  // namespace mini_http
