#pragma once
// What the form endpoints that authenticate a client share (RFC 6749 §2.3, §5.2): the token
// endpoint and its neighbours in the token service (introspection, revocation, PAR, device
// authorization). The authentication itself is TokenService::AuthenticateFormClient.
//
// Stateless functions; safe on any thread.

#include <memory>

#include "common/error.h"
#include "http/message.h"
#include "oauth/token/mtls.h"

namespace portcullis::api {

// Content-Type application/x-www-form-urlencoded (parameters such as charset allowed).
bool IsFormBody(const http::Request& req);

// The TLS client certificate that the server or a trusted proxy handed over (RFC 8705), or null.
std::shared_ptr<const oauth::ClientCertificate> ClientCertificateOf(const http::Request& req);

// An RFC 6749 §5.2 error answer: the JSON error, WWW-Authenticate on a failed client
// authentication (401), and Pragma: no-cache.
http::Response ClientFormError(const Error& e);

}  // namespace portcullis::api
