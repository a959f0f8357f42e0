#include "oauth/totp/qr_svg.h"

#include <qrencode.h>

#include <memory>

#include "common/encoding.h"

namespace portcullis::oauth::qr {
namespace {

struct QrFree {
  void operator()(QRcode* c) const { QRcode_free(c); }
};

}  // namespace

Result<std::vector<std::vector<bool>>> Encode(std::string_view text) {
  // QRcode_encodeData takes the length, so NUL bytes in `text` cannot cut it short.
  std::unique_ptr<QRcode, QrFree> code(
      QRcode_encodeData(static_cast<int>(text.size()),
                        reinterpret_cast<const unsigned char*>(text.data()), 0, QR_ECLEVEL_M));
  if (!code) {
    return Fail(Error::OAuth(400, "invalid_request", "The text does not fit in a QR code."));
  }
  const int n = code->width;
  std::vector<std::vector<bool>> modules(n, std::vector<bool>(n));
  for (int y = 0; y < n; ++y) {
    for (int x = 0; x < n; ++x) modules[y][x] = (code->data[y * n + x] & 1) != 0;
  }
  return modules;
}

Result<std::string> Svg(std::string_view text, int pixels, std::string_view label) {
  auto modules = Encode(text);
  if (!modules) return Fail(std::move(modules.error()));
  const int n = static_cast<int>(modules->size());
  const int size = n + 2 * kQuietZone;
  std::string s =
      "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " + std::to_string(size) + " " +
      std::to_string(size) + "\" width=\"" + std::to_string(pixels) + "\" height=\"" +
      std::to_string(pixels) + "\" shape-rendering=\"crispEdges\" role=\"img\" aria-label=\"" +
      EscapeMarkup(label) + "\"><rect width=\"" + std::to_string(size) + "\" height=\"" +
      std::to_string(size) + "\" fill=\"#fff\"/><path fill=\"#000\" d=\"";
  // One horizontal run of dark modules per subpath: "M x y h len v 1 h -len z".
  for (int y = 0; y < n; ++y) {
    for (int x = 0; x < n;) {
      if (!(*modules)[y][x]) {
        ++x;
        continue;
      }
      int run = 1;
      while (x + run < n && (*modules)[y][x + run]) ++run;
      s += "M" + std::to_string(x + kQuietZone) + " " + std::to_string(y + kQuietZone) + "h" +
           std::to_string(run) + "v1h-" + std::to_string(run) + "z";
      x += run;
    }
  }
  s += "\"/></svg>";
  return s;
}

}  // namespace portcullis::oauth::qr
