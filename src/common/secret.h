#pragma once
// A value that must never reach a log: client secrets, passwords, codes, refresh tokens, keys.
// It has no operator<< and no implicit conversion; reading it takes an explicit Reveal().
// The buffer is wiped on destruction.

#include <string>
#include <string_view>

namespace portcullis {

class Secret {
 public:
  Secret() = default;
  explicit Secret(std::string value) : value_(std::move(value)) {}
  Secret(const Secret&) = default;
  Secret(Secret&&) noexcept = default;
  Secret& operator=(const Secret&) = default;
  Secret& operator=(Secret&&) noexcept = default;
  ~Secret();

  std::string_view Reveal() const { return value_; }
  bool empty() const { return value_.empty(); }

  // Constant-time comparison: the time depends on the lengths only.
  bool Equals(std::string_view other) const;

 private:
  std::string value_;
};

// Constant-time equality of two byte strings of equal length; false when lengths differ.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace portcullis
