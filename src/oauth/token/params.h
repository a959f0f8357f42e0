#pragma once
// Request parameters of the token, introspection and revocation endpoints
// (application/x-www-form-urlencoded, RFC 6749 §3.2). A parameter sent twice is an error
// (RFC 6749 §3.1, §3.2), and so are oversized values.
//
// A Params owns its decoded fields. The views Get and Value return point into them: valid while
// the Params lives, and across a move of it (the field vector moves its buffer, not its
// elements). Immutable once parsed, so any number of threads may read one.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/encoding.h"
#include "common/error.h"

namespace portcullis::oauth {

class Params {
 public:
  // A hard ceiling, whatever server.max_params says: no grant needs a tenth of it.
  static constexpr size_t kMaxFields = 1000;

  // Parses a form body. ERR12000 when it is not a form or is malformed; invalid_request when a
  // parameter repeats or a value is longer than `max_value`.
  static Result<Params> FromForm(std::string_view body, size_t max_value = 8192);

  std::optional<std::string_view> Get(std::string_view name) const;
  // Empty when absent.
  std::string_view Value(std::string_view name) const;
  bool Has(std::string_view name) const { return Get(name).has_value(); }
  const FormFields& fields() const { return fields_; }

 private:
  FormFields fields_;
};

}  // namespace portcullis::oauth
