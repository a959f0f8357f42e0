#include "oauth/totp/qr_svg.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

namespace portcullis::oauth::qr {
namespace {

using Matrix = std::vector<std::vector<bool>>;

// Reads the SVG back into modules (with the quiet zone), following its own markup: the viewBox
// gives the size and every "M x y h n v1 h-n z" subpath paints n dark modules of row y.
Matrix FromSvg(const std::string& svg) {
  std::smatch m;
  EXPECT_TRUE(std::regex_search(svg, m, std::regex("viewBox=\"0 0 (\\d+) (\\d+)\"")));
  const int size = std::stoi(m[1]);
  EXPECT_EQ(m[1], m[2]);
  Matrix out(size, std::vector<bool>(size));
  EXPECT_TRUE(std::regex_search(svg, m, std::regex("<path fill=\"#000\" d=\"([^\"]*)\"")));
  const std::string d = m[1];
  static const std::regex run("M(\\d+) (\\d+)h(\\d+)v1h-(\\d+)z");
  size_t consumed = 0;
  for (auto it = std::sregex_iterator(d.begin(), d.end(), run); it != std::sregex_iterator();
       ++it) {
    EXPECT_EQ(static_cast<size_t>(it->position()), consumed) << "unexpected path data";
    consumed += it->length();
    const int x = std::stoi((*it)[1]), y = std::stoi((*it)[2]), n = std::stoi((*it)[3]);
    EXPECT_EQ(n, std::stoi((*it)[4]));
    for (int i = 0; i < n; ++i) out.at(y).at(x + i) = true;
  }
  EXPECT_EQ(consumed, d.size());
  return out;
}

// A finder pattern (ISO/IEC 18004 §6.3.3): 7x7 dark ring, light ring, 3x3 dark core.
bool FinderAt(const Matrix& q, int x0, int y0) {
  for (int y = 0; y < 7; ++y) {
    for (int x = 0; x < 7; ++x) {
      const bool ring = x == 0 || y == 0 || x == 6 || y == 6;
      const bool core = x >= 2 && x <= 4 && y >= 2 && y <= 4;
      if (q[y0 + y][x0 + x] != (ring || core)) return false;
    }
  }
  return true;
}

// zbarimg (Debian zbar-tools) on a PGM rasterised from the modules, 8 pixels per module.
std::string DecodeWithZbar(const Matrix& q) {
  const int scale = 8, size = static_cast<int>(q.size()) * scale;
  auto path =
      std::filesystem::temp_directory_path() / ("qr_svg_test_" + std::to_string(getpid()) + ".pgm");
  {
    std::ofstream f(path, std::ios::binary);
    f << "P5\n" << size << " " << size << "\n255\n";
    for (int y = 0; y < size; ++y) {
      for (int x = 0; x < size; ++x) f.put(q[y / scale][x / scale] ? '\0' : '\xff');
    }
  }
  std::string out;
  if (FILE* p = popen(
          ("zbarimg --quiet --raw -Sdisable -Sqrcode.enable " + path.string() + " 2>/dev/null")
              .c_str(),
          "r")) {
    char buf[512];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    const int rc = pclose(p);
    EXPECT_EQ(rc, 0) << "zbarimg failed (is zbar-tools installed? scripts/deps.sh test): " << out;
  } else {
    ADD_FAILURE() << "cannot run zbarimg";
  }
  std::filesystem::remove(path);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

constexpr std::string_view kUri =
    "otpauth://totp/Portcullis:alice?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Portcullis"
    "&algorithm=SHA1&digits=6&period=30";

TEST(QrSvg, StructureMatchesTheEncodedSymbol) {
  auto modules = Encode(kUri);
  ASSERT_TRUE(modules);
  const int n = static_cast<int>(modules->size());
  // Versions are 21 + 4k modules wide; this URI needs more than version 1.
  EXPECT_EQ((n - 21) % 4, 0);
  EXPECT_GT(n, 21);
  auto svg = Svg(kUri, 240, "QR code for \"alice\"");
  ASSERT_TRUE(svg);
  EXPECT_TRUE(svg->starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
  EXPECT_NE(svg->find("width=\"240\" height=\"240\""), std::string::npos);
  EXPECT_NE(svg->find("aria-label=\"QR code for &quot;alice&quot;\""), std::string::npos);
  // Nothing a strict CSP would block: no script, no style, no external reference.
  EXPECT_EQ(svg->find("<script"), std::string::npos);
  EXPECT_EQ(svg->find("style"), std::string::npos);
  EXPECT_EQ(svg->find("href"), std::string::npos);

  Matrix q = FromSvg(*svg);
  ASSERT_EQ(static_cast<int>(q.size()), n + 2 * kQuietZone);
  for (int y = 0; y < n + 2 * kQuietZone; ++y) {
    for (int x = 0; x < n + 2 * kQuietZone; ++x) {
      const bool inside =
          x >= kQuietZone && y >= kQuietZone && x < n + kQuietZone && y < n + kQuietZone;
      const bool expected = inside && (*modules)[y - kQuietZone][x - kQuietZone];
      ASSERT_EQ(q[y][x], expected) << x << "," << y;
    }
  }
  const int k = kQuietZone;
  EXPECT_TRUE(FinderAt(q, k, k));
  EXPECT_TRUE(FinderAt(q, k + n - 7, k));
  EXPECT_TRUE(FinderAt(q, k, k + n - 7));
  EXPECT_FALSE(FinderAt(q, k + n - 7, k + n - 7));  // the fourth corner has none
}

TEST(QrSvg, ZbarDecodesTheSvgBackToTheUri) {
  auto svg = Svg(kUri);
  ASSERT_TRUE(svg);
  EXPECT_EQ(DecodeWithZbar(FromSvg(*svg)), kUri);
}

TEST(QrSvg, TooLongTextIsRefused) {
  auto svg = Svg(std::string(4000, 'a'));
  ASSERT_FALSE(svg);
  EXPECT_EQ(svg.error().http_status, 400);
}

}  // namespace
}  // namespace portcullis::oauth::qr
