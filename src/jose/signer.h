#pragma once
// Produces JWS compact serialisations (RFC 7515 §7.1) with one key.
//
// The protected header {"alg":..,"kid":..,"typ":..} is serialised and base64url-encoded once at
// construction. Sign() is const and thread-safe; it is meant to be called concurrently from all
// I/O threads. Copies are cheap and share the prepared state (a refcounted immutable object).

#include <memory>
#include <string>
#include <string_view>

#include "common/error.h"
#include "jose/alg.h"
#include "jose/key.h"

namespace portcullis::jose {

class Signer {
 public:
  // `key` must hold a private key that supports `alg`. An empty `typ` is left out of the header.
  static Result<Signer> Create(Key key, Alg alg, std::string kid, std::string typ = "JWT");

  // `payload_json` is the claims set, already serialised; it is not parsed or checked here.
  Result<std::string> Sign(std::string_view payload_json) const;

  const std::string& kid() const;
  Alg alg() const;
  const Key& key() const;
  // base64url of the protected header.
  const std::string& encoded_header() const;

 private:
  struct State;
  explicit Signer(std::shared_ptr<const State> state) : state_(std::move(state)) {}
  std::shared_ptr<const State> state_;
};

}  // namespace portcullis::jose
