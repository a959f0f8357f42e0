#pragma once
// Persistence of signing keys. The SQL implementations live under src/store/; tests use
// MemoryKeyStore (memory_key_store.h). Calls block: never make them on an I/O thread.
//
// Several server instances may share one store, so state changes are compare-and-set on the
// current state: an implementation must apply UpdateState only when the stored state still
// equals `from` (e.g. UPDATE ... WHERE kid = ? AND state = ?) and report a conflict otherwise.

#include <optional>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "oauth/key/signing_key.h"

namespace portcullis::oauth {

struct KeyStateChange {
  KeyState from;
  KeyState to;
  std::optional<int64_t> retired_at;  // set when given
  std::optional<int64_t> expires_at;
};

// Error shapes every implementation uses, so callers can tell them apart.
Error KeyNotFound(std::string_view kid);  // ERR12017, 404
Error KeyConflict(std::string detail);    // http_status 409
inline bool IsKeyConflict(const Error& e) { return e.http_status == 409; }

class KeyStore {
 public:
  virtual ~KeyStore() = default;

  // Fails with KeyConflict when the kid exists.
  virtual Status Create(const SigningKeyRecord& record) = 0;
  // Every record, in any order.
  virtual Result<std::vector<SigningKeyRecord>> List() = 0;
  // KeyNotFound when the kid is unknown, KeyConflict when its state is not change.from.
  virtual Status UpdateState(std::string_view kid, const KeyStateChange& change) = 0;
};

}  // namespace portcullis::oauth
