// Fuzzes the device flow's user-code normaliser (RFC 8628 §6.1), which reads what people type
// on the verification page: whatever it accepts is 8 letters of the alphabet, formats as
// XXXX-XXXX and normalises back to itself, in any case.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "oauth/device/user_code.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace portcullis::oauth;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto code = NormalizeUserCode(input);
  if (!code) return 0;
  if (code->size() != kUserCodeLength) __builtin_trap();
  for (char ch : *code) {
    if (kUserCodeAlphabet.find(ch) == std::string_view::npos) __builtin_trap();
  }
  std::string shown = FormatUserCode(*code);
  if (shown.size() != kUserCodeLength + 1 || shown[4] != '-') __builtin_trap();
  if (NormalizeUserCode(shown) != code) __builtin_trap();
  std::string lower = shown;
  for (char& ch : lower) ch = static_cast<char>(ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch);
  if (NormalizeUserCode(lower) != code) __builtin_trap();
  return 0;
}
