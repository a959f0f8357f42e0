#include "oauth/client/client_store.h"

namespace portcullis::oauth {

Error ClientExists(std::string_view client_id) {
  return Error::Status("ERR12019", "Client " + std::string(client_id) + " already exists.");
}

namespace client_store {

std::string_view ByteOrder(store::Dialect d) {
  return d == store::Dialect::kPostgres ? " COLLATE \"C\"" : " COLLATE BINARY";
}

std::string_view ForUpdate(store::Dialect d) {
  return d == store::Dialect::kPostgres ? " FOR UPDATE" : "";
}

}  // namespace client_store
}  // namespace portcullis::oauth
