#pragma once
// Admin API of token-exchange delegation policies (RFC 8693): which client may exchange a
// subject token toward which audience (a registered service), with which scopes, and up to
// what chain depth.
//
//   GET /oauth2/client/{clientId}/delegation   portal.r   -> [{"audience","scope","maxDepth"}]
//   PUT /oauth2/client/{clientId}/delegation   portal.w   body: the same array; replaces all
//
// Store work runs as http::Blocking in transactions of `db`, through `clients` (the client must
// exist), `policies` and `audit`. Every reference must outlive the router.

namespace portcullis {
namespace http {
class Router;
}
namespace store {
class Database;
}
namespace oauth {
class ClientStore;
class DelegationStore;
namespace audit {
class AuditLog;
}
}  // namespace oauth
class Clock;

namespace api {

class AdminAuth;

void RegisterDelegationApi(http::Router& router, store::Database& db, oauth::ClientStore& clients,
                           oauth::DelegationStore& policies, oauth::audit::AuditLog& audit,
                           const AdminAuth& auth, const Clock& clock);

}  // namespace api
}  // namespace portcullis
