#pragma once
// Admin API of token-exchange delegation policies (RFC 8693): which client may exchange a
// subject token toward which audience (a registered service), with which scopes, and up to
// what chain depth.
//
//   GET /oauth2/client/{clientId}/delegation   portal.r   -> [{"audience","scope","maxDepth"}]
//   PUT /oauth2/client/{clientId}/delegation   portal.w   body: the same array; replaces all

namespace portcullis {
namespace http {
class Router;
}
namespace store {
class Database;
}
class Clock;

namespace api {

class AdminAuth;

void RegisterDelegationApi(http::Router& router, store::Database& db, const AdminAuth& auth,
                           const Clock& clock);

}  // namespace api
}  // namespace portcullis
