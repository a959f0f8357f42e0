#pragma once
// Time-based one-time passwords (RFC 6238 over RFC 4226 HOTP) with the parameters every
// authenticator app supports: HMAC-SHA-1, 6 digits, 30-second steps, and secrets shown as
// base32 (RFC 4648 §6, no padding) in an otpauth:// URI (Google Authenticator's key-uri format).
// Pure functions: thread-safe.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace portcullis::oauth::totp {

constexpr int64_t kPeriod = 30;
constexpr int kDigits = 6;
constexpr size_t kSecretBytes = 20;  // 160 bits, RFC 4226 §4's recommendation

// RFC 4226 §5.3: the HOTP value of `counter` under `key` (HMAC-SHA-1), `digits` decimal digits.
uint32_t Hotp(std::string_view key, uint64_t counter, int digits = kDigits);
// The time step of `unix_time` (RFC 6238 §4.2, T0 = 0).
int64_t StepAt(int64_t unix_time, int64_t period = kPeriod);
// The code for `step` as text, zero-padded to `digits`.
std::string CodeAt(std::string_view key, int64_t step, int digits = kDigits);

// RFC 4648 base32, upper case, without padding.
std::string Base32Encode(std::string_view bytes);
// Case-insensitive; spaces and padding are ignored. nullopt on other characters.
std::optional<std::string> Base32Decode(std::string_view text);

// otpauth://totp/<issuer>:<account>?secret=...&issuer=...&algorithm=SHA1&digits=6&period=30
std::string OtpauthUri(std::string_view issuer, std::string_view account,
                       std::string_view base32_secret);

// True when `code` is exactly kDigits ASCII digits (after removing spaces).
bool LooksLikeTotp(std::string_view code);

}  // namespace portcullis::oauth::totp
