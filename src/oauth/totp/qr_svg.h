#pragma once
// QR codes (ISO/IEC 18004, via libqrencode) as SVG markup for the TOTP enrolment pages and the
// admin API: authenticator apps scan the otpauth:// URI from it. The SVG is plain markup (a
// white square and one black path, presentation attributes only): no script, no style attribute,
// so it renders inline under the pages' strict CSP (default-src 'none') and needs no data: URI.
// Pure functions: thread-safe (libqrencode's encoder is reentrant).

#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace portcullis::oauth::qr {

// Modules around the symbol that stay light (ISO/IEC 18004 §6.3.8 asks for 4).
constexpr int kQuietZone = 4;

// The symbol's modules, row by row (true: dark), without the quiet zone. Error correction
// level M, 8-bit mode, the smallest version that fits. 400 when `text` is too long.
Result<std::vector<std::vector<bool>>> Encode(std::string_view text);

// <svg viewBox="0 0 W W" ...> with the quiet zone; `pixels` is the rendered width and height.
// `label` is the accessible name (escaped here).
Result<std::string> Svg(std::string_view text, int pixels = 200,
                        std::string_view label = "QR code");

}  // namespace portcullis::oauth::qr
