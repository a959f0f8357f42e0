#include "oauth/key/key_store.h"

#include <string>

namespace portcullis::oauth {

Error KeyNotFound(std::string_view kid) {
  return Error::Status("ERR12017", {}, "signing key not found: " + std::string(kid));
}

Error KeyConflict(std::string detail) {
  return Error::OAuth(409, "server_error", "Signing key changed concurrently.", std::move(detail));
}

}  // namespace portcullis::oauth
