#include "common/random.h"

#include <openssl/rand.h>

#include <cstdint>
#include <stdexcept>
#include <vector>

#include "common/encoding.h"

namespace portcullis {
namespace {

class OpenSslRandom final : public Random {
 public:
  void Fill(void* out, size_t n) override {
    if (RAND_bytes(static_cast<unsigned char*>(out), static_cast<int>(n)) != 1) {
      // Without entropy nothing we issue is safe; this is not recoverable.
      throw std::runtime_error("RAND_bytes failed");
    }
  }
};

}  // namespace

std::string Random::Token(size_t bytes) {
  std::string buf(bytes, '\0');
  Fill(buf.data(), bytes);
  return Base64UrlEncode(buf);
}

std::string Random::Uuid() {
  uint8_t b[16];
  Fill(b, sizeof b);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[b[i] >> 4]);
    out.push_back(kHex[b[i] & 15]);
  }
  return out;
}

Random& Random::System() {
  static OpenSslRandom random;
  return random;
}

}  // namespace portcullis
