#include "oauth/client/client_store.h"

namespace portcullis::oauth {

Error ClientExists(std::string_view client_id) {
  return Error::Status("ERR12019", "Client " + std::string(client_id) + " already exists.");
}

}  // namespace portcullis::oauth
