#include "common/error.h"

#include <array>

namespace portcullis {
namespace {

struct CatalogEntry {
  std::string_view code;
  int http_status;
  std::string_view message;
  std::string_view oauth_error;  // the RFC 6749 error a client of that world expects
  std::string_view description;
};

// light-4j status.yml, the codes light-oauth2 uses (reference §15), with the RFC 6749 / 7009 /
// 7662 error each one maps to.
constexpr std::array kCatalog = {
    CatalogEntry{"ERR10000", 401, "INVALID_AUTH_TOKEN", "invalid_token", "Invalid JWT token."},
    CatalogEntry{"ERR10001", 401, "AUTH_TOKEN_EXPIRED", "invalid_token", "Jwt token is expired."},
    CatalogEntry{"ERR10002", 401, "MISSING_AUTH_TOKEN", "invalid_token",
                 "No Authorization header or the token is not a Bearer token."},
    CatalogEntry{"ERR10003", 401, "INVALID_SCOPE_TOKEN", "invalid_token", "Invalid scope token."},
    CatalogEntry{"ERR10004", 401, "SCOPE_TOKEN_EXPIRED", "invalid_token", "Scope token expired."},
    CatalogEntry{"ERR10005", 403, "AUTH_TOKEN_SCOPE_MISMATCH", "insufficient_scope",
                 "The token does not carry a scope this call needs."},
    CatalogEntry{"ERR10007", 404, "INVALID_REQUEST_PATH", "not_found",
                 "Request path cannot be found."},
    CatalogEntry{"ERR10008", 405, "METHOD_NOT_ALLOWED", "method_not_allowed",
                 "Method is not allowed for this path."},
    CatalogEntry{"ERR10010", 500, "RUNTIME_EXCEPTION", "server_error", "Unexpected error."},
    CatalogEntry{"ERR10014", 400, "GENERIC_EXCEPTION", "invalid_request", "Generic exception."},
    CatalogEntry{"ERR10043", 400, "CLIENT_AUTHENTICATE_CLASS_NOT_FOUND", "invalid_request",
                 "Authenticate class not found."},
    CatalogEntry{"ERR11000", 400, "VALIDATOR_REQUEST_PARAMETER_QUERY_MISSING", "invalid_request",
                 "Query parameter is required."},
    CatalogEntry{"ERR11004", 400, "VALIDATOR_SCHEMA", "invalid_request",
                 "The request does not match the schema."},
    CatalogEntry{"ERR11017", 400, "VALIDATOR_REQUEST_PARAMETER_HEADER_MISSING", "invalid_request",
                 "Header is required."},
    CatalogEntry{"ERR11601", 400, "INCORRECT_TOKEN_TYPE", "invalid_request",
                 "The token carries no user id."},
    CatalogEntry{"ERR11620", 400, "PERMISSION_DENIED", "access_denied", "Permission denied."},
    CatalogEntry{"ERR12000", 400, "UNABLE_TO_PARSE_FORM_DATA", "invalid_request",
                 "Unable to parse form data."},
    CatalogEntry{"ERR12001", 400, "UNSUPPORTED_GRANT_TYPE", "unsupported_grant_type",
                 "Unsupported grant type."},
    CatalogEntry{"ERR12002", 401, "MISSING_AUTHORIZATION_HEADER", "invalid_client",
                 "Missing authorization header or client credentials."},
    CatalogEntry{"ERR12003", 401, "INVALID_AUTHORIZATION_HEADER", "invalid_client",
                 "Invalid authorization header."},
    CatalogEntry{"ERR12004", 401, "INVALID_BASIC_CREDENTIALS", "invalid_client",
                 "Invalid basic credentials."},
    CatalogEntry{"ERR12005", 400, "JSON_PROCESSING_EXCEPTION", "invalid_request",
                 "JSON processing error."},
    CatalogEntry{"ERR12007", 401, "UNAUTHORIZED_CLIENT", "invalid_client",
                 "Unauthorized client with wrong client secret."},
    CatalogEntry{"ERR12008", 401, "INVALID_AUTHORIZATION_CODE", "invalid_grant",
                 "Invalid authorization code."},
    CatalogEntry{"ERR12009", 401, "INVALID_CODE_REQUEST", "invalid_request",
                 "Invalid code request."},
    CatalogEntry{"ERR12011", 400, "PASSWORD_OR_PASSWORDCONFIRM_EMPTY", "invalid_request",
                 "Password or passwordConfirm is empty."},
    CatalogEntry{"ERR12012", 400, "PASSWORD_PASSWORDCONFIRM_NOT_MATCH", "invalid_request",
                 "Password and passwordConfirm do not match."},
    CatalogEntry{"ERR12013", 404, "USER_NOT_FOUND", "not_found", "User is not found."},
    CatalogEntry{"ERR12014", 404, "CLIENT_NOT_FOUND", "invalid_client", "Client is not found."},
    CatalogEntry{"ERR12015", 404, "SERVICE_NOT_FOUND", "not_found", "Service is not found."},
    CatalogEntry{"ERR12016", 401, "INCORRECT_PASSWORD", "invalid_grant", "Incorrect password."},
    CatalogEntry{"ERR12017", 404, "KEY_NOT_FOUND", "not_found", "Key is not found."},
    CatalogEntry{"ERR12018", 400, "SERVICE_ID_EXISTS", "invalid_request",
                 "Service id already exists."},
    CatalogEntry{"ERR12019", 400, "CLIENT_ID_EXISTS", "invalid_request",
                 "Client id already exists."},
    CatalogEntry{"ERR12020", 400, "USER_ID_EXISTS", "invalid_request", "User id already exists."},
    CatalogEntry{"ERR12021", 400, "EMAIL_EXISTS", "invalid_request", "Email already exists."},
    CatalogEntry{"ERR12022", 400, "USERNAME_REQUIRED", "invalid_request", "Username is required."},
    CatalogEntry{"ERR12023", 400, "PASSWORD_REQUIRED", "invalid_request", "Password is required."},
    CatalogEntry{"ERR12024", 400, "NOT_TRUSTED_CLIENT", "unauthorized_client",
                 "The client is not trusted for this grant type."},
    CatalogEntry{"ERR12025", 400, "MISSING_REDIRECT_URI", "invalid_grant",
                 "redirect_uri is required."},
    CatalogEntry{"ERR12026", 400, "MISMATCH_REDIRECT_URI", "invalid_grant",
                 "redirect_uri does not match."},
    CatalogEntry{"ERR12027", 400, "MISMATCH_SCOPE", "invalid_scope",
                 "The requested scope is not allowed."},
    CatalogEntry{"ERR12028", 400, "MISMATCH_CLIENT_ID", "invalid_grant",
                 "The token was issued to another client."},
    CatalogEntry{"ERR12029", 404, "REFRESH_TOKEN_NOT_FOUND", "invalid_grant",
                 "Refresh token is not found."},
    CatalogEntry{"ERR12030", 400, "INVALID_KEY_ID", "invalid_request", "Invalid key id."},
    CatalogEntry{"ERR12031", 400, "USER_ID_REQUIRED_FOR_CLIENT_AUTHENTICATED_USER_GRANT_TYPE",
                 "invalid_request", "userId is required."},
    CatalogEntry{"ERR12032", 400, "USER_TYPE_REQUIRED_FOR_CLIENT_AUTHENTICATED_USER_GRANT_TYPE",
                 "invalid_request", "userType is required."},
    CatalogEntry{"ERR12033", 400, "INVALID_CODE_CHALLENGE_METHOD", "invalid_request",
                 "Invalid code_challenge_method."},
    CatalogEntry{"ERR12034", 400, "CODE_CHALLENGE_TOO_SHORT", "invalid_request",
                 "code_challenge is too short."},
    CatalogEntry{"ERR12035", 400, "CODE_CHALLENGE_TOO_LONG", "invalid_request",
                 "code_challenge is too long."},
    CatalogEntry{"ERR12036", 400, "INVALID_CODE_CHALLENGE_FORMAT", "invalid_request",
                 "Invalid code_challenge format."},
    CatalogEntry{"ERR12037", 400, "INVALID_CODE_VERIFIER_FORMAT", "invalid_grant",
                 "Invalid code_verifier format."},
    CatalogEntry{"ERR12038", 400, "CODE_VERIFIER_TOO_SHORT", "invalid_grant",
                 "code_verifier is too short."},
    CatalogEntry{"ERR12039", 400, "CODE_VERIFIER_TOO_LONG", "invalid_grant",
                 "code_verifier is too long."},
    CatalogEntry{"ERR12040", 400, "CODE_VERIFIER_MISSING", "invalid_grant",
                 "code_verifier is missing."},
    CatalogEntry{"ERR12041", 400, "CODE_VERIFIER_FAILED", "invalid_grant",
                 "code_verifier does not match the code_challenge."},
    CatalogEntry{"ERR12042", 404, "SERVICE_ENDPOINT_NOT_FOUND", "not_found",
                 "Service endpoint is not found."},
    CatalogEntry{"ERR12043", 400, "DEREF_NOT_EXTERNAL", "invalid_request",
                 "derefClientId is only allowed for external clients."},
    CatalogEntry{"ERR12044", 400, "DEREF_CLIENT_NOT_MATCH", "invalid_request",
                 "The client may not dereference this token."},
    CatalogEntry{"ERR12045", 400, "DEREF_TOKEN_NOT_FOUND", "invalid_request",
                 "Reference token is not found."},
    CatalogEntry{"ERR12046", 400, "JWT_TOKEN_NOT_FOUND", "invalid_request",
                 "No JWT is stored for the reference token."},
    CatalogEntry{"ERR12047", 400, "PROVIDER_ID_NOT_EXISTING", "invalid_request",
                 "Provider id does not exist."},
    CatalogEntry{"ERR12048", 400, "PROVIDER_ID_EXISTS", "invalid_request",
                 "Provider id already exists."},
    CatalogEntry{"ERR12049", 400, "PROVIDER_ID_INVALID", "invalid_request",
                 "Provider id is invalid."},
    CatalogEntry{"ERR12051", 400, "HOST_IS_REQUIRED", "invalid_request", "host is required."},
    CatalogEntry{"ERR12052", 400, "AUTHORIZATION_CODE_NOT_FOUND", "invalid_grant",
                 "Authorization code is not found."},
};

}  // namespace

Error Error::Status(std::string_view code, std::string description, std::string detail) {
  for (const auto& e : kCatalog) {
    if (e.code == code) {
      return Error{e.http_status,
                   std::string(e.oauth_error),
                   std::string(e.code),
                   std::string(e.message),
                   description.empty() ? std::string(e.description) : std::move(description),
                   std::move(detail)};
    }
  }
  return Internal("unknown status code " + std::string(code));
}

Error Error::OAuth(int http_status, std::string oauth_error, std::string description,
                   std::string detail) {
  return Error{http_status, std::move(oauth_error), {},
               {},          std::move(description), std::move(detail)};
}

Error Error::Internal(std::string detail) {
  Error e = Status("ERR10010");
  e.detail = std::move(detail);
  return e;
}

Error Error::Unavailable(std::string detail) {
  return Error{503,
               "temporarily_unavailable",
               {},
               {},
               "The service is temporarily unavailable. Retry later.",
               std::move(detail)};
}

}  // namespace portcullis
