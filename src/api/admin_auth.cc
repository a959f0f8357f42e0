#include "api/admin_auth.h"

namespace portcullis::api {
namespace {

// A quoted-string for an auth-param (RFC 9110 §5.6.4), without the characters that would need
// escaping: descriptions are our own text.
std::string Quoted(std::string_view text) {
  std::string out = "\"";
  for (char ch : text) {
    if (ch != '"' && ch != '\\' && static_cast<unsigned char>(ch) >= 0x20) out.push_back(ch);
  }
  out.push_back('"');
  return out;
}

}  // namespace

oauth::Authority AuthorityOf(const Caller& caller) {
  oauth::Authority a;
  a.scopes = caller.scopes;
  a.trusted = caller.trusted;
  a.user_id = caller.user_id;
  a.roles = caller.roles;
  return a;
}

http::Response RenderAuthError(const Error& error) {
  http::Response r = http::RenderError(error);
  std::string challenge = "Bearer realm=\"portcullis\"";
  if (error.http_status == 401) {
    // RFC 6750 §3.1: no error code when the request carried no token at all.
    if (error.code != "ERR10002") {
      challenge += ", error=\"invalid_token\", error_description=" + Quoted(error.description);
    }
  } else if (error.http_status == 403) {
    challenge += ", error=\"insufficient_scope\", error_description=" + Quoted(error.description);
  } else {
    return r;
  }
  r.With("WWW-Authenticate", std::move(challenge));
  return r;
}

}  // namespace portcullis::api
